"""Time one AR frame's work (smoothing, projecting 10 markers) against a 60 fps frame budget:
with the geodesy done per frame (project_target), and with the distance and bearing the session
computes once per fix (Target.distance_m / bearing_deg, then project)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from client import ar
from markers.geo import LatLon, destination, distance_and_bearing

FRUCHTHALLE = LatLon(49.44398, 7.76938)
FRAME_BUDGET_S = 1 / 60
FRAMES = 2000
MARKERS = 10


def timed(frame: Callable[[], None]) -> float:
    start = time.perf_counter()
    for _ in range(FRAMES):
        frame()
    return (time.perf_counter() - start) / FRAMES


def main() -> None:
    rng = random.Random(1)
    view = ar.View(1080, 1920, 60)
    markers = [
        destination(FRUCHTHALLE, rng.uniform(0, 360), rng.uniform(5, 150)) for _ in range(MARKERS)
    ]
    measured = [distance_and_bearing(FRUCHTHALLE, m) for m in markers]
    heading = ar.HeadingSmoother()

    def geodesy_per_frame() -> None:
        h = heading.update(rng.uniform(0, 360))
        for m in markers:
            ar.project_target(FRUCHTHALLE, m, h, view, pitch_deg=5)

    def bearings_per_fix() -> None:
        h = heading.update(rng.uniform(0, 360))
        for distance, bearing in measured:
            ar.project(ar.relative_bearing(bearing, h), distance, view, pitch_deg=5)

    for name, frame in (("project_target", geodesy_per_frame), ("project", bearings_per_fix)):
        per_frame = timed(frame)
        print(
            f"{name:>15}: {MARKERS} markers {per_frame * 1e6:7.0f} us per frame = "
            f"{per_frame / FRAME_BUDGET_S:6.1%} of a 60 fps frame (desktop; phones are slower)"
        )


if __name__ == "__main__":
    main()
