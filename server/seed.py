"""Loading venues and rally files (routes.rallyfile) into the database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select

from routes import rallyfile
from routes.rallyfile import RallyFile, Venue
from server import models
from server.extensions import db

PFALZGALERIE = {
    "name": "Museum Pfalzgalerie",
    "kind": "museum",
    "address": "Museumsplatz 1, 67657 Kaiserslautern",
    "fact": "No verified coordinate yet: a curator places it on the map.",
}


def import_venues(venues: Iterable[Venue]) -> int:
    """Add venues that are not there yet (by name); returns how many were added."""
    known = set(db.session.scalars(select(models.Venue.name)))
    added = 0
    for v in venues:
        if v.name in known:
            continue
        db.session.add(
            models.Venue(
                name=v.name,
                kind=v.kind,
                lat=v.position.lat,
                lon=v.position.lon,
                address=v.address,
                source=v.source,
                fact=v.short_fact,
                step_free=v.step_free,
            )
        )
        known.add(v.name)
        added += 1
    if PFALZGALERIE["name"] not in known:
        db.session.add(models.Venue(lat=None, lon=None, **PFALZGALERIE))
        added += 1
    db.session.flush()
    return added


def import_rally(
    rf: RallyFile, *, status: models.RallyStatus, owner: models.User | None = None
) -> models.Rally:
    """Create the rally and its markers; raises ValueError when the slug is taken."""
    rally = rf.rally
    if db.session.scalar(select(models.Rally.id).filter_by(slug=rally.slug)):
        raise ValueError(f"a rally with the slug {rally.slug!r} exists already")
    venues = {v.name: v for v in db.session.scalars(select(models.Venue))}
    now = datetime.now(UTC)
    row = models.Rally(
        slug=rally.slug,
        order_mode=rally.order_mode.value,
        status=status,
        solution_word=rally.solution_word,
        walking_speed_mps=rally.walking_speed_mps,
        dwell_s=rally.dwell_s,
        owner_id=owner.id if owner else None,
        start_lat=rally.start.lat if rally.start else None,
        start_lon=rally.start.lon if rally.start else None,
        start_name=rf.start_name,
        finish_lat=rally.finish.lat if rally.finish else None,
        finish_lon=rally.finish.lon if rally.finish else None,
        play_area=[list(p) for p in rally.play_area] if rally.play_area else None,
        published_at=now if status is models.RallyStatus.PUBLISHED else None,
    )
    row.set_text("title", rally.title)
    row.set_text("intro", rally.intro)
    row.set_text("finish_text", rally.finish_text)
    db.session.add(row)
    markers: dict[int, models.Marker] = {}
    for position, stop in enumerate(rally.stops):
        m = stop.marker
        if m.id not in markers:
            venue = venues.get(m.venue) if m.venue else None
            marker = models.Marker(
                lat=m.position.lat,
                lon=m.position.lon,
                radius_m=m.radius_m,
                polygon=[list(p) for p in m.polygon] if m.polygon else None,
                venue=venue,
                owner_id=owner.id if owner else None,
                source=rf.sources.get(m.id, ""),
            )
            for name in ("title", "clue", "story"):
                marker.set_text(name, getattr(m, name))
            db.session.add(marker)
            markers[m.id] = marker
        stop_row = models.RallyStop(
            marker=markers[m.id],
            position=position,
            task=None if stop.task is None else rallyfile.dump_task(stop.task),
            hints=rallyfile.dump_hints(stop.hints),
            clue_from=stop.clue_from,
        )
        if stop.clue:
            stop_row.set_text("clue", stop.clue)
        row.stops.append(stop_row)
    db.session.flush()
    return row


def demo(
    *, slug: str | None = None, status: models.RallyStatus = models.RallyStatus.PUBLISHED
) -> models.Rally:
    """The venues and the Kaiserslautern demo rally (under ``slug`` if given), flushed."""
    venues = rallyfile.load_venues()
    import_venues(venues)
    rf = rallyfile.read_rally_file(rallyfile.DEMO_RALLY_PATH, venues)
    if slug is not None:
        rf = replace(rf, rally=replace(rf.rally, slug=slug))
    return import_rally(rf, status=status)
