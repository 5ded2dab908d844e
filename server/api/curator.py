"""The curator JSON API under /api/v1/curator: venues, markers, images, rallies, simulated walks.

Session login, CSRF on unsafe methods and the curator role on every route (admins pass); the
ownership rule is in server/curator/access.py. Every change writes an audit entry.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from markers.i18n import LANGUAGES, TEXT_LANGUAGES
from routes import order as ordering
from routes import rallyfile, validate
from server import audit, game, media
from server.api import bp
from server.api.openapi import register
from server.api.validation import validated
from server.auth import api_roles_required
from server.curator import access, fences, shapes, simulate
from server.curator.openapi import PATHS, SCHEMAS
from server.database import lock_row
from server.extensions import db
from server.i18n import language, t
from server.models import Marker, Rally, RallyStatus, RallyStop, Role, User, Venue
from server.ratelimit import address_key, limiter, refuse, setting
from server.usererror import UserError

register(PATHS, SCHEMAS)

F = TypeVar("F", bound=Callable[..., Any])
curator = api_roles_required(Role.CURATOR)
MULTIPART_SLACK = 64 * 1024
"""Room for the multipart envelope around an image of MEDIA_MAX_BYTES."""


def _me() -> User:
    return current_user._get_current_object()


def _users() -> dict[int, User]:
    return {u.id: u for u in db.session.scalars(select(User))}


def _get(model: type, object_id: int, code: str) -> Any:
    row = db.session.get(model, object_id)
    if row is None:
        raise UserError(code, status=404, id=object_id)
    return row


def _locked_rally(rally_id: int) -> Rally:
    """The rally, locked until the commit: its status and stops change one after another, and
    never between a team's creation and the check that the rally runs (teams.create)."""
    row = lock_row(Rally, rally_id)
    if row is None:
        raise UserError("curator_rally_not_found", status=404, id=rally_id)
    return row


def _patch(
    row: Marker | Rally,
    body: dict[str, Any],
    fields: tuple[audit.Field, ...],
    kind: str,
    commit: Callable[[], None] | None = None,
) -> None:
    """Apply body through a field table; audit ("<kind>.update") and commit what changed."""
    changed = audit.apply(row, body, fields)
    if changed:
        audit.record(f"{kind}.update", kind, row.id, **changed)
        (commit or db.session.commit)()


def _set_texts(row: Marker | Rally, body: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name in body:
            row.set_text(name, body[name])


def _marker_json(m: Marker) -> dict[str, Any]:
    return shapes.marker(m, _me(), _users())


def _rally_json(r: Rally) -> dict[str, Any]:
    return shapes.rally(r, _me(), _users())


# --- venues -------------------------------------------------------------------------------


def _venue_json(v: Venue) -> dict[str, Any]:
    placer = access.venue_placer(v)
    return shapes.venue(v, _me(), db.session.get(User, placer) if placer else None)


def _locked_venue(venue_id: int) -> Venue:
    """The venue, locked until the commit: two curators placing it at once are one after the
    other, and the second sees the first one's position (and may no longer move it)."""
    row = lock_row(Venue, venue_id)
    if row is None:
        raise UserError("venue_not_found", status=404, id=venue_id)
    return row


@bp.get("/curator/venues")
@curator
def curator_venues():
    rows = db.session.scalars(select(Venue).order_by(Venue.name)).all()
    me, users = _me(), _users()
    return {"venues": [shapes.venue(v, me, users.get(access.venue_placer(v))) for v in rows]}


@bp.patch("/curator/venues/<int:venue_id>")
@curator
def curator_update_venue(venue_id: int):
    venue = _locked_venue(venue_id)
    body = validated("VenueUpdate")
    access.require_venue_edit(_me(), venue)
    if "lat" in body:
        before = None if venue.lat is None or venue.lon is None else [venue.lat, venue.lon]
        after = [body["lat"], body["lon"]]
        if after != before:
            venue.lat, venue.lon = after
            if before is None:
                venue.placed_by_id = _me().id
            audit.record(
                "venue.place", "venue", venue.id, name=venue.name, before=before, after=after
            )
    if "step_free" in body and body["step_free"] != venue.step_free:
        audit.record(
            "venue.update",
            "venue",
            venue.id,
            name=venue.name,
            step_free=audit.before_after(venue.step_free, body["step_free"]),
        )
        venue.step_free = body["step_free"]
    db.session.commit()
    return _venue_json(venue)


@bp.delete("/curator/venues/<int:venue_id>/position")
@curator
def curator_unplace_venue(venue_id: int):
    venue = _locked_venue(venue_id)
    access.require_venue_edit(_me(), venue)
    if venue.lat is not None or venue.lon is not None:
        before = [venue.lat, venue.lon]
        venue.lat = venue.lon = None
        venue.placed_by_id = None
        audit.record("venue.unplace", "venue", venue.id, name=venue.name, before=before)
        db.session.commit()
    return _venue_json(venue)


# --- markers ------------------------------------------------------------------------------

_TEXTS = ("title", "clue", "story")


def _venue_id(value: int | None) -> int | None:
    if value is not None and db.session.get(Venue, value) is None:
        raise UserError("venue_unknown", status=422, field="venue_id", id=value)
    return value


def _set_position(m: Marker, position: list[float]) -> None:
    m.lat, m.lon = position


def _fence(body: dict[str, Any], m: Marker | None = None) -> None:
    """Check the polygon the marker will have (sent, or kept) against where it will be; the
    body's polygon becomes its stored form."""
    polygon = body.get("polygon") if m is None else body.get("polygon", m.polygon)
    if polygon is None:
        return
    lat = body["lat"] if m is None else body.get("lat", m.lat)
    lon = body["lon"] if m is None else body.get("lon", m.lon)
    checked = fences.checked(polygon, lat, lon)
    if "polygon" in body:
        body["polygon"] = checked


MARKER_FIELDS = (
    audit.Field(
        "position",
        lambda m: [m.lat, m.lon],
        _set_position,
        key="lat",
        parse=lambda body: [body["lat"], body["lon"]],
    ),
    audit.attribute("radius_m"),
    audit.attribute("polygon"),
    audit.attribute("venue_id", check=lambda m, value: _venue_id(value)),
    *(audit.text(name) for name in _TEXTS),
)
"""What PATCH /curator/markers/<id> may change; the audit names position, radius_m, polygon,
venue_id with before and after, texts by the languages changed."""


@bp.get("/curator/markers")
@curator
def curator_markers():
    rows = db.session.scalars(
        select(Marker).options(selectinload(Marker.venue)).order_by(Marker.id)
    ).all()
    uses: dict[int, list[Rally]] = {}
    for marker_id, rally in db.session.execute(
        select(RallyStop.marker_id, Rally).join(Rally).order_by(Rally.slug)
    ):
        uses.setdefault(marker_id, []).append(rally)
    me, users = _me(), _users()
    return {"markers": [shapes.marker(m, me, users, uses.get(m.id, [])) for m in rows]}


@bp.post("/curator/markers")
@curator
def curator_create_marker():
    body = validated("MarkerCreate")
    _fence(body)
    m = Marker(
        lat=body["lat"],
        lon=body["lon"],
        radius_m=body.get("radius_m", 25.0),
        polygon=body.get("polygon"),
        owner_id=_me().id,
        venue_id=_venue_id(body.get("venue_id")),
    )
    _set_texts(m, body, _TEXTS)
    db.session.add(m)
    db.session.flush()
    audit.record(
        "marker.create",
        "marker",
        m.id,
        lat=m.lat,
        lon=m.lon,
        radius_m=m.radius_m,
        polygon=m.polygon,
    )
    db.session.commit()
    return _marker_json(m), 201


@bp.get("/curator/markers/<int:marker_id>")
@curator
def curator_marker(marker_id: int):
    return _marker_json(_get(Marker, marker_id, "marker_not_found"))


@bp.patch("/curator/markers/<int:marker_id>")
@curator
def curator_update_marker(marker_id: int):
    m = _get(Marker, marker_id, "marker_not_found")
    body = validated("MarkerUpdate")
    access.require_marker_edit(_me(), m)
    _fence(body, m)
    _patch(m, body, MARKER_FIELDS, "marker")
    return _marker_json(m)


@bp.delete("/curator/markers/<int:marker_id>")
@curator
def curator_delete_marker(marker_id: int):
    m = _get(Marker, marker_id, "marker_not_found")
    access.require_marker_edit(_me(), m)
    used = access.marker_rallies(m)
    if used:
        raise UserError("marker_in_use", status=409, rallies=", ".join(r.slug for r in used))
    image = m.image
    audit.record("marker.delete", "marker", m.id, title=m.text("title"), lat=m.lat, lon=m.lon)
    db.session.delete(m)
    db.session.commit()
    media.remove(image)
    return {"deleted": True, "id": marker_id}


def _media_body(view: F) -> F:
    """Lets this view's request body be as large as an image may be (the API allows 64 KB)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request.max_content_length = current_app.config["MEDIA_MAX_BYTES"] + MULTIPART_SLACK
        try:
            return view(*args, **kwargs)
        except RequestEntityTooLarge:
            raise UserError(
                "image_too_large", status=413, max_mb=media.megabytes(media.limits().max_bytes)
            ) from None

    return wrapper  # type: ignore[return-value]


_MEDIA_STATUS = {"image_too_large": 413, "image_too_many_pixels": 413, "image_type": 415}


@bp.put("/curator/markers/<int:marker_id>/image")
@_media_body
@curator
def curator_put_image(marker_id: int):
    m = _get(Marker, marker_id, "marker_not_found")
    access.require_marker_edit(_me(), m)
    limit = media.limits().max_bytes
    if (request.content_length or 0) > limit + MULTIPART_SLACK:
        raise UserError("image_too_large", status=413, max_mb=media.megabytes(limit))
    if request.mimetype != "multipart/form-data":
        raise UserError("image_multipart", status=415)
    upload = request.files.get("image")
    if upload is None:
        raise UserError("image_missing", status=422, field="image")
    try:
        name = media.store(upload.stream.read(limit + 1))
    except media.MediaError as exc:
        raise UserError(
            exc.code, status=_MEDIA_STATUS.get(exc.code, 422), field="image", **exc.values
        ) from None
    old = m.image
    m.image = name
    audit.record("marker.image", "marker", m.id, image=name, replaced=old)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        media.remove(name)
        raise
    media.remove(old)
    return _marker_json(m)


@bp.delete("/curator/markers/<int:marker_id>/image")
@curator
def curator_delete_image(marker_id: int):
    m = _get(Marker, marker_id, "marker_not_found")
    access.require_marker_edit(_me(), m)
    old = m.image
    if old:
        m.image = None
        audit.record("marker.image_delete", "marker", m.id, image=old)
        db.session.commit()
        media.remove(old)
    return _marker_json(m)


# --- rallies ------------------------------------------------------------------------------


def _slug_free(slug: str, rally_id: int | None = None) -> None:
    taken = db.session.scalar(select(Rally.id).where(func.lower(Rally.slug) == slug.lower()))
    if taken is not None and taken != rally_id:
        raise UserError("slug_taken", status=409, field="slug", slug=slug)


def _validated_rally(schema: str) -> dict[str, Any]:
    try:
        return validated(schema)
    except UserError as exc:
        if exc.field == "slug":
            raise UserError("slug_invalid", status=422, field="slug") from None
        raise


def _word(value: str | None) -> str | None:
    return (value or "").strip() or None


def _draft_only(name: str) -> Callable[[Rally, Any], None]:
    def check(r: Rally, _value: Any) -> None:
        access.require_draft(r, name)

    return check


def _check_slug(r: Rally, slug: str) -> None:
    access.require_draft(r, "slug")
    _slug_free(slug, r.id)


def _start(r: Rally) -> list[Any] | None:
    return None if r.start_lat is None else [r.start_lat, r.start_lon, r.start_name]


def _set_start(r: Rally, start: list[Any] | None) -> None:
    r.start_lat, r.start_lon, r.start_name = start or (None, None, "")


def _parse_start(body: dict[str, Any]) -> list[Any] | None:
    start = body["start"]
    return None if start is None else [start["lat"], start["lon"], start.get("name", "")]


def _finish(r: Rally) -> list[float] | None:
    return None if r.finish_lat is None or r.finish_lon is None else [r.finish_lat, r.finish_lon]


def _set_finish(r: Rally, finish: list[float] | None) -> None:
    r.finish_lat, r.finish_lon = finish or (None, None)


def _parse_finish(body: dict[str, Any]) -> list[float] | None:
    finish = body["finish"]
    return None if finish is None else [finish["lat"], finish["lon"]]


RALLY_FIELDS = (
    audit.attribute("slug", check=_check_slug),
    audit.attribute("order_mode", check=_draft_only("order_mode")),
    audit.attribute(
        "solution_word",
        parse=lambda body: _word(body["solution_word"]),
        check=_draft_only("solution_word"),
    ),
    audit.Field("start", _start, _set_start, parse=_parse_start),
    audit.Field("finish", _finish, _set_finish, parse=_parse_finish),
    audit.text("title"),
    audit.text("intro"),
    audit.text("finish_text"),
)
"""What PATCH /curator/rallies/<id> may change: slug, order mode and solution word only while
the rally is a draft."""


def _commit_rally() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise UserError("slug_taken", status=409, field="slug", slug="") from None


@bp.get("/curator/rallies")
@curator
def curator_rallies():
    rows = db.session.scalars(
        select(Rally).options(selectinload(Rally.stops)).order_by(Rally.slug)
    ).all()
    me, users = _me(), _users()
    return {"rallies": [shapes.rally_brief(r, users, me) for r in rows]}


@bp.post("/curator/rallies")
@curator
def curator_create_rally():
    body = _validated_rally("RallyCreate")
    _slug_free(body["slug"])
    r = Rally(
        slug=body["slug"],
        owner_id=_me().id,
        status=RallyStatus.DRAFT,
        order_mode=body.get("order_mode", "fixed"),
        solution_word=_word(body.get("solution_word")),
    )
    _set_texts(r, body, ("title", "intro"))
    db.session.add(r)
    db.session.flush()
    audit.record("rally.create", "rally", r.id, slug=r.slug)
    _commit_rally()
    return _rally_json(r), 201


@bp.get("/curator/rallies/<int:rally_id>")
@curator
def curator_rally(rally_id: int):
    return _rally_json(_get(Rally, rally_id, "curator_rally_not_found"))


@bp.patch("/curator/rallies/<int:rally_id>")
@curator
def curator_update_rally(rally_id: int):
    r = _get(Rally, rally_id, "curator_rally_not_found")
    body = _validated_rally("RallyUpdate")
    access.require_rally_edit(_me(), r)
    _patch(r, body, RALLY_FIELDS, "rally", commit=_commit_rally)
    return _rally_json(r)


@bp.delete("/curator/rallies/<int:rally_id>")
@curator
def curator_delete_rally(rally_id: int):
    r = _get(Rally, rally_id, "curator_rally_not_found")
    access.require_rally_edit(_me(), r)
    access.require_draft(r)
    if access.team_count(r):
        raise UserError("rally_has_teams", status=409)
    audit.record("rally.delete", "rally", r.id, slug=r.slug, title=r.text("title"))
    db.session.delete(r)
    db.session.commit()
    return {"deleted": True, "id": rally_id}


def _rallyfile_error(exc: rallyfile.RallyFileError, code: str) -> UserError:
    """A task or hints the rally file's rules refuse: 422 naming the field (dotted) and why."""
    field = re.sub(r"\[(\d+)\]", r".\1", exc.where)
    return UserError(code, status=422, field=field, problem=exc.problem)


def _stop_task(stop: dict[str, Any], i: int) -> dict[str, Any] | None:
    """The stop's task as the body sends it, checked and in canonical form (None: no task)."""
    if stop["task"] is None:
        return None
    try:
        return rallyfile.dump_task(rallyfile.parse_task(stop["task"], f"stops.{i}.task"))
    except rallyfile.RallyFileError as exc:
        raise _rallyfile_error(exc, "stop_task_invalid") from None


def _stop_hints(stop: dict[str, Any], i: int) -> list[dict[str, Any]]:
    try:
        return rallyfile.dump_hints(rallyfile.parse_hints(stop["hints"], f"stops.{i}.hints"))
    except rallyfile.RallyFileError as exc:
        raise _rallyfile_error(exc, "stop_hints_invalid") from None


STOP_PARTS = ("clue", "clue_from", "task", "hints")
"""What a stop keeps beside its marker, through reorders and copies."""


def _stop_parts(s: RallyStop) -> dict[str, Any]:
    return {
        "clue": s.text("clue"),
        "clue_from": s.clue_from,
        "task": s.task,
        "hints": s.hints or [],
    }


def _new_stop(marker_id: int, position: int, parts: dict[str, Any]) -> RallyStop:
    row = RallyStop(marker_id=marker_id, position=position)
    row.set_text("clue", parts.get("clue") or {})
    row.clue_from, row.task, row.hints = (
        parts.get("clue_from"),
        parts.get("task"),
        parts.get("hints") or [],
    )
    return row


@bp.put("/curator/rallies/<int:rally_id>/stops")
@curator
def curator_set_stops(rally_id: int):
    r = _locked_rally(rally_id)
    body = validated("RallyStops")
    access.require_rally_edit(_me(), r)
    access.require_draft(r, "stops")
    wanted = body["stops"]
    seen: set[int] = set()
    for i, stop in enumerate(wanted):
        field = f"stops.{i}.marker_id"
        if stop["marker_id"] in seen:
            raise UserError("stop_duplicate", status=422, field=field, id=stop["marker_id"])
        seen.add(stop["marker_id"])
        if db.session.get(Marker, stop["marker_id"]) is None:
            raise UserError("stop_marker_unknown", status=422, field=field, id=stop["marker_id"])
    kept = {s.marker_id: _stop_parts(s) for s in r.stops}
    before = [s.marker_id for s in r.stops]
    after = [s["marker_id"] for s in wanted]
    parts: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for i, stop in enumerate(wanted):
        old = kept.get(stop["marker_id"]) or {
            "clue": {},
            "clue_from": None,
            "task": None,
            "hints": [],
        }
        new = dict(old)
        if "task" in stop:
            new["task"] = _stop_task(stop, i)
        if "hints" in stop:
            new["hints"] = _stop_hints(stop, i)
        if "clue" in stop:
            probe = RallyStop()
            probe.set_text("clue", old["clue"])
            probe.set_text("clue", stop["clue"])
            new["clue"] = probe.text("clue")
            if new["clue"] != old["clue"]:
                written = any(v.strip() for v in new["clue"].values())
                new["clue_from"] = after[i - 1] if written and i > 0 else None
        what = [k for k in ("task", "hints") if new[k] != old[k]]
        what += [
            f"clue.{lang}"
            for lang in TEXT_LANGUAGES
            if new["clue"].get(lang, "") != old["clue"].get(lang, "")
        ]
        if what:
            changed.append({"marker_id": stop["marker_id"], "changed": what})
        parts.append(new)
    r.stops.clear()
    db.session.flush()
    for i, stop in enumerate(wanted):
        r.stops.append(_new_stop(stop["marker_id"], i, parts[i]))
    r.updated_at = datetime.now(UTC)
    detail: dict[str, Any] = {"before": before, "after": after}
    if changed:
        detail["stops"] = changed
    audit.record("rally.stops", "rally", r.id, **detail)
    db.session.commit()
    db.session.refresh(r)
    return _rally_json(r)


@bp.post("/curator/rallies/<int:rally_id>/copy")
@curator
def curator_copy_rally(rally_id: int):
    source = _get(Rally, rally_id, "curator_rally_not_found")
    body = _validated_rally("RallyCopy")
    _slug_free(body["slug"])
    r = Rally(
        slug=body["slug"],
        owner_id=_me().id,
        status=RallyStatus.DRAFT,
        order_mode=source.order_mode,
        solution_word=source.solution_word,
        start_lat=source.start_lat,
        start_lon=source.start_lon,
        start_name=source.start_name,
        finish_lat=source.finish_lat,
        finish_lon=source.finish_lon,
        walking_speed_mps=source.walking_speed_mps,
        dwell_s=source.dwell_s,
        play_area=copy.deepcopy(source.play_area),
    )
    title = source.text("title")
    r.set_text(
        "title",
        {
            lang: t("curator.rally.copy_title", lang, title=text) if text else ""
            for lang, text in title.items()
        },
    )
    r.set_text("intro", source.text("intro"))
    r.set_text("finish_text", source.text("finish_text"))
    r.stops = [
        _new_stop(s.marker_id, i, copy.deepcopy(_stop_parts(s))) for i, s in enumerate(source.stops)
    ]
    db.session.add(r)
    db.session.flush()
    audit.record(
        "rally.copy", "rally", r.id, slug=r.slug, source=source.id, source_slug=source.slug
    )
    _commit_rally()
    return _rally_json(r), 201


@bp.get("/curator/rallies/<int:rally_id>/findings")
@curator
def curator_findings(rally_id: int):
    r = _get(Rally, rally_id, "curator_rally_not_found")
    return shapes.findings(game.domain_rally(r))


@bp.get("/curator/rallies/<int:rally_id>/order-suggestion")
@curator
def curator_suggest_order(rally_id: int):
    r = _get(Rally, rally_id, "curator_rally_not_found")
    d = game.domain_rally(r)
    s = ordering.suggest_order(d)
    return {
        "order": s.order,
        "marker_ids": [d.stops[i].marker.id for i in s.order],
        "length_m": round(s.length_m, 1),
        "original_length_m": round(s.original_length_m, 1),
        "saving_m": round(s.saving_m, 1),
        "changed": s.changed,
    }


@bp.put("/curator/rallies/<int:rally_id>/status")
@curator
def curator_set_status(rally_id: int):
    r = _locked_rally(rally_id)
    body = validated("RallyStatusChange")
    access.require_rally_edit(_me(), r)
    wanted = RallyStatus(body["status"])
    if wanted is r.status:
        return _rally_json(r)
    if wanted is RallyStatus.PUBLISHED:
        found = validate.validate(game.domain_rally(r))
        errors = [f for f in found if f.severity is validate.Severity.ERROR]
        if errors:
            raise UserError(
                "rally_has_errors",
                status=409,
                findings={lang: " ".join(f.message[lang] for f in errors) for lang in LANGUAGES},
            )
        r.status, r.published_at = RallyStatus.PUBLISHED, datetime.now(UTC)
        audit.record("rally.publish", "rally", r.id, slug=r.slug)
    else:
        if access.team_count(r):
            raise UserError("rally_has_teams", status=409)
        r.status = RallyStatus.DRAFT
        audit.record("rally.unpublish", "rally", r.id, slug=r.slug)
    db.session.commit()
    return _rally_json(r)


@bp.post("/curator/rallies/<int:rally_id>/simulate")
@curator
def curator_simulate(rally_id: int):
    r = _get(Rally, rally_id, "curator_rally_not_found")
    body = validated("SimulateStep")
    return simulate.step(r, _me().id, body, body.get("language") or language())


def _user_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else address_key()


@bp.post("/curator/rallies/<int:rally_id>/simulate/walk")
@limiter.limit(
    setting("RATELIMIT_SIMULATE_WALK"),
    key_func=_user_key,
    on_breach=refuse("simulation_limited"),
)
@curator
def curator_simulate_walk(rally_id: int):
    """The whole simulated walk in one request, counted per curator and not against the
    address's limit that players share."""
    r = _get(Rally, rally_id, "curator_rally_not_found")
    body = validated("SimulateWalk")
    return simulate.walk(r, body, body.get("language") or language())
