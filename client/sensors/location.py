"""Location providers: plyer's GPS on the phone (with the Android 12+ fix), a simulated GPX walk."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from client.sensors import Fix
from markers.geo import LatLon, destination, distance_and_bearing, distance_m
from routes.gpx import parse_gpx

FixCallback = Callable[[Fix], None]
StatusCallback = Callable[[str, str], None]

PREFERRED_PROVIDERS = ("gps", "network", "fused")
"""Providers asked for fixes; "passive" only repeats what other apps asked for."""


class SensorUnavailable(RuntimeError):
    """The sensor does not exist on this platform or the user refused the permission."""


# --- the phone: plyer -------------------------------------------------------------------------


def _system_elapsed_ns() -> int:
    """Android's SystemClock.elapsedRealtimeNanos() (through pyjnius)."""
    from jnius import autoclass

    return int(autoclass("android.os.SystemClock").elapsedRealtimeNanos())


def fix_time(location: Any, elapsed_now_ns: Callable[[], int] | None = None) -> datetime:
    """When the fix was taken, on the phone's own clock: now less the fix's age (from the
    time since boot), as every stamp of the app is the phone's clock turned into the server's
    (client/clock.py). A GPS fix's getTime() is the satellites' time, not the phone's: used
    only when the age is not known."""
    try:
        fix_ns = int(location.getElapsedRealtimeNanos())
        now_ns = int((elapsed_now_ns or _system_elapsed_ns)())
    except Exception:
        fix_ns = now_ns = -1
    age_s = (now_ns - fix_ns) / 1e9
    if fix_ns > 0 and 0 <= age_s < 3600:
        return datetime.now(UTC) - timedelta(seconds=age_s)
    millis = location.getTime()
    return datetime.fromtimestamp(millis / 1000, UTC) if millis else datetime.now(UTC)


def fix_from_location(location: Any, elapsed_now_ns: Callable[[], int] | None = None) -> Fix:
    """A Fix from an android.location.Location (through pyjnius)."""
    mock = False
    for name in ("isMock", "isFromMockProvider"):
        method = getattr(location, name, None)
        if method is not None:
            try:
                mock = bool(method())
                break
            except Exception:
                continue
    at = fix_time(location, elapsed_now_ns)
    accuracy = float(location.getAccuracy()) if location.hasAccuracy() else 50.0
    return Fix(float(location.getLatitude()), float(location.getLongitude()), accuracy, at, mock)


def fixed_listener_class(gps_module: Any) -> type:
    """plyer 2.1.0's _LocationListener with the method Android 12 (API 31) calls.

    Android 12 added LocationListener.onLocationChanged(List<Location>) as a default method;
    pyjnius proxies every interface method, so plyer 2.1.0's listener, which lacks it, raises
    NotImplementedError and the app crashes or never gets a fix (plyer issues 505, 657, 687;
    fixed upstream in PR 665 after 2.1.0). This subclass implements both overloads and hands
    the Location objects to the root (the AndroidGPS instance) as ``root.on_android_location``
    when present, so mock flag and time survive, else as plyer's keyword call.
    """
    from jnius import java_method

    class FixedLocationListener(gps_module._LocationListener):
        @java_method("(Landroid/location/Location;)V")
        def onLocationChanged(self, location: Any) -> None:
            _deliver(self.root, location)

        @java_method("(Ljava/util/List;)V", name="onLocationChanged")
        def onLocationChangedList(self, locations: Any) -> None:
            for i in range(locations.size()):
                _deliver(self.root, locations.get(i))

    FixedLocationListener.__name__ = "FixedLocationListener"
    return FixedLocationListener


def _deliver(root: Any, location: Any) -> None:
    handler = getattr(root, "on_android_location", None)
    if handler is not None:
        handler(location)
        return
    root.on_location(
        lat=location.getLatitude(),
        lon=location.getLongitude(),
        speed=location.getSpeed(),
        bearing=location.getBearing(),
        altitude=location.getAltitude(),
        accuracy=location.getAccuracy(),
    )


def patch_plyer_gps() -> bool:
    """Install the fixed listener in plyer's Android GPS module (idempotent); False off Android."""
    try:
        from plyer.platforms.android import gps as android_gps
    except ImportError:
        return False
    if getattr(android_gps._LocationListener, "__name__", "") != "FixedLocationListener":
        android_gps._LocationListener = fixed_listener_class(android_gps)
    return True


def _providers_guard(gps: Any, wanted: Sequence[str]) -> None:
    """Make plyer ask only enabled providers from ``wanted`` (not "passive"), never none.

    plyer 2.1.0 asks every provider getProviders(False) lists, including disabled ones, which
    throws on some phones; an empty list would wait for ever without a word.
    """
    manager = gps._location_manager
    enabled = [str(p) for p in manager.getProviders(True).toArray()]
    chosen = [p for p in wanted if p in enabled]
    if not chosen:
        raise SensorUnavailable(f"no location provider enabled (enabled: {enabled or 'none'})")

    class _Providers:
        def toArray(self) -> list[str]:
            return list(chosen)

    original = manager

    class _Manager:
        def getProviders(self, _enabled_only: bool) -> _Providers:
            return _Providers()

        def __getattr__(self, name: str) -> Any:
            return getattr(original, name)

    gps._location_manager = _Manager()


class PlyerLocation:
    """The phone's GPS through plyer, delivering Fix objects.

    Start it only once the location permission is granted: the app asks for it, together with
    the camera's, in one request (client/permissions.py). Callbacks come from Android's main
    looper thread, not Kivy's; wrap with @mainthread in the UI.
    """

    def __init__(
        self,
        min_time_ms: int = 1000,
        min_distance_m: float = 1.0,
        providers: Sequence[str] = PREFERRED_PROVIDERS,
        on_status: StatusCallback | None = None,
    ) -> None:
        self.min_time_ms = int(min_time_ms)
        self.min_distance_m = float(min_distance_m)
        self.providers = tuple(providers)
        self.on_status = on_status
        self._gps: Any = None
        self._callback: FixCallback | None = None
        self._running = False

    def start(self, callback: FixCallback) -> None:
        """Start plyer's GPS (the permission must be granted already)."""
        from plyer.utils import platform

        self._callback = callback
        if platform != "android":
            raise SensorUnavailable(f"plyer GPS needs Android, this is {platform}")
        patch_plyer_gps()
        try:
            self._start_gps()
        except Exception as exc:
            self._status("error", f"{type(exc).__name__}: {exc}")

    def _start_gps(self) -> None:
        from plyer import gps

        gps.on_android_location = self._on_location
        gps.configure(on_location=self._on_plyer_kwargs, on_status=self._status)
        _providers_guard(gps, self.providers)
        gps.start(minTime=self.min_time_ms, minDistance=self.min_distance_m)
        self._gps, self._running = gps, True

    def _on_location(self, location: Any) -> None:
        try:
            fix = fix_from_location(location)
        except Exception as exc:
            self._status("error", f"bad location: {type(exc).__name__}: {exc}")
            return
        if self._callback is not None:
            self._callback(fix)

    def _on_plyer_kwargs(self, **kw: Any) -> None:
        if self._callback is not None and "lat" in kw:
            self._callback(
                Fix(
                    float(kw["lat"]),
                    float(kw["lon"]),
                    float(kw.get("accuracy") or 50.0),
                    datetime.now(UTC),
                )
            )

    def _status(self, kind: str, message: str) -> None:
        if self.on_status is not None:
            self.on_status(kind, message)

    def stop(self) -> None:
        if self._gps is not None and self._running:
            try:
                self._gps.stop()
            finally:
                self._running = False


# --- the desktop: a simulated walk ------------------------------------------------------------


def load_track(source: str | bytes | Path | Sequence[LatLon]) -> list[LatLon]:
    """The points to walk: a GPX file's tracks, else its routes, else its waypoints, in order."""
    if isinstance(source, Sequence) and not isinstance(source, str | bytes):
        points = [LatLon(*p) for p in source]
    else:
        data = Path(source).read_bytes() if isinstance(source, Path) else source
        if isinstance(data, str) and not data.lstrip().startswith("<"):
            data = Path(data).read_bytes()
        gpx = parse_gpx(data)
        points = (
            [p.position for t in gpx.tracks for p in t]
            or [w.position for r in gpx.routes for w in r]
            or [w.position for w in gpx.waypoints]
        )
    if len(points) < 2:
        raise ValueError(f"a walk needs at least two points, the track has {len(points)}")
    return points


class SimulatedLocation:
    """A walk along a track at walking speed, with GPS-like noise, deterministic for a seed.

    Fixes come every interval_s of walking time; their timestamps start at ``start`` (default:
    now) and advance at walking pace. The noise is a random walk pulled back to the true path
    (correlated over ~20 s, like real GPS), with reported accuracy near its spread. start()
    replays the fixes on a thread, speedup times faster than walking.
    """

    def __init__(
        self,
        track: str | bytes | Path | Sequence[LatLon],
        *,
        speed_mps: float = 1.3,
        interval_s: float = 1.0,
        noise_m: float = 4.0,
        seed: int = 0,
        speedup: float = 1.0,
        start: datetime | None = None,
        pauses: dict[int, float] | None = None,
    ) -> None:
        if speed_mps <= 0 or interval_s <= 0 or speedup <= 0:
            raise ValueError("speed_mps, interval_s and speedup must be positive")
        self.points = load_track(track)
        self.speed_mps = speed_mps
        self.interval_s = interval_s
        self.noise_m = max(noise_m, 0.0)
        self.seed = seed
        self.speedup = speedup
        self.start_at = start
        self.pauses = dict(pauses or {})
        """Seconds to stand still at track point i (e.g. to read a reveal)."""
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def length_m(self) -> float:
        return sum(distance_m(a, b) for a, b in pairwise(self.points))

    @property
    def duration_s(self) -> float:
        """Walking time of the whole track, pauses included."""
        return self.length_m / self.speed_mps + sum(self.pauses.values())

    def true_positions(self) -> Iterator[tuple[float, LatLon]]:
        """(seconds since start, position on the track) every interval_s, the end included."""
        t = 0.0
        yield t, self.points[0]
        leftover = 0.0
        for i, (a, b) in enumerate(pairwise(self.points)):
            pause = self.pauses.get(i, 0.0)
            while pause > 0:
                step = self.interval_s - leftover
                if pause < step:
                    leftover += pause
                    break
                pause -= step
                leftover = 0.0
                t += self.interval_s
                yield t, a
            length, bearing = distance_and_bearing(a, b)
            along = (self.interval_s - leftover) * self.speed_mps
            while along <= length:
                t += self.interval_s
                yield t, destination(a, bearing, along)
                along += self.interval_s * self.speed_mps
            leftover = (length - (along - self.interval_s * self.speed_mps)) / self.speed_mps
        end = self.points[-1]
        if leftover > 1e-9:
            yield t + leftover, end

    def fixes(self) -> Iterator[Fix]:
        """Every fix of the walk, noisy, in order (no threads, no waiting)."""
        rng = random.Random(self.seed)
        start = self.start_at or datetime.now(UTC)
        east, north = rng.gauss(0.0, self.noise_m), rng.gauss(0.0, self.noise_m)
        rho = math.exp(-self.interval_s / 20.0)
        spread = math.sqrt(1 - rho * rho) * self.noise_m
        for t, true in self.true_positions():
            east = rho * east + rng.gauss(0.0, spread)
            north = rho * north + rng.gauss(0.0, spread)
            offset = math.hypot(east, north)
            position = true
            if offset > 0:
                position = destination(true, math.degrees(math.atan2(east, north)), offset)
            accuracy = max(3.0, self.noise_m * rng.uniform(1.0, 2.0))
            yield Fix(
                round(position.lat, 7),
                round(position.lon, 7),
                round(accuracy, 1),
                start + timedelta(seconds=t),
                mock=False,
            )

    def start(self, callback: FixCallback) -> None:
        """Deliver the fixes on a daemon thread, interval_s / speedup apart."""
        self.stop()
        self._stop.clear()

        def run() -> None:
            for fix in self.fixes():
                if self._stop.is_set():
                    return
                callback(fix)
                if self._stop.wait(self.interval_s / self.speedup):
                    return

        self._thread = threading.Thread(target=run, name="simulated-location", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None
