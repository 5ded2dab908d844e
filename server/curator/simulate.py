"""Try a rally before publishing: the player's rules applied to a pretend team, nothing written.

walk() walks the whole rally in one request (what the editor's "simulated walk" shows); step()
sends one event at a time, for API clients that script their own walk.

Each step takes the state the previous one returned (signed, so it comes back unchanged) and an
event, runs routes.rules.apply on the rally as it is in the database (drafts included), and
answers with exactly the JSON a player's check-in or scan gets (server.api.serialize). The pretend
team answers the task of each stop it finds at once and right (the curator's own answer), so the
walk shows the points and letters a good team gets.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType, SimpleNamespace
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from markers import geo
from markers.geo import LatLon
from routes import model as domain
from routes import rules
from server import game, models
from server.api import serialize
from server.i18n import both, t
from server.usererror import UserError

SALT = "curator-simulation"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _pretend_team(row: models.Rally, lang: str, started: datetime) -> SimpleNamespace:
    """The team the simulation plays as: named in the curator's language, never stored."""
    return SimpleNamespace(
        id=0,
        name=t("curator.sim.team_name", lang),
        language=lang,
        join_code="",
        started_at=started,
        rally=row,
    )


def encode(rally_id: int, user_id: int, started: datetime, state: rules.TeamState) -> str:
    """The state as an opaque, signed string."""
    last = state.last_fix
    return _serializer().dumps(
        {
            "r": rally_id,
            "u": user_id,
            "s": serialize.iso(started),
            "f": [[f.marker_id, serialize.iso(f.at), f.method.value] for f in state.found],
            "l": None
            if last is None
            else [last.position.lat, last.position.lon, last.accuracy_m, serialize.iso(last.at)],
            "p": [[m, p.wrong, p.solved, p.points, p.hints] for m, p in state.progress.items()],
        }
    )


def decode(token: str, rally_id: int, user_id: int) -> tuple[datetime, rules.TeamState]:
    """(start time, state) from a string encode() made for this rally and user, else 422."""
    try:
        data = _serializer().loads(token)
        if data["r"] != rally_id or data["u"] != user_id:
            raise ValueError("another rally's or user's simulation")
        found = tuple(
            rules.Find(int(m), _time(at), rules.Method(method)) for m, at, method in data["f"]
        )
        last = None
        if data["l"] is not None:
            lat, lon, accuracy, at = data["l"]
            last = rules.Fix(LatLon(lat, lon), float(accuracy), _time(at))
        progress = {
            int(m): rules.StopProgress(int(wrong), bool(solved), int(points), int(hints))
            for m, wrong, solved, points, hints in data.get("p", [])
        }
        state = rules.TeamState(found=found, last_fix=last, progress=MappingProxyType(progress))
        return _time(data["s"]), state
    except (BadSignature, KeyError, TypeError, ValueError):
        raise UserError("simulation_state_invalid", status=422, field="state") from None


def parse_at(value: str | None) -> datetime:
    """The simulated time of an event: any RFC 3339 time with a zone (the walk may be in the
    future), or now."""
    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if at.tzinfo is None:
            raise ValueError("no zone")
        return at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise UserError(
            "invalid_field", status=422, field="at", detail=both("curator.sim.at_invalid")
        ) from None


def step(row: models.Rally, user_id: int, body: dict[str, Any], lang: str) -> dict[str, Any]:
    """One event of the pretend team: {"state": next state, "event": the player's answer}."""
    at = parse_at(body.get("at"))
    if body.get("state"):
        started, state = decode(body["state"], row.id, user_id)
    else:
        started, state = at, rules.TeamState()
    rally = game.domain_rally(row)
    fix = None
    if "lat" in body:
        fix = rules.Fix(
            LatLon(body["lat"], body["lon"]), float(body.get("accuracy_m", 5.0)), at, mock=False
        )
    if "marker_id" in body:
        event: rules.Event = rules.QrEvent(row.id, body["marker_id"], at, fix)
    elif fix is not None:
        event = rules.GpsEvent(fix)
    else:
        raise UserError(
            "invalid_field", status=422, field="lat", detail=both("curator.sim.position_required")
        )
    config = game.rules_config()
    outcome = rules.apply(rally, state, event, config)
    answered, outcome = answer_tasks(rally, outcome, config)
    team = _pretend_team(row, lang, started)
    return {
        "state": encode(row.id, user_id, started, outcome.state),
        "event": serialize.event_result(team, rally, outcome, lang),  # type: ignore[arg-type]
        "tasks": answered,
        "task_points": sum(p.points for p in outcome.state.progress.values()),
    }


def answer_tasks(
    rally: domain.Rally, outcome: rules.Outcome, config: rules.RulesConfig
) -> tuple[list[dict[str, Any]], rules.Outcome]:
    """The pretend team answers the task of each stop it found now, right at the first attempt;
    (what each answer did, the outcome with the state and view after the answers)."""
    answered = []
    after = outcome
    for found in outcome.found:
        task = rally.stops[found.index].task
        if task is None:
            continue
        event = rules.AnswerEvent(found.marker_id, task.shown_answer, outcome.at)
        after = rules.apply(rally, after.state, event, config)
        result = after.answer
        answered.append(
            {
                "stop": found.index + 1,
                "marker_id": found.marker_id,
                "correct": result is not None and result.correct,
                "points": 0 if result is None else result.points,
            }
        )
    return answered, replace(outcome, state=after.state, view=after.view)


WALK_STEP_M = 8.0
"""How far apart the pretend team's fixes are on its walk (well inside any geofence)."""
WALK_MAX_STEPS = 3000
"""At most this many fixes per walk: longer routes are walked with longer steps."""


def route_fixes(
    points: list[LatLon], speed_mps: float, start: datetime
) -> list[tuple[LatLon, datetime]]:
    """Fixes along the walking line at walking speed: every corner, and points about
    WALK_STEP_M apart between corners (farther on very long routes)."""
    legs = [geo.distance_m(a, b) for a, b in itertools.pairwise(points)]
    step = max(WALK_STEP_M, sum(legs) / WALK_MAX_STEPS)
    fixes = [(points[0], start)]
    at = start
    for (a, b), length in zip(itertools.pairwise(points), legs, strict=True):
        parts = max(1, math.ceil(length / step))
        bearing = geo.bearing_deg(a, b)
        for k in range(1, parts + 1):
            at += timedelta(seconds=length / parts / speed_mps)
            fixes.append((b if k == parts else geo.destination(a, bearing, length * k / parts), at))
    return fixes


def walk(row: models.Rally, body: dict[str, Any], lang: str) -> dict[str, Any]:
    """The whole rally walked by a pretend team in one go, at the rally's walking speed along
    its walking line: each fix with what the rules answered; where stops were found (and at the
    start) the answer a player's check-in gets and the tasks answered. Nothing is written."""
    rally = game.domain_rally(row)
    if not rally.stops:
        raise UserError("simulation_no_route", status=409)
    started = parse_at(body.get("at"))
    config = game.rules_config()
    team = _pretend_team(row, lang, started)
    state = rules.TeamState()
    steps: list[dict[str, Any]] = []
    task_points = 0
    outcome = None
    for position, at in route_fixes(rally.waypoints(), rally.walking_speed_mps, started):
        event = rules.GpsEvent(rules.Fix(position, 5.0, at, mock=False))
        outcome = rules.apply(rally, state, event, config)
        answered, outcome = answer_tasks(rally, outcome, config)
        state = outcome.state
        step: dict[str, Any] = {
            "lat": position.lat,
            "lon": position.lon,
            "at": serialize.iso(at),
            "result": outcome.rejection.value if outcome.rejection else "found",
        }
        if outcome.found or not steps:
            step["event"] = serialize.event_result(team, rally, outcome, lang)  # type: ignore[arg-type]
            step["tasks"] = answered
        steps.append(step)
        task_points = sum(p.points for p in state.progress.values())
        if outcome.view.complete:
            break
    assert outcome is not None
    return {
        "steps": steps,
        "finished": outcome.view.complete,
        "score": outcome.view.score,
        "task_points": task_points,
        "found": len(outcome.view.found),
        "total": outcome.view.total,
    }
