"""The compass's magnetic declination: WMM2025 values, computed once per 10 km or day, and
added by the heading providers to the magnetic heading."""

from __future__ import annotations

import math
import sys
import time
import types
from datetime import UTC, date, datetime

import pytest

from client.sensors import Fix
from client.sensors.declination import Declination, wmm_declination
from client.sensors.heading import AndroidHeading, PlyerHeading


@pytest.mark.parametrize(
    ("day", "alt_km", "lat", "lon", "expected"),
    [  # NOAA's WMM2025 test values (WMM2025_TEST_VALUES.txt: 2025.0 and 2025.5)
        (date(2025, 1, 1), 28, 89, -121, -99.77),
        (date(2025, 1, 1), 48, 80, -96, -29.91),
        (date(2025, 1, 1), 51, -33, 109, -5.49),
        (date(2025, 1, 1), 18, 0, 21, 1.29),
        (date(2025, 7, 2), 6, -36, -137, 20.28),
        (date(2025, 7, 2), 63, 26, 81, 0.51),
    ],
)
def test_wmm2025_test_values(day, alt_km, lat, lon, expected):
    assert wmm_declination(lat, lon, day, alt_km) == pytest.approx(expected, abs=0.01)


def test_kaiserslautern_2026():
    """NOAA's calculator: about 3.5 deg east in 2026."""
    assert wmm_declination(49.44, 7.77, date(2026, 6, 1)) == pytest.approx(3.5, abs=0.3)


def test_recomputed_only_after_10_km_or_a_new_day():
    today = [date(2026, 6, 1)]
    d = Declination(today=lambda: today[0])
    assert d.deg == 0.0, "no position: no correction"
    assert d.update(49.44, 7.77) == pytest.approx(3.5, abs=0.3)
    for step in range(50):  # a walk of 5 km north in 100 m steps
        d.update(49.44 + step * 0.0009, 7.77)
    assert d.computations == 1
    d.update(49.44 + 0.1, 7.77)  # 11 km from the first computation
    assert d.computations == 2
    today[0] = date(2026, 6, 2)
    d.update(49.54, 7.77)
    assert d.computations == 3
    d.on_fix(Fix(49.54, 7.77, 5.0, datetime(2026, 6, 2, tzinfo=UTC)))
    assert d.computations == 3
    d.on_fix(Fix(-36, -137, 5.0, datetime(2026, 6, 2, tzinfo=UTC)))
    assert d.deg > 15


def _kaiserslautern() -> Declination:
    d = Declination(today=lambda: date(2026, 6, 1))
    d.update(49.44, 7.77)
    return d


def test_android_heading_adds_the_declination(monkeypatch):
    """A fake pyjnius and SensorManager: the rotation vector says the camera looks at magnetic
    north; the heading delivered is the declination east of true north."""
    registered = {}

    class Manager:
        def getDefaultSensor(self, kind):
            return "rotation-vector"

        def registerListener(self, listener, sensor, delay):
            registered["listener"] = listener

        def unregisterListener(self, listener):
            registered.pop("listener")

    class Activity:
        def getSystemService(self, name):
            return Manager()

    def autoclass(name):
        return types.SimpleNamespace(
            SENSOR_SERVICE="sensor",
            TYPE_ROTATION_VECTOR=11,
            SENSOR_DELAY_GAME=1,
            mActivity=Activity(),
        )

    jnius = types.ModuleType("jnius")
    jnius.PythonJavaClass = object
    jnius.autoclass = autoclass
    jnius.cast = lambda _cls, obj: obj
    jnius.java_method = lambda _sig: lambda f: f
    monkeypatch.setitem(sys.modules, "jnius", jnius)

    readings = []
    provider = AndroidHeading(_kaiserslautern())
    provider.start(readings.append)
    s = math.sin(math.radians(45))  # upright: 90 deg about the east axis, camera to the north
    registered["listener"].onSensorChanged(types.SimpleNamespace(values=[s, 0.0, 0.0, s]))
    assert readings[0].heading_deg == pytest.approx(3.5, abs=0.3)
    provider.stop()
    assert "listener" not in registered
    without = []
    AndroidHeading().start(without.append)
    registered["listener"].onSensorChanged(types.SimpleNamespace(values=[s, 0.0, 0.0, s]))
    assert without[0].heading_deg % 360 == pytest.approx(0, abs=1e-6)


def test_plyer_heading_adds_the_declination(monkeypatch):
    import plyer

    class FakeOrientation:
        orientation = (math.radians(90), math.radians(-90), 0.0)  # upright, top to the east

        def enable_listener(self):
            pass

        def disable_listener(self):
            pass

    monkeypatch.setattr(plyer, "spatialorientation", FakeOrientation())
    got = []
    provider = PlyerHeading(interval_s=0.01, declination=_kaiserslautern())
    provider.start(got.append)
    try:
        deadline = datetime.now(UTC).timestamp() + 5
        while not got and datetime.now(UTC).timestamp() < deadline:
            time.sleep(0.01)
    finally:
        provider.stop()
    assert got[0].heading_deg == pytest.approx(90 + 3.5, abs=0.3)
