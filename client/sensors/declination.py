"""Magnetic declination: how far magnetic north is from true north where the player stands.

The compass measures magnetic north; the game's bearings are from true north. pygeomag computes
the World Magnetic Model (WMM2025, pure Python); it is slow enough (a few ms) that the value is
recomputed only after a move of RECOMPUTE_M or on a new (UTC) day, never per compass reading.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from client.sensors import Fix
from markers.geo import LatLon, distance_m

RECOMPUTE_M = 10_000.0


def wmm_declination(lat: float, lon: float, day: date, alt_km: float = 0.0) -> float:
    """Declination in degrees (east positive) from WMM2025; after 2030 the model still answers
    (less exact) until pygeomag ships the next one."""
    from pygeomag import GeoMag, decimal_year_from_date
    from pygeomag.wmm.wmm_2025 import WMM_2025

    year = decimal_year_from_date(day)
    result = GeoMag(coefficients_data=WMM_2025).calculate(
        glat=lat, glon=lon, alt=alt_km, time=year, allow_date_outside_lifespan=True
    )
    return float(result.d)


class Declination:
    """The declination at the player's last position; 0 until the first fix.

    update(lat, lon) is cheap when the player has moved less than RECOMPUTE_M since the last
    computation on the same day; the heading providers read deg on every reading.
    """

    def __init__(
        self, today: Callable[[], date] | None = None, recompute_m: float = RECOMPUTE_M
    ) -> None:
        self.deg = 0.0
        self.recompute_m = recompute_m
        self.computations = 0
        self._today = today or (lambda: datetime.now(UTC).date())
        self._at: tuple[LatLon, date] | None = None

    def update(self, lat: float, lon: float) -> float:
        here, day = LatLon(lat, lon), self._today()
        if self._at is not None:
            where, when = self._at
            if when == day and distance_m(where, here) < self.recompute_m:
                return self.deg
        self.deg = wmm_declination(lat, lon, day)
        self.computations += 1
        self._at = (here, day)
        return self.deg

    def on_fix(self, fix: Fix) -> None:
        self.update(fix.lat, fix.lon)
