"""The player API: rallies, teams, check-ins, QR scans, leaderboard."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import current_app, g, request
from sqlalchemy import select

from markers import tokens
from markers.geo import LatLon
from routes import rules
from server import game, models, privacy, rallies, teams
from server.api import bp, serialize
from server.api.errors import error_json
from server.api.openapi import BATCH_KINDS
from server.api.validation import json_body, parse_time, validated
from server.database import reads_first
from server.extensions import db
from server.i18n import both, language, set_preferred
from server.ratelimit import (
    bearer_holder,
    bearer_token,
    join_code_limits,
    limiter,
    short_code_guard,
    team_creation_limit,
    wrong_short_code,
)
from server.usererror import UserError


def _limit(name: str):
    return limiter.limit(lambda: current_app.config[name])


def current_team() -> models.Team:
    """The team whose bearer token came with the request, else 401."""
    if "team" in g:
        return g.team
    token = bearer_token()
    if token is None:
        raise UserError("token_missing", status=401)
    held = bearer_holder()
    if held is None:
        raise UserError("token_unknown", status=401)
    team, g.device = held
    set_preferred(team.language)
    g.team = team
    return team


def team_answer(team: models.Team) -> dict[str, Any]:
    """The team's whole state as JSON, in the request's language."""
    return serialize.team(team, *teams.view(team), language())


@bp.get("/rallies")
def list_rallies():
    rows = db.session.scalars(
        select(models.Rally)
        .filter_by(status=models.RallyStatus.PUBLISHED)
        .order_by(models.Rally.published_at.desc(), models.Rally.id)
    ).all()
    lang = language()
    return {"rallies": [serialize.rally_summary(r, game.domain_rally(r), lang) for r in rows]}


@bp.get("/rallies/<slug>")
def get_rally(slug: str):
    row = rallies.by_slug(slug)
    return serialize.rally_public(row, game.domain_rally(row), language())


@bp.post("/rallies/<slug>/teams")
@team_creation_limit
def post_team(slug: str):
    body = validated("TeamCreate")
    rally = rallies.by_slug(slug, playable=True)
    lang = body.get("language") or language()
    team, token = teams.create(rally, teams.clean_name(body["name"]), lang)
    set_preferred(team.language)
    return {"token": token, "join_code": team.join_code, "team": team_answer(team)}, 201


@bp.post("/rallies/<slug>/join")
@join_code_limits
def join_team(slug: str):
    body = validated("TeamJoin")
    rally = rallies.by_slug(slug, playable=True)
    team = teams.by_join_code(rally, body["join_code"])
    if team is None:
        raise UserError("join_code_unknown", status=404, field="join_code")
    token = teams.new_token(team)
    db.session.commit()
    set_preferred(team.language)
    return {"token": token, "join_code": team.join_code, "team": team_answer(team)}, 201


@bp.get("/rallies/<slug>/leaderboard")
def leaderboard(slug: str):
    row = rallies.by_slug(slug)
    try:
        limit = min(max(int(request.args.get("limit", 100)), 1), 1000)
    except ValueError:
        raise UserError(
            "invalid_field", status=422, field="limit", detail=both("validation.whole_number")
        ) from None
    board = teams.leaderboard(row)[:limit]
    return {
        "rally": row.slug,
        "total_stops": len(row.stops),
        "entries": [
            {
                "rank": s.rank,
                "team": s.team.name,
                "score": s.team.score,
                "found": s.team.found_count,
                "finished": s.team.finished_at is not None,
                "duration_s": None if s.duration_s is None else round(s.duration_s),
            }
            for s in board
        ],
    }


@bp.get("/team")
def get_team():
    return team_answer(current_team())


def _fix(body: dict[str, Any], at: datetime) -> rules.Fix | None:
    if "lat" not in body:
        return None
    return rules.Fix(
        LatLon(body["lat"], body["lon"]),
        float(body["accuracy_m"]),
        at,
        mock=bool(body.get("mock_location", False)),
    )


def _apply(
    team: models.Team,
    client_event_id: str,
    kind: str,
    event: Callable[[], rules.Event],
    stamped: bool,
    shape: Callable[..., dict[str, Any]] = serialize.event_result,
) -> Answered:
    """Apply the event ``event()`` makes of the request (it checks it: UserError when it may
    not count) once per client event id; ``stamped`` when the phone's clock gave its time (then
    the device's times must move forward). ``shape`` makes the answer's JSON. A repeated event
    id gets its first answer, even when the event could not count now (the rally closed)."""
    lang = language()
    try:
        checked = event()
    except UserError:
        if (answer := _repeat(team, client_event_id)) is not None:
            return answer
        raise
    try:
        applied = game.apply_event(
            team,
            client_event_id,
            kind,
            lambda t, r: checked,
            lambda t, r, o: shape(t, r, o, lang),
            device=g.device if stamped else None,
        )
    except TimeoutError:
        raise UserError("busy", status=503) from None
    return _answer(team, applied.body), applied.status


def _playing(team: models.Team) -> None:
    """The team's rally is running (else 404 or 409)."""
    rallies.check_playable(team.rally)


def _answer(team: models.Team, stored: dict[str, Any]) -> dict[str, Any]:
    """A stored answer as sent; one whose positions were forgotten (privacy.forgotten_answer)
    is completed with the team's state of now, so it still is a whole EventResult."""
    if not privacy.is_forgotten(stored):
        return stored
    if any(k in stored for k in privacy.KEPT_ANSWER):
        kept = {
            k: v for k, v in stored.items() if k not in (privacy.FORGOTTEN, "found_now", "flags")
        }
        return {**kept, "team": team_answer(team)}
    state = team_answer(team)
    return {
        "result": stored["result"],
        "found_now": [f for f in state["found"] if f["marker_id"] in _ids(stored["found_now"])],
        "flags": stored["flags"],
        "visible": [o for o in state["open"] if o["marker"] is not None],
        "team": state,
    }


def _ids(found: list[dict[str, Any]]) -> set[int]:
    return {f["marker_id"] for f in found}


def _event_time(body: dict[str, Any], team: models.Team) -> datetime:
    """When the event happened by the phone's clock (it may reach us later, from the outbox).

    Refused beyond MAX_CLOCK_SKEW_S in the future or before the team's start; a device's
    times only move forward (routes.rules.apply).
    """
    if "recorded_at" not in body:
        return datetime.now(UTC)
    return parse_time(body["recorded_at"], "recorded_at", not_before=team.started_at)


def _repeat(team: models.Team, client_event_id: str) -> Answered | None:
    """The stored first answer to a repeated event id, even after the rally closed."""
    prior = game.stored_event(team.id, client_event_id)
    return None if prior is None else (_answer(team, prior.response), prior.status)


Answered = tuple[dict[str, Any], int]
"""An event's answer: its JSON and its status."""


@bp.post("/team/checkins")
@reads_first
@_limit("RATELIMIT_EVENTS")
def checkin():
    return _checkin(current_team(), validated("Checkin"))


def _checkin(team: models.Team, body: dict[str, Any]) -> Answered:
    def event() -> rules.Event:
        _playing(team)
        return rules.GpsEvent(_fix(body, _event_time(body, team)))

    return _apply(team, body["client_event_id"], "checkin", event, stamped=True)


@bp.post("/team/scans")
@reads_first
@_limit("RATELIMIT_EVENTS")
def scan():
    return _scan(current_team(), validated("Scan"))


def _scan(team: models.Team, body: dict[str, Any]) -> Answered:
    def event() -> rules.Event:
        _playing(team)
        at = _event_time(body, team)
        if "code" in body:
            rally_id, marker_id = _typed_stop(team, body["code"])
        else:
            try:
                token = tokens.token_from_url(body["token"])
                claims = game.keyring().verify(token, rally_id=team.rally_id)
            except tokens.TokenError as exc:
                raise UserError(f"token_{exc.code.value}", status=422, field="token") from None
            rally_id, marker_id = claims.rally_id, claims.marker_id
        return rules.QrEvent(rally_id, marker_id, at, _fix(body, at))

    return _apply(team, body["client_event_id"], "scan", event, stamped="recorded_at" in body)


def _typed_stop(team: models.Team, typed: str) -> tuple[int, int]:
    """(rally id, marker id) of a typed short code, as its QR code's token would name them;
    a code no playable stop has counts against the address (server/ratelimit.py)."""
    short_code_guard()
    stop = game.stop_by_code(typed)
    if stop is None or stop.rally.status is models.RallyStatus.DRAFT:
        wrong_short_code()
        raise UserError("short_code_unknown", status=422, field="code")
    if stop.rally_id != team.rally_id:
        raise UserError("token_wrong_rally", status=422, field="code")
    return stop.rally_id, stop.marker_id


def _stop_marker(team: models.Team, number: int) -> int:
    """The marker id of stop ``number`` (1-based) of the team's rally, else 422."""
    stops = game.rally_model(team.rally).stops
    if not 1 <= number <= len(stops):
        raise UserError("no_such_stop", status=422, field="stop", total=len(stops))
    return stops[number - 1].marker.id


@bp.post("/team/answers")
@reads_first
@_limit("RATELIMIT_EVENTS")
def answer_task():
    return _answer_task(current_team(), validated("Answer"))


def _answer_task(team: models.Team, body: dict[str, Any]) -> Answered:
    def event() -> rules.Event:
        _playing(team)
        at = _event_time(body, team)
        return rules.AnswerEvent(_stop_marker(team, body["stop"]), body["answer"], at)

    return _apply(
        team,
        body["client_event_id"],
        "answer",
        event,
        stamped="recorded_at" in body,
        shape=_answer_shape,
    )


def _answer_shape(
    team: models.Team, rally: Any, outcome: rules.Outcome, lang: str
) -> dict[str, Any]:
    """The answer's JSON; an answer of the wrong form is refused (422) and changes nothing."""
    if outcome.rejection is rules.Rejection.BAD_ANSWER:
        db.session.rollback()
        raise UserError("bad_answer", status=422, field="answer")
    return serialize.answer_result(team, rally, outcome, lang)


@bp.post("/team/hints")
@reads_first
@_limit("RATELIMIT_EVENTS")
def take_hint():
    return _take_hint(current_team(), validated("HintRequest"))


def _take_hint(team: models.Team, body: dict[str, Any]) -> Answered:
    def event() -> rules.Event:
        _playing(team)
        return rules.HintEvent(_stop_marker(team, body["stop"]), _event_time(body, team))

    return _apply(
        team,
        body["client_event_id"],
        "hint",
        event,
        stamped="recorded_at" in body,
        shape=serialize.hint_result,
    )


EVENT_HANDLERS: dict[str, Callable[[models.Team, dict[str, Any]], Answered]] = {
    "checkin": _checkin,
    "scan": _scan,
    "answer": _answer_task,
    "hint": _take_hint,
}
"""What each kind of a batch's events does: what its own endpoint does."""


@bp.post("/team/events")
@reads_first
@_limit("RATELIMIT_BATCHES")
def post_events():
    """Many events in one request (the outbox catching up after an outage): each is checked and
    applied as its single endpoint would, in recorded_at order, exactly once by its
    client_event_id; one refused event (4xx) is refused in its result, the others still count."""
    team = current_team()
    events = _batch()
    now = datetime.now(UTC)
    order = sorted(range(len(events)), key=lambda i: _recorded(events[i]["body"], now))
    results: list[dict[str, Any]] = [{} for _ in events]
    for i in order:
        kind, body = events[i]["kind"], events[i]["body"]
        try:
            answer, status = EVENT_HANDLERS[kind](team, validated(BATCH_KINDS[kind], body))
        except UserError as exc:
            db.session.rollback()
            answer, status = error_json(exc), exc.status
        event_id = body.get("client_event_id")
        results[i] = {
            "client_event_id": event_id if isinstance(event_id, str) else None,
            "status": status,
            "body": answer,
        }
    return {"results": results, "team": team_answer(team)}


def _batch() -> list[dict[str, Any]]:
    """The batch's events; the envelope is checked here (422 for the whole request), each
    event's body later, against its kind's schema (422 in that event's result only)."""
    raw = json_body(controls=False)
    shell = raw
    if isinstance(raw, dict) and isinstance(raw.get("events"), list):
        shell = {
            **raw,
            "events": [
                {**e, "body": {}} if isinstance(e, dict) and isinstance(e.get("body"), dict) else e
                for e in raw["events"]
            ],
        }
    validated("EventBatch", shell)
    return raw["events"]


def _recorded(body: dict[str, Any], now: datetime) -> datetime:
    """When an event happened, to order a batch by; without a readable time: now (a time that
    cannot be read is refused when the event is checked)."""
    value = body.get("recorded_at")
    if not isinstance(value, str):
        return now
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return now if at.tzinfo is None else at.astimezone(UTC)
    except (ValueError, OverflowError):
        return now
