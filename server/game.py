"""The server's side of the game: rows to the domain model, events through routes.rules, finds
recorded at most once."""

from __future__ import annotations

import functools
import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, inspect, literal, null, select, union_all, update
from sqlalchemy.orm.attributes import set_committed_value

from markers import shortcodes, tokens
from markers.geo import LatLon
from routes import model as domain
from routes import rallyfile, rules
from server import models
from server.database import (
    LostRace,
    begin_write,
    insert_new,
    retry_transient,
    start_writing,
)
from server.extensions import db


def rules_config() -> rules.RulesConfig:
    """The rules' numbers from the app's settings; search areas keyed by the secret key."""
    cfg = current_app.config
    secret = hmac.new(cfg["SECRET_KEY"].encode(), b"search-area", hashlib.sha256).digest()
    return rules.RulesConfig(
        accuracy_cap_m=cfg["RULES_ACCURACY_CAP_M"],
        ar_radius_m=cfg["RULES_AR_RADIUS_M"],
        search_radius_m=cfg["RULES_SEARCH_RADIUS_M"],
        max_speed_mps=cfg["RULES_MAX_SPEED_MPS"],
        area_secret=secret,
    )


def domain_marker(m: models.Marker) -> domain.Marker:
    return domain.Marker(
        id=m.id,
        position=LatLon(m.lat, m.lon),
        radius_m=m.radius_m,
        title=m.text("title"),
        clue=m.text("clue"),
        story=m.text("story"),
        polygon=tuple(LatLon(p[0], p[1]) for p in m.polygon) if m.polygon else None,
        venue=m.venue.name if m.venue else None,
        step_free=m.venue.step_free if m.venue else None,
        image=m.image,
    )


def domain_stop(s: models.RallyStop) -> domain.Stop:
    """A stop row as routes/ sees it: its own clue (when written), task and hints."""
    clue = s.text("clue")
    return domain.Stop(
        domain_marker(s.marker),
        clue if any(clue.values()) else None,
        task=rallyfile.parse_task(s.task, "task") if s.task else None,
        hints=rallyfile.parse_hints(s.hints or [], "hints"),
        clue_from=s.clue_from,
    )


def domain_rally(r: models.Rally) -> domain.Rally:
    """The rally as routes/ sees it."""
    return domain.Rally(
        id=r.id,
        slug=r.slug,
        title=r.text("title"),
        stops=tuple(domain_stop(s) for s in r.stops),
        order_mode=domain.OrderMode(r.order_mode),
        start=_point(r.start_lat, r.start_lon),
        finish=_point(r.finish_lat, r.finish_lon),
        solution_word=r.solution_word or None,
        walking_speed_mps=r.walking_speed_mps,
        dwell_s=r.dwell_s,
        play_area=tuple(LatLon(p[0], p[1]) for p in r.play_area) if r.play_area else None,
        intro=r.text("intro"),
        finish_text=r.text("finish_text"),
    )


RALLY_MODELS = 64
"""How many rally versions' domain models a process keeps."""


def rally_model(row: models.Rally) -> domain.Rally:
    """The rally's domain model, built once per rally version and kept in this process (it is
    immutable; every change to the rally makes a new version, server/models.py)."""
    cache: OrderedDict[tuple[int, int], domain.Rally] = current_app.extensions.setdefault(
        "artcaching.rally_models", OrderedDict()
    )
    key = (row.id, row.version)
    with _RALLY_MODELS_LOCK:
        model = cache.get(key)
        if model is not None:
            cache.move_to_end(key)
            return model
    full = db.session.scalars(select(models.Rally).where(models.Rally.id == row.id)).one()
    model = domain_rally(full)
    with _RALLY_MODELS_LOCK:
        cache[key] = model
        while len(cache) > RALLY_MODELS:
            cache.popitem(last=False)
    return model


_RALLY_MODELS_LOCK = threading.Lock()


def _point(lat: float | None, lon: float | None) -> LatLon | None:
    return None if lat is None or lon is None else LatLon(lat, lon)


def team_state(team: models.Team) -> rules.TeamState:
    """The team's state as the rules see it: its finds, last fix, start and task progress."""
    loaded = inspect(team).dict
    if "discoveries" in loaded and "progress" in loaded:
        found = tuple(
            rules.Find(d.marker_id, d.found_at, rules.Method(d.method)) for d in team.discoveries
        )
        progress = {
            p.marker_id: rules.StopProgress(p.wrong, p.solved, p.points, p.hints)
            for p in team.progress
        }
    else:
        found, progress = _state_rows(team.id)
    last = None
    if team.last_fix_at is not None and team.last_lat is not None and team.last_lon is not None:
        last = rules.Fix(
            LatLon(team.last_lat, team.last_lon), team.last_accuracy_m or 0.0, team.last_fix_at
        )
    return rules.TeamState(
        found=found, last_fix=last, started_at=team.started_at, progress=progress
    )


_STATE = union_all(
    select(
        literal("d").label("kind"),
        models.Discovery.marker_id,
        models.Discovery.method,
        models.Discovery.found_at,
        literal(0).label("wrong"),
        literal(False).label("solved"),
        literal(0).label("points"),
        literal(0).label("hints"),
    ).where(models.Discovery.team_id == bindparam("team")),
    select(
        literal("p"),
        models.StopProgress.marker_id,
        null(),
        null(),
        models.StopProgress.wrong,
        models.StopProgress.solved,
        models.StopProgress.points,
        models.StopProgress.hints,
    ).where(models.StopProgress.team_id == bindparam("team")),
)
"""A team's finds and task progress in one query (a check-in reads nothing else of it)."""


def _state_rows(
    team_id: int,
) -> tuple[tuple[rules.Find, ...], dict[int, rules.StopProgress]]:
    found: list[rules.Find] = []
    progress: dict[int, rules.StopProgress] = {}
    for kind, marker_id, method, at, wrong, solved, points, hints in db.session.execute(
        _STATE, {"team": team_id}
    ):
        if kind == "d":
            found.append(rules.Find(marker_id, at, rules.Method(method)))
        else:
            progress[marker_id] = rules.StopProgress(wrong, bool(solved), points, hints)
    found.sort(key=lambda f: f.at)
    return tuple(found), progress


def keyring() -> tokens.KeyRing:
    """The QR signing keys; the first is made on first use (once, when first uses race)."""

    def load_or_make() -> tokens.KeyRing:
        rows = db.session.scalars(select(models.SigningKey)).all()
        if rows:
            return tokens.KeyRing(tokens.SigningKey(k.id, k.secret, k.status) for k in rows)
        ring = tokens.KeyRing.generate()
        save_keyring(ring)
        return ring

    return retry_transient(load_or_make, "the QR key ring could not be made")


def save_keyring(ring: tokens.KeyRing) -> None:
    """Write the ring's keys (new ones and status changes) and commit."""
    for key in ring.keys:
        row = db.session.get(models.SigningKey, key.id)
        if row is None:
            db.session.add(models.SigningKey(id=key.id, secret=key.secret, status=key.status))
        else:
            row.status = key.status
    db.session.commit()


def qr_url_for(rally_id: int, marker_id: int) -> str:
    """The URL a printed QR fallback holds, signed with the current key."""
    token = keyring().sign(rally_id, marker_id)
    return tokens.qr_url(current_app.config["PUBLIC_BASE_URL"], token)


def stop_by_code(typed: str) -> models.RallyStop | None:
    """The stop whose short code was typed (any case, with or without the dash), if any."""
    code = shortcodes.normalize(typed)
    if code is None:
        return None
    return db.session.scalar(select(models.RallyStop).where(models.RallyStop.code == code))


@dataclass(frozen=True)
class Applied:
    """An event's answer: the rules' outcome (None for a repeated event) and the JSON stored."""

    status: int
    body: dict[str, Any]
    outcome: rules.Outcome | None = None


def record_outcome(team: models.Team, before: rules.TeamState, outcome: rules.Outcome) -> None:
    """Write an outcome's finds, flags, last fix, score and task progress (``before``: the
    state it was worked out from) to the team's rows, if the team is still at the revision its
    state was read at (else LostRace: read again and retry)."""
    values: dict[str, Any] = {
        "score": outcome.view.score,
        "found_count": len(outcome.view.found),
        "last_seen_at": datetime.now(UTC),
    }
    finished = outcome.view.finished_at
    values["finished_at"] = None if finished is None else max(finished, team.started_at)
    fix = outcome.state.last_fix
    if fix is not None:
        values["last_lat"], values["last_lon"] = fix.position
        values["last_accuracy_m"] = fix.accuracy_m
        values["last_fix_at"] = fix.at
    values["revision"] = team.revision + 1
    written = db.session.execute(
        _team_update(tuple(values)), {**values, "w_id": team.id, "w_revision": team.revision}
    )
    if written.rowcount != 1:  # type: ignore[attr-defined]
        raise LostRace(f"team {team.id} changed")
    for key, value in values.items():
        set_committed_value(team, key, value)
    for found in outcome.found:
        db.session.add(
            models.Discovery(
                team_id=team.id,
                marker_id=found.marker_id,
                method=found.method.value,
                found_at=found.at,
            )
        )
    for flag in outcome.flags:
        db.session.add(
            models.TeamFlag(
                team_id=team.id,
                kind=flag.kind.value,
                at=flag.at,
                marker_id=flag.marker_id,
                detail=dict(flag.detail),
            )
        )
    for marker_id, progress in outcome.state.progress.items():
        if before.progress.get(marker_id) == progress:
            continue
        values = {
            "wrong": progress.wrong,
            "solved": progress.solved,
            "points": progress.points,
            "hints": progress.hints,
            "updated_at": datetime.now(UTC),
        }
        if marker_id not in before.progress:
            db.session.add(models.StopProgress(team_id=team.id, marker_id=marker_id, **values))
            continue
        db.session.execute(
            update(models.StopProgress)
            .where(
                models.StopProgress.team_id == team.id,
                models.StopProgress.marker_id == marker_id,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )


_DEVICE_UPDATE = (
    update(models.TeamToken)
    .where(models.TeamToken.id == bindparam("w_id"))
    .values(last_recorded_at=bindparam("last_recorded_at"))
    .execution_options(synchronize_session=False)
)


@functools.cache
def _team_update(columns: tuple[str, ...]) -> Any:
    """UPDATE team SET <columns> WHERE id = :w_id AND revision = :w_revision, built once."""
    return (
        update(models.Team)
        .where(models.Team.id == bindparam("w_id"), models.Team.revision == bindparam("w_revision"))
        .values({c: bindparam(c) for c in columns})
        .execution_options(synchronize_session=False)
    )


def apply_event(
    team: models.Team,
    client_event_id: str | None,
    kind: str,
    make_event: Callable[[models.Team, domain.Rally], rules.Event],
    answer: Callable[[models.Team, domain.Rally, rules.Outcome], dict[str, Any]],
    device: models.TeamToken | None = None,
) -> Applied:
    """Apply one event to a team, at most once per client event id, safe under concurrency.

    The team's state is read without a lock; the outcome is written only over the revision it
    was read at (an UPDATE that also locks the row until the commit), else it is read again
    under the row lock (FOR UPDATE; BEGIN IMMEDIATE on SQLite) and applied again. The client
    event id is inserted with the outcome unless it is there already: then the first answer
    is returned and nothing changes. ``device`` is the device whose own clock stamped the
    event: its times only move forward (routes.rules.apply).
    """
    team_id = team.id
    device_id = None if device is None else device.id
    first = True

    def attempt() -> Applied:
        nonlocal first, team, device
        if not first:
            db.session.rollback()
            begin_write()
            found = db.session.get(
                models.Team, team_id, with_for_update=True, populate_existing=True
            )
            if found is None:
                raise LookupError(team_id)
            team = found
            device = None if device_id is None else db.session.get(models.TeamToken, device_id)
        first = False
        rally = rally_model(team.rally)
        before = team_state(team)
        outcome = rules.apply(
            rally,
            before,
            make_event(team, rally),
            rules_config(),
            device_latest=None if device is None else device.last_recorded_at,
        )
        start_writing()
        record_outcome(team, before, outcome)
        if device is not None and device.last_recorded_at != outcome.at:
            db.session.execute(_DEVICE_UPDATE, {"w_id": device.id, "last_recorded_at": outcome.at})
        db.session.flush()
        body = answer(team, rally, outcome)
        if client_event_id is not None:
            values = {
                "team_id": team_id,
                "client_event_id": client_event_id,
                "kind": kind,
                "received_at": datetime.now(UTC),
                "status": 200,
                "response": body,
            }
            if not insert_new(models.ClientEvent, values, ("team_id", "client_event_id")):
                db.session.rollback()
                prior = stored_event(team_id, client_event_id)
                if prior is None:
                    raise LostRace(f"event {client_event_id} of team {team_id} undone")
                return Applied(prior.status, prior.response)
        db.session.commit()
        return Applied(200, body, outcome)

    return retry_transient(attempt, f"team {team_id}: event could not be applied")


def stored_event(team_id: int, client_event_id: str) -> models.ClientEvent | None:
    """The recorded first answer to a client event id of the team, if any."""
    return db.session.scalar(
        select(models.ClientEvent).filter_by(team_id=team_id, client_event_id=client_event_id)
    )
