"""The JSON shapes of the curator API: venues, markers, rallies with their route and findings."""

from __future__ import annotations

from typing import Any

from flask import url_for

from routes import geometry, validate
from routes import model as domain
from server import game, models
from server.api.serialize import iso
from server.curator import access


def owner(user: models.User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "username": user.username}


def venue(v: models.Venue, user: models.User, placer: models.User | None = None) -> dict[str, Any]:
    """A venue; ``placer``: who gave it its position (access.venue_placer)."""
    return {
        "id": v.id,
        "name": v.name,
        "kind": v.kind,
        "lat": v.lat,
        "lon": v.lon,
        "address": v.address,
        "fact": v.fact,
        "step_free": v.step_free,
        "placed": v.lat is not None and v.lon is not None,
        "placed_by": owner(placer),
        "editable": access.can_edit_venue(user, v, placer.id if placer else None),
    }


def marker(
    m: models.Marker,
    user: models.User,
    users: dict[int, models.User],
    rallies: list[models.Rally] | None = None,
) -> dict[str, Any]:
    """A marker with everything the editor shows; ``rallies``: those that use it."""
    if rallies is None:
        rallies = access.marker_rallies(m)
    return {
        "id": m.id,
        "lat": m.lat,
        "lon": m.lon,
        "radius_m": m.radius_m,
        "polygon": m.polygon,
        "title": m.text("title"),
        "clue": m.text("clue"),
        "story": m.text("story"),
        "venue_id": m.venue_id,
        "venue": m.venue.name if m.venue else None,
        "image": m.image,
        "image_url": url_for("play.media", name=m.image) if m.image else None,
        "owner": owner(users.get(m.owner_id) if m.owner_id else None),
        "editable": access.can_edit_marker(user, m),
        "rallies": [{"id": r.id, "slug": r.slug, "status": r.status.value} for r in rallies],
        "updated_at": iso(m.updated_at),
    }


def summary(rally: domain.Rally) -> dict[str, Any]:
    s = geometry.summarize(rally)
    return {
        "length_m": round(s.length_m, 1),
        "duration_s": round(s.duration_s),
        "walking_s": round(s.walking_s),
        "dwell_s": round(s.dwell_s),
        "legs_m": [round(x, 1) for x in s.legs],
        "stops": len(rally.stops),
    }


def findings(rally: domain.Rally) -> dict[str, Any]:
    """Validation findings and the route numbers: what the editor refreshes after each change."""
    found = validate.validate(rally)
    return {
        "findings": [f.as_dict() for f in found],
        "publishable": not validate.has_errors(found),
        "summary": summary(rally),
        "route": [[p.lat, p.lon] for p in rally.waypoints()],
    }


def rally_brief(
    r: models.Rally, users: dict[int, models.User], user: models.User
) -> dict[str, Any]:
    return {
        "id": r.id,
        "slug": r.slug,
        "title": r.text("title"),
        "status": r.status.value,
        "order_mode": r.order_mode,
        "stops": len(r.stops),
        "owner": owner(users.get(r.owner_id) if r.owner_id else None),
        "editable": access.can_edit_rally(user, r),
        "updated_at": iso(r.updated_at),
    }


def rally(r: models.Rally, user: models.User, users: dict[int, models.User]) -> dict[str, Any]:
    """A rally as its editor needs it: settings, stops with letters, route, findings, rights."""
    d = game.domain_rally(r)
    teams = access.team_count(r)
    word = r.solution_word or ""
    start = None
    if r.start_lat is not None and r.start_lon is not None:
        start = {"lat": r.start_lat, "lon": r.start_lon, "name": r.start_name}
    finish = None
    if r.finish_lat is not None and r.finish_lon is not None:
        finish = {"lat": r.finish_lat, "lon": r.finish_lon}
    return {
        **rally_brief(r, users, user),
        "intro": r.text("intro"),
        "finish_text": r.text("finish_text"),
        "solution_word": r.solution_word,
        "start": start,
        "finish": finish,
        "teams": teams,
        "published_at": iso(r.published_at),
        "can": access.rally_permissions(user, r, teams),
        "stops": [
            {
                "index": i,
                "marker_id": s.marker_id,
                "letter": word[i] if i < len(word) else None,
                "clue": s.text("clue"),
                "clue_from": s.clue_from,
                "task": s.task or None,
                "hints": s.hints or [],
                "marker": {
                    "id": s.marker.id,
                    "lat": s.marker.lat,
                    "lon": s.marker.lon,
                    "radius_m": s.marker.radius_m,
                    "polygon": s.marker.polygon,
                    "title": s.marker.text("title"),
                    "clue": s.marker.text("clue"),
                    "story": s.marker.text("story"),
                    "image_url": (
                        url_for("play.media", name=s.marker.image) if s.marker.image else None
                    ),
                    "venue": s.marker.venue.name if s.marker.venue else None,
                },
            }
            for i, s in enumerate(r.stops)
        ],
        **findings(d),
    }
