"""The map widget in a real Kivy window under Xvfb: tiles from the cache in the data folder,
missing ones from a tile server with the app's User-Agent, failures without a crash.

A child process (this module run as a script) shows the GameMap over Kaiserslautern, where a
third of the tiles are cached (magenta), a third come from the test's tile server (cyan) and a
third fail (503). Then the tile server is unreachable and the map moves: nothing breaks.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from client import USER_AGENT
from tests.client.conftest import TileServer, kivy_environment, kivy_log, png, run_python
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.kivy, pytest.mark.slow]

ZOOM = 16
CENTRE = (49.4445, 7.7690)
MAGENTA, CYAN = (230, 0, 200), (0, 200, 220)


def tile_of(lat: float, lon: float, z: int) -> tuple[int, int]:
    """OSM tile numbers (x, y from the top) of a point."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n)
    return x, y


def kind(x: int, y: int) -> int:
    """0: cached before the start, 1: served, 2: the server fails."""
    return (x + y) % 3


def policy(z: int, x: int, y: int) -> tuple[int, str, bytes]:
    if kind(x, y) == 2:
        return 503, "text/plain", b"try later"
    return 200, "image/png", png(CYAN)


def share(path: Path, colour: tuple[int, int, int], tolerance: int = 12) -> float:
    """The share of a screenshot's pixels within tolerance of colour."""
    from PIL import Image

    with Image.open(path) as image:
        data = image.convert("RGB").tobytes()
    r, g, b = colour
    near = sum(
        1
        for i in range(0, len(data), 3)
        if abs(data[i] - r) <= tolerance
        and abs(data[i + 1] - g) <= tolerance
        and abs(data[i + 2] - b) <= tolerance
    )
    return near / (len(data) // 3)


@pytest.fixture(scope="module")
def run(xvfb_display, tmp_path_factory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("ui-map")
    tiles = folder / "data" / "tiles"
    cx, cy = tile_of(*CENTRE, ZOOM)
    seeded = []
    for x in range(cx - 4, cx + 5):
        for y in range(cy - 5, cy + 6):
            if kind(x, y) == 0:
                path = tiles / str(ZOOM) / str(x) / f"{y}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(png(MAGENTA))
                seeded.append((x, y))
    server = TileServer(policy)
    shots = ARTIFACTS / "client-ui"
    shots.mkdir(parents=True, exist_ok=True)
    spec = {
        "tiles": str(tiles),
        "tile_url": server.url,
        "shots": str(shots),
        "report": str(folder / "report.json"),
        "centre": CENTRE,
        "zoom": ZOOM,
    }
    (folder / "spec.json").write_text(json.dumps(spec))
    env = kivy_environment(xvfb_display, folder / "kivy-home")
    try:
        result = run_python(
            env, ["-m", "tests.client.test_ui_map", str(folder / "spec.json")], timeout_s=120
        )
    finally:
        server.close()
    report_path = Path(spec["report"])
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    assert result.returncode == 0 and not report.get("error"), (
        f"the map child failed ({result.returncode}): {report.get('error')}\n"
        f"{result.stderr[-3000:]}\n{kivy_log(env)}"
    )
    return {
        "report": report,
        "requests": server.requests,
        "tiles": tiles,
        "shots": shots,
        "seeded": seeded,
    }


def requested(run: dict[str, Any]) -> list[tuple[int, int]]:
    out = []
    for path, _ in run["requests"]:
        z, x, y = (int(v) for v in path.strip("/").removesuffix(".png").split("/"))
        assert z == ZOOM
        out.append((x, y))
    return out


def test_cached_tiles_are_shown_without_asking_the_server(run):
    asked = requested(run)
    assert asked, "the map asked for no tile at all"
    cx, cy = tile_of(*CENTRE, ZOOM)
    assert all(abs(x - cx) <= 4 and abs(y - cy) <= 5 for x, y in asked), "tiles far away"
    assert not [t for t in asked if kind(*t) == 0], "a cached tile was downloaded again"
    assert share(run["shots"] / "client-map-tiles.png", MAGENTA) > 0.1


def test_missing_tiles_come_from_the_server_with_the_apps_user_agent(run):
    assert {agent for _, agent in run["requests"]} == {USER_AGENT}
    served = [t for t in requested(run) if kind(*t) == 1]
    assert served
    for x, y in served:
        assert (run["tiles"] / str(ZOOM) / str(x) / f"{y}.png").read_bytes() == png(CYAN)
    assert share(run["shots"] / "client-map-tiles.png", CYAN) > 0.1


def test_a_failing_tile_is_asked_for_once_and_leaves_a_gap(run):
    failing = [t for t in requested(run) if kind(*t) == 2]
    assert failing and len(failing) == len(set(failing))
    for x, y in failing:
        assert not (run["tiles"] / str(ZOOM) / str(x) / f"{y}.png").exists()
    assert run["report"]["errors_first"] == len(failing)


def test_the_layer_draws_over_the_tiles_and_without_them(run):
    me = (25, 89, 255)
    assert share(run["shots"] / "client-map-tiles.png", me, 30) > 0.0002
    assert share(run["shots"] / "client-map-offline.png", me, 30) > 0.0002
    assert run["report"]["errors_offline"] > run["report"]["errors_first"]


# --- the child ------------------------------------------------------------------------------


def fake_snapshot(lat: float, lon: float) -> Any:
    """A Snapshot with a position, one open stop (area and marker) and one found stop."""
    from client.ar import Estimate
    from client.session import Snapshot
    from client.targets import Target
    from markers.geo import LatLon, destination

    here = LatLon(lat, lon)
    marker = destination(here, 45.0, 90.0)
    area = destination(marker, 200.0, 80.0)
    found = destination(here, 250.0, 160.0)
    target = Target(2, 2, "clue", area, 250.0, marker, 25.0, 90.0, 45.0)
    team = {"found": [{"stop": 1, "lat": found.lat, "lon": found.lon, "title": "Found"}]}
    return Snapshot(team=team, position=Estimate(here, 10.0), targets=(target,))


def child(spec: dict[str, Any]) -> int:
    from client.window import prepare_window

    prepare_window()
    from kivy.app import App
    from kivy.clock import Clock

    from client.screens.tour import grab_window
    from client.widgets.map import GameMap
    from client.widgets.tiles import TileCache

    report: dict[str, Any] = {"error": None}
    shots = Path(spec["shots"])

    class MapApp(App):
        def build(self) -> Any:
            self.cache = TileCache(spec["tiles"], spec["tile_url"])
            self.map = GameMap(self.cache, zoom=spec["zoom"])
            Clock.schedule_once(self.first, 0.5)
            return self.map

        def first(self, _dt: float) -> None:
            self.map.show(fake_snapshot(*spec["centre"]))
            Clock.schedule_once(self.tiles_in, 4.0)

        def tiles_in(self, _dt: float) -> None:
            grab_window(shots / "client-map-tiles.png")
            report["errors_first"] = self.cache.errors
            self.cache.url = "http://127.0.0.1:9/{z}/{x}/{y}.png"
            self.map.show(fake_snapshot(spec["centre"][0] + 0.03, spec["centre"][1] + 0.02))
            Clock.schedule_once(self.offline, 3.0)

        def offline(self, _dt: float) -> None:
            grab_window(shots / "client-map-offline.png")
            report["errors_offline"] = self.cache.errors
            self.stop()

    app = MapApp()
    try:
        app.run()
    except Exception as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"
    Path(spec["report"]).write_text(json.dumps(report))
    return 1 if report["error"] else 0


if __name__ == "__main__":
    sys.exit(child(json.loads(Path(sys.argv[1]).read_text())))
