"""The open stops as seen from here (search area or marker, distance, bearing, warm or cold), and
the check-in policy that follows from how close the player is to them. No Kivy, no threads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from client.ar import Band, distance_band
from client.sensors import Fix
from markers.geo import LatLon, distance_and_bearing, distance_m
from markers.geofence import ACCURACY_CAP_M, Geofence, tolerance_m

NEAR_INTERVAL_S = 5.0
"""Close to an opened marker (or unsure what is open): one check-in per 5 s."""
AREA_INTERVAL_S = 10.0
"""Inside an open stop's search area: one per 10 s (13 m at walking pace)."""
FAR_INTERVAL_S = 30.0
FAR_MOVE_M = 25.0
"""Elsewhere: only after 30 s and 25 m moved (privacy: no more fixes than the game needs)."""
NEAR_MARKER_M = 60.0
"""A fix this far beyond an opened marker's geofence counts as close."""
UNSURE_MOVE_M = 25.0
"""With events waiting (offline), away from the open stops: a fix once the player moved this far
(a stop opened meanwhile, unknown to the phone, has a fence wider than that), or after
FAR_INTERVAL_S once the player moved beyond the fix's accuracy (stopped somewhere new)."""

Closeness = Literal["marker", "area", "far"]


@dataclass(frozen=True)
class Target:
    """An open stop as seen from the current position (distance and bearing None without a fix)."""

    stop: int
    """The stop's number in the rally, from 1."""
    marker_id: int
    clue: str
    area: LatLon
    """Centre of the search area (the marker lies somewhere inside, not at the centre)."""
    area_radius_m: float
    marker: LatLon | None = None
    """The exact marker position, only once the server opened it (the team is near)."""
    marker_radius_m: float | None = None
    distance_m: float | None = None
    """To the marker when known, else to the search area's centre."""
    bearing_deg: float | None = None
    band: Band | None = None
    """cold / warm / warmer / here, from distance_m and the marker's or area's radius."""
    inside_hint: bool = False
    """The last fix is inside the marker's geofence by the local rule; only a hint."""


def make_targets(
    team: dict[str, Any] | None, fix: Fix | None, position: LatLon | None
) -> tuple[Target, ...]:
    """The team's open stops as Targets, measured from position (the smoothed one)."""
    if not team:
        return ()
    found: list[Target] = []
    for o in team.get("open", []):
        area = o["search_area"]
        centre = LatLon(float(area["lat"]), float(area["lon"]))
        m = o.get("marker")
        marker = None if not m else LatLon(float(m["lat"]), float(m["lon"]))
        marker_radius = None if not m else float(m["radius_m"])
        distance: float | None = None
        bearing: float | None = None
        band: Band | None = None
        inside = False
        if position is not None:
            distance, bearing = distance_and_bearing(position, marker or centre)
            if marker is not None:
                band = distance_band(distance, marker_radius or 0.0)
            else:
                band = Band.WARM if distance <= float(area["radius_m"]) else Band.COLD
        if marker is not None and fix is not None:
            inside = Geofence(marker, marker_radius or 1.0).contains(
                fix.position, fix.accuracy_m, ACCURACY_CAP_M
            )
        found.append(
            Target(
                int(o["stop"]),
                int(o["marker_id"]),
                str(o.get("clue") or ""),
                centre,
                float(area["radius_m"]),
                marker,
                marker_radius,
                distance,
                bearing,
                band,
                inside,
            )
        )
    return tuple(found)


def closeness(fix: Fix, targets: tuple[Target, ...]) -> Closeness:
    """ "marker" within NEAR_MARKER_M of an opened marker's fence, "area" inside an open stop's
    search area, else "far" (the fix's accuracy, capped, counts in its favour)."""
    slack = tolerance_m(fix.accuracy_m)
    where: Closeness = "far"
    for target in targets:
        if target.marker is not None:
            fence = target.marker_radius_m or 0.0
            if distance_m(fix.position, target.marker) <= fence + NEAR_MARKER_M + slack:
                return "marker"
        if distance_m(fix.position, target.area) <= target.area_radius_m + slack:
            where = "area"
    return where


def wants_checkin(
    fix: Fix, last_sent: Fix | None, targets: tuple[Target, ...], uncertain: bool = False
) -> bool:
    """The check-in policy. Always the first fix; then by how close the fix is to an open stop:
    near its opened marker every NEAR_INTERVAL_S, in its search area every AREA_INTERVAL_S,
    elsewhere after FAR_INTERVAL_S and FAR_MOVE_M both.

    ``uncertain``: events wait for the server (offline), so what is open may have changed
    unseen. Then a search area counts as near (every NEAR_INTERVAL_S: each fix that may lie in a
    fence is kept), and elsewhere a fix is kept only once the player moved UNSURE_MOVE_M (at
    most every NEAR_INTERVAL_S), or after FAR_INTERVAL_S beyond the fix's accuracy: a walk
    offline stores some fixes a minute, not one each 5 s wherever the player is."""
    if last_sent is None:
        return True
    dt = (fix.at - last_sent.at).total_seconds()
    where = closeness(fix, targets)
    if where == "marker" or (uncertain and where == "area"):
        return dt >= NEAR_INTERVAL_S
    if where == "area":
        return dt >= AREA_INTERVAL_S
    moved = distance_m(last_sent.position, fix.position)
    if uncertain:
        return (dt >= NEAR_INTERVAL_S and moved >= UNSURE_MOVE_M) or (
            dt >= FAR_INTERVAL_S and moved > fix.accuracy_m
        )
    return dt >= FAR_INTERVAL_S and moved >= FAR_MOVE_M
