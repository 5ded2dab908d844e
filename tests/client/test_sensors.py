"""Sensor providers: the simulated ones, and the plyer GPS fix against a fake Android.

The fake Android (pyjnius, the activity, LocationManager, runtime permissions) is just enough
to import plyer 2.1.0's real Android GPS module and to call into its listener the way Android
does: by Java method name and signature, as pyjnius' proxy dispatches them.
"""

from __future__ import annotations

import math
import statistics
import sys
import threading
import types
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.ar import relative_bearing
from client.autoplay import route_gpx
from client.sensors import Fix, Orientation
from client.sensors import location as loc
from client.sensors.camera import FramesFromFiles
from client.sensors.heading import (
    FirstAvailable,
    ScriptedHeading,
    camera_orientation,
    matrix_from_angles,
    matrix_from_rotation_vector,
)
from client.sensors.location import PlyerLocation, SensorUnavailable, SimulatedLocation
from markers.geo import LatLon, destination, distance_m
from routes import rallyfile

T0 = datetime(2026, 9, 12, 18, 0, tzinfo=UTC)
FRUCHTHALLE = LatLon(49.44398, 7.76938)


# --- simulated location -----------------------------------------------------------------------


def demo_walk(**kw) -> SimulatedLocation:
    return SimulatedLocation(route_gpx(rallyfile.demo_rally().waypoints()), start=T0, **kw)


def test_same_seed_same_walk_other_seed_other_walk():
    a, b, c = demo_walk(seed=7), demo_walk(seed=7), demo_walk(seed=8)
    first = list(a.fixes())
    assert first == list(b.fixes())
    assert first != list(c.fixes())


def test_walk_runs_at_walking_pace_with_real_looking_times():
    """The demo route is 2869 m: at 1.3 m/s that is 2869 / 1.3 = 2207 s, one fix a second."""
    walk = demo_walk(seed=1)
    fixes = list(walk.fixes())
    assert walk.length_m == pytest.approx(2869.4, abs=1)
    assert walk.duration_s == pytest.approx(2869.4 / 1.3, abs=1)
    assert fixes[0].at == T0
    assert fixes[-1].at - T0 == pytest.approx(
        timedelta(seconds=walk.duration_s), abs=timedelta(seconds=0.01)
    )
    steps = [(b.at - a.at).total_seconds() for a, b in pairwise(fixes[:-1])]
    assert set(steps) == {1.0}
    truth = [p for _, p in walk.true_positions()]
    speeds = [distance_m(a, b) for a, b in pairwise(truth[:-1])]
    assert statistics.median(speeds) == pytest.approx(1.3, abs=0.01)
    assert truth[0] == walk.points[0] and truth[-1] == walk.points[-1]


def test_walk_noise_is_realistic():
    """Noise 4 m per axis: the error's RMS is near 4 * sqrt 2 = 5.7 m, never wild, and the
    reported accuracy (4..8 m) is about the 68 % radius, 1.5 * 4 = 6 m."""
    walk = demo_walk(seed=2, noise_m=4.0)
    errors = [
        distance_m(f.position, p)
        for f, (_, p) in zip(walk.fixes(), walk.true_positions(), strict=True)
    ]
    rms = math.sqrt(statistics.fmean(e * e for e in errors))
    assert 3.5 < rms < 8.0
    assert max(errors) < 30
    accuracies = [f.accuracy_m for f in walk.fixes()]
    assert min(accuracies) >= 3.0 and max(accuracies) <= 8.0
    inside = sum(e <= a for e, a in zip(errors, accuracies, strict=True)) / len(errors)
    assert 0.5 < inside < 0.95
    assert not any(f.mock for f in walk.fixes())


def test_walk_without_noise_follows_the_track():
    walk = SimulatedLocation([FRUCHTHALLE, destination(FRUCHTHALLE, 90, 13)], noise_m=0, start=T0)
    fixes = list(walk.fixes())
    assert len(fixes) == 11
    assert distance_m(fixes[5].position, destination(FRUCHTHALLE, 90, 6.5)) < 0.05


def test_pauses_stand_still():
    """A 10 s pause at the second point adds 10 fixes at that point."""
    a, b, c = FRUCHTHALLE, destination(FRUCHTHALLE, 0, 13), destination(FRUCHTHALLE, 0, 26)
    walk = SimulatedLocation([a, b, c], noise_m=0, start=T0, pauses={1: 10})
    truth = list(walk.true_positions())
    assert walk.duration_s == pytest.approx(30)
    assert sum(distance_m(p, b) < 0.01 for _, p in truth) == 11


def test_track_from_gpx_routes_and_waypoints(tmp_path):
    from routes.gpx import export_gpx

    gpx = export_gpx(rallyfile.demo_rally())
    path = tmp_path / "route.gpx"
    path.write_text(gpx, encoding="utf-8")
    walk = SimulatedLocation(path)
    assert walk.points == rallyfile.demo_rally().waypoints()
    assert SimulatedLocation(str(path)).points == walk.points
    with pytest.raises(ValueError, match="at least two points"):
        SimulatedLocation([FRUCHTHALLE])


def test_replay_on_a_thread_then_stop():
    walk = demo_walk(seed=1, speedup=1000)
    got: list[Fix] = []
    enough = threading.Event()

    def take(fix):
        got.append(fix)
        if len(got) >= 5:
            enough.set()

    walk.start(take)
    assert enough.wait(30)
    walk.stop()
    count = len(got)
    assert got == list(walk.fixes())[:count]


# --- heading ----------------------------------------------------------------------------------


def android_orientation(r) -> tuple[float, float, float]:
    """SensorManager.getOrientation: azimuth, pitch, roll from the rotation matrix."""
    return (math.atan2(r[0][1], r[1][1]), math.asin(-r[2][1]), math.atan2(-r[2][0], r[2][2]))


@given(st.floats(-3.1, 3.1), st.floats(-1.5, 1.5), st.floats(-3.1, 3.1))
def test_matrix_from_angles_inverts_get_orientation(azimuth, pitch, roll):
    back = android_orientation(matrix_from_angles(azimuth, pitch, roll))
    for a, b in zip((azimuth, pitch, roll), back, strict=True):
        assert abs(math.remainder(a - b, 2 * math.pi)) < 1e-9


def quaternion(axis: tuple[float, float, float], degrees: float) -> tuple[float, ...]:
    half = math.radians(degrees) / 2
    return (*(a * math.sin(half) for a in axis), math.cos(half))


def compose(q1, q2):
    """q1 * q2 (apply q2 first), quaternions as (x, y, z, w)."""
    x1, y1, z1, w1 = q1
    x2, y2, z2, w2 = q2
    return (
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
    )


def test_camera_direction_of_an_upright_phone():
    """Flat on a table, screen up, top to the north: the camera looks straight down. Tilted
    upright (90 about the east axis): it looks north, level. Then turned 90 clockwise seen from
    above (-90 about up): east. Then tipped 20 up (more about its own x axis): pitch +20."""
    flat = camera_orientation(matrix_from_rotation_vector(0, 0, 0, 1))
    assert flat.pitch_deg == pytest.approx(-90)
    upright = quaternion((1, 0, 0), 90)
    north = camera_orientation(matrix_from_rotation_vector(*upright))
    assert (north.heading_deg % 360, north.pitch_deg) == pytest.approx((0, 0), abs=1e-9)
    east = compose(quaternion((0, 0, 1), -90), upright)
    o = camera_orientation(matrix_from_rotation_vector(*east))
    assert (o.heading_deg, o.pitch_deg) == pytest.approx((90, 0), abs=1e-9)
    up = compose(east, quaternion((1, 0, 0), 20))
    o = camera_orientation(matrix_from_rotation_vector(*up), declination_deg=3)
    assert (o.heading_deg, o.pitch_deg) == pytest.approx((93, 20), abs=1e-9)
    o = camera_orientation(matrix_from_rotation_vector(*up[:3]))
    assert o.pitch_deg == pytest.approx(20, abs=1e-6), "w may be left out (older phones)"


def test_camera_direction_from_plyer_angles():
    """Azimuth 90 (top towards east), pitch -60 (top raised 60): the back camera looks east,
    30 below the horizon."""
    o = camera_orientation(matrix_from_angles(math.radians(90), math.radians(-60), 0))
    assert (o.heading_deg, o.pitch_deg) == pytest.approx((90, -30))


def test_scripted_heading_turns_the_short_way():
    """From 350 to 10 over 4 s: at 2 s it points to 0, not 180."""
    script = ScriptedHeading([(0, 350), (4, 10, 10)], interval_s=1)
    assert script.at(2).heading_deg % 360 == pytest.approx(0, abs=1e-9)
    assert script.at(2).pitch_deg == pytest.approx(5)
    readings = list(script.readings())
    assert len(readings) == 5 and readings[-1] == Orientation(10, 10)
    noisy = [
        r.heading_deg for r in ScriptedHeading([(0, 0), (10, 0)], noise_deg=3, seed=4).readings()
    ]
    assert noisy == [
        r.heading_deg for r in ScriptedHeading([(0, 0), (10, 0)], noise_deg=3, seed=4).readings()
    ]
    assert 1 < statistics.pstdev(relative_bearing(h, 0) for h in noisy) < 5
    with pytest.raises(ValueError, match="must not decrease"):
        ScriptedHeading([(2, 0), (1, 0)])


def test_scripted_heading_on_a_thread():
    got: list[Orientation] = []
    script = ScriptedHeading([(0, 0), (1, 90)], interval_s=0.1, speedup=100)
    done = threading.Event()
    script.start(lambda o: (got.append(o), len(got) == 11 and done.set()))
    assert done.wait(30)
    script.stop()
    assert got[-1].heading_deg == pytest.approx(90)


class FakeCompass:
    """A heading provider that the phone has (readings) or lacks (SensorUnavailable)."""

    def __init__(self, heading: float | None) -> None:
        self.heading = heading
        self.running = False

    def start(self, callback) -> None:
        if self.heading is None:
            raise SensorUnavailable("this phone has no such sensor")
        self.running = True
        callback(Orientation(self.heading))

    def stop(self) -> None:
        self.running = False


def test_the_first_compass_the_phone_has_is_used():
    """No rotation vector sensor: plyer's accelerometer and magnetometer take over."""
    rotation_vector, plyer = FakeCompass(None), FakeCompass(42.0)
    got: list[Orientation] = []
    compass = FirstAvailable(rotation_vector, plyer)
    compass.start(got.append)
    assert got == [Orientation(42.0)] and compass.active is plyer and plyer.running
    compass.stop()
    assert not plyer.running and compass.active is None
    with pytest.raises(SensorUnavailable, match="FakeCompass: this phone has no such sensor"):
        FirstAvailable(FakeCompass(None)).start(got.append)


# --- camera frames ----------------------------------------------------------------------------


def test_frames_from_files_in_name_order_looping(tmp_path):
    from PIL import Image

    for name, colour in (("b.png", "blue"), ("a.jpg", "red"), ("notes.txt", None)):
        if colour:
            Image.new("RGB", (8, 8), colour).save(tmp_path / name)
        else:
            (tmp_path / name).write_text("not an image")
    frames = FramesFromFiles(tmp_path)
    assert len(frames) == 2
    colours = [f.getpixel((0, 0)) for f, _ in zip(frames.frames(), range(5), strict=False)]
    assert [c[0] > 200 for c in colours] == [True, False, True, False, True]
    once = FramesFromFiles(tmp_path, loop=False)
    assert len(list(once.frames())) == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        FramesFromFiles(tmp_path / "empty")
    with pytest.raises(ValueError, match="does not exist"):
        FramesFromFiles(tmp_path / "missing")


# --- plyer on a fake Android ------------------------------------------------------------------


class FakeJavaClass:
    """pyjnius' PythonJavaClass as far as plyer needs it: Java calls dispatch by name+signature."""

    __javainterfaces__: ClassVar[list[str]] = []

    def __init__(self, *args, **kwargs):
        table = {}
        for attr in dir(type(self)):
            fn = getattr(type(self), attr, None)
            signature = getattr(fn, "__javasignature__", None)
            if signature:
                table[(getattr(fn, "__javaname__", None) or attr, signature)] = attr
        self._java_methods = table

    def invoke(self, name: str, signature: str, *args):
        """What pyjnius does when Java calls the proxy (NotImplementedError when missing)."""
        attr = self._java_methods.get((name, signature))
        if attr is None:
            raise NotImplementedError(f"The method {(name, signature)} is not implemented")
        return getattr(self, attr)(*args)


def fake_java_method(signature: str, name: str | None = None):
    def decorate(fn):
        fn.__javasignature__ = signature
        fn.__javaname__ = name
        return fn

    return decorate


def fake_location(lat, lon, accuracy=6.0, millis=1_789_236_000_000, mock=False):
    """An android.location.Location of API level 30 (isFromMockProvider, no isMock)."""
    return types.SimpleNamespace(
        getLatitude=lambda: lat,
        getLongitude=lambda: lon,
        getAccuracy=lambda: accuracy,
        hasAccuracy=lambda: True,
        getTime=lambda: millis,
        isFromMockProvider=lambda: mock,
        getSpeed=lambda: 1.2,
        getBearing=lambda: 90.0,
        getAltitude=lambda: 240.0,
    )


class JavaList:
    def __init__(self, items):
        self._items = list(items)

    def size(self):
        return len(self._items)

    def get(self, i):
        return self._items[i]


class FakeLocationManager:
    def __init__(self, enabled=("passive", "gps", "network")):
        self.all = ["passive", "gps", "network"]
        self.enabled = list(enabled)
        self.requests: list[tuple] = []
        self.removed = []

    def getProviders(self, enabled_only):
        items = self.enabled if enabled_only else self.all
        return types.SimpleNamespace(toArray=lambda: list(items))

    def requestLocationUpdates(self, provider, min_time, min_distance, listener, looper):
        if provider not in self.enabled:
            raise RuntimeError(f"java.lang.IllegalArgumentException: provider {provider} off")
        self.requests.append((provider, min_time, min_distance, listener, looper))

    def removeUpdates(self, listener):
        self.removed.append(listener)


@pytest.fixture
def android(monkeypatch):
    """A fake Android under plyer: pyjnius, activity, location manager, permissions."""
    manager = FakeLocationManager()
    grants = {"granted": True}
    asked: list[list[str]] = []

    def autoclass(name):
        if name == "android.os.Build$VERSION":
            return types.SimpleNamespace(SDK_INT=31)
        if name.endswith("PythonActivity"):
            return types.SimpleNamespace(
                mActivity=types.SimpleNamespace(getSystemService=lambda service: manager)
            )
        if name == "android.os.Looper":
            return types.SimpleNamespace(getMainLooper=lambda: "main-looper")
        if name == "android.content.Context":
            return types.SimpleNamespace(LOCATION_SERVICE="location")
        return types.SimpleNamespace()

    jnius = types.ModuleType("jnius")
    jnius.autoclass, jnius.java_method, jnius.PythonJavaClass = (
        autoclass,
        fake_java_method,
        FakeJavaClass,
    )
    jnius.cast = lambda cls, obj: obj
    permissions = types.ModuleType("android.permissions")
    permissions.Permission = types.SimpleNamespace(
        ACCESS_FINE_LOCATION="android.permission.ACCESS_FINE_LOCATION",
        ACCESS_COARSE_LOCATION="android.permission.ACCESS_COARSE_LOCATION",
    )

    def request_permissions(names, callback):
        asked.append(list(names))
        callback(names, [grants["granted"]] * len(names))

    permissions.request_permissions = request_permissions
    android_pkg = types.ModuleType("android")
    android_pkg.permissions = permissions
    monkeypatch.setitem(sys.modules, "jnius", jnius)
    monkeypatch.setitem(sys.modules, "android", android_pkg)
    monkeypatch.setitem(sys.modules, "android.permissions", permissions)
    for name in [m for m in sys.modules if m.startswith("plyer.platforms.android")]:
        monkeypatch.delitem(sys.modules, name)
    import plyer
    import plyer.platforms.android.gps as android_gps
    import plyer.utils

    monkeypatch.setattr(plyer.utils, "platform", "android")
    monkeypatch.setattr(plyer, "gps", plyer.utils.Proxy("gps", plyer.facades.GPS))
    yield types.SimpleNamespace(manager=manager, grants=grants, asked=asked, gps_module=android_gps)
    for name in [m for m in sys.modules if m.startswith("plyer.platforms.android")]:
        sys.modules.pop(name, None)


def test_plyer_2_1_0_listener_fails_on_android_12(android):
    """The failure mode of plyer issues 505/657/687: Android 12 calls
    onLocationChanged(List<Location>), which plyer 2.1.0's listener lacks."""
    root = types.SimpleNamespace(on_location=lambda **kw: None)
    original = android.gps_module._LocationListener(root)
    with pytest.raises(NotImplementedError, match="Ljava/util/List"):
        original.invoke("onLocationChanged", "(Ljava/util/List;)V", JavaList([]))


def test_fixed_listener_takes_both_overloads(android):
    got = []
    root = types.SimpleNamespace(on_location=lambda **kw: got.append(kw), on_status=None)
    assert loc.patch_plyer_gps()
    assert loc.patch_plyer_gps(), "patching twice is harmless"
    listener = android.gps_module._LocationListener(root)
    assert type(listener).__mro__[1].__name__ == "_LocationListener"
    listener.invoke(
        "onLocationChanged",
        "(Ljava/util/List;)V",
        JavaList([fake_location(49.1, 7.1), fake_location(49.2, 7.2)]),
    )
    listener.invoke("onLocationChanged", "(Landroid/location/Location;)V", fake_location(49.3, 7.3))
    listener.invoke("onProviderEnabled", "(Ljava/lang/String;)V", "gps")
    assert [kw["lat"] for kw in got] == [49.1, 49.2, 49.3]


def test_plyer_location_starts_gps_right(android):
    """Only enabled, useful providers (not "passive") with minTime 1000 ms and minDistance 1 m
    passed explicitly; fixes keep time and mock flag. The permission is the app's to ask for,
    with the camera's, in one request (tests/client/test_permissions.py)."""
    fixes: list[Fix] = []
    provider = PlyerLocation(min_time_ms=1000, min_distance_m=1.0)
    provider.start(fixes.append)
    assert android.asked == []
    requests = android.manager.requests
    assert [(r[0], r[1], r[2], r[4]) for r in requests] == [
        ("gps", 1000, 1.0, "main-looper"),
        ("network", 1000, 1.0, "main-looper"),
    ]
    listener = requests[0][3]
    listener.invoke(
        "onLocationChanged",
        "(Ljava/util/List;)V",
        JavaList([fake_location(49.44398, 7.76938, 8.5, mock=True)]),
    )
    assert fixes == [
        Fix(49.44398, 7.76938, 8.5, datetime.fromtimestamp(1_789_236_000, UTC), mock=True)
    ]
    provider.stop()
    assert android.manager.removed == [listener]


def test_plyer_location_with_every_provider_off_says_so(android):
    android.manager.enabled = ["passive"]
    statuses = []
    PlyerLocation(on_status=lambda kind, msg: statuses.append((kind, msg))).start(lambda f: None)
    assert statuses and statuses[0][0] == "error"
    assert "no location provider enabled" in statuses[0][1]
    assert android.manager.requests == []


def test_plyer_location_off_android_is_unavailable():
    with pytest.raises(SensorUnavailable, match="Android"):
        PlyerLocation().start(lambda fix: None)
