"""The player API: rallies, teams, check-ins, QR scans, leaderboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app, g, request
from sqlalchemy import select

from markers import tokens
from markers.geo import LatLon
from routes import rules
from server import game, models, privacy, teams
from server.api import bp, serialize
from server.api.errors import ApiError
from server.api.validation import parse_time, validated
from server.extensions import db, limiter
from server.i18n import language, set_preferred


def _limit(name: str):
    return limiter.limit(lambda: current_app.config[name])


def find_rally(slug: str, *, playable: bool = False) -> models.Rally:
    """A published (or, unless playable, closed) rally by slug, else 404 or 409."""
    row = db.session.scalar(select(models.Rally).filter_by(slug=slug))
    if row is None or row.status is models.RallyStatus.DRAFT:
        raise ApiError(404, "rally_not_found", slug=slug[:80])
    if playable and row.status is not models.RallyStatus.PUBLISHED:
        raise ApiError(409, "rally_closed")
    return row


def current_team() -> models.Team:
    """The team whose bearer token came with the request, else 401."""
    if "team" in g:
        return g.team
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "token_missing")
    team = teams.by_token(token.strip())
    if team is None:
        raise ApiError(401, "token_unknown")
    set_preferred(team.language)
    g.team = team
    return team


def team_answer(team: models.Team) -> dict[str, Any]:
    rally = game.domain_rally(team.rally)
    view = rules.view(rally, game.team_state(team), game.rules_config())
    return serialize.team(team, rally, view, language())


@bp.get("/rallies")
def list_rallies():
    rows = db.session.scalars(
        select(models.Rally).filter_by(status=models.RallyStatus.PUBLISHED)
        .order_by(models.Rally.published_at.desc(), models.Rally.id)
    ).all()
    lang = language()
    return {"rallies": [serialize.rally_summary(r, game.domain_rally(r), lang) for r in rows]}


@bp.get("/rallies/<slug>")
def get_rally(slug: str):
    row = find_rally(slug)
    return serialize.rally_public(row, game.domain_rally(row), language())


@bp.post("/rallies/<slug>/teams")
@_limit("RATELIMIT_TEAM_CREATE")
def post_team(slug: str):
    body = validated("TeamCreate")
    rally = find_rally(slug, playable=True)
    lang = body.get("language") or language()
    team, token = teams.create(rally, teams.clean_name(body["name"]), lang)
    set_preferred(team.language)
    return {"token": token, "join_code": team.join_code, "team": team_answer(team)}, 201


@bp.post("/rallies/<slug>/join")
@_limit("RATELIMIT_TEAM_CREATE")
def join_team(slug: str):
    body = validated("TeamJoin")
    rally = find_rally(slug, playable=True)
    team = teams.by_join_code(rally, body["join_code"])
    if team is None:
        raise ApiError(404, "join_code_unknown", field="join_code")
    token = teams.new_token(team)
    db.session.commit()
    set_preferred(team.language)
    return {"token": token, "join_code": team.join_code, "team": team_answer(team)}, 201


@bp.get("/rallies/<slug>/leaderboard")
def leaderboard(slug: str):
    row = find_rally(slug)
    try:
        limit = min(max(int(request.args.get("limit", 100)), 1), 1000)
    except ValueError:
        raise ApiError(422, "invalid_field", field="limit", detail={
            "en": "must be a whole number", "de": "muss eine ganze Zahl sein"}) from None
    teams = db.session.scalars(select(models.Team).filter_by(rally_id=row.id)).all()
    entries = []
    for t in teams:
        duration = (t.finished_at - t.started_at).total_seconds() if t.finished_at else None
        entries.append((rules.rank_key(t.finished_at is not None, t.score, duration), t, duration))
    entries.sort(key=lambda e: (e[0], e[1].id))
    return {
        "rally": row.slug,
        "total_stops": len(row.stops),
        "entries": [
            {"rank": i + 1, "team": t.name, "score": t.score, "found": t.found_count,
             "finished": t.finished_at is not None,
             "duration_s": None if d is None else round(d)}
            for i, (_, t, d) in enumerate(entries[:limit])
        ],
    }


@bp.get("/team")
def get_team():
    return team_answer(current_team())


def _fix(body: dict[str, Any], at: datetime) -> rules.Fix | None:
    if "lat" not in body:
        return None
    return rules.Fix(LatLon(body["lat"], body["lon"]), float(body["accuracy_m"]), at,
                     mock=bool(body.get("mock_location", False)))


def _apply(team: models.Team, client_event_id: str, kind: str, event: rules.Event):
    lang = language()
    try:
        applied = game.apply_event(
            team.id, client_event_id, kind, lambda t, r: event,
            lambda t, r, o: serialize.event_result(t, r, o, lang),
        )
    except TimeoutError:
        raise ApiError(503, "busy") from None
    return applied.body, applied.status


def _event_time(body: dict[str, Any], team: models.Team) -> datetime:
    """When the event happened by the phone's clock (it may reach us later, from the outbox)."""
    if "recorded_at" not in body:
        return datetime.now(UTC)
    return parse_time(body["recorded_at"], "recorded_at", not_before=team.started_at)


def _repeat(team: models.Team, client_event_id: str):
    """The stored first answer to a repeated event id, even after the rally closed."""
    prior = db.session.scalar(select(models.ClientEvent).filter_by(
        team_id=team.id, client_event_id=client_event_id))
    return None if prior is None else (prior.response, prior.status)


@bp.post("/team/checkins")
@_limit("RATELIMIT_EVENTS")
def checkin():
    team = current_team()
    body = validated("Checkin")
    if (answer := _repeat(team, body["client_event_id"])) is not None:
        return answer
    find_rally(team.rally.slug, playable=True)
    at = _event_time(body, team)
    answer = _apply(team, body["client_event_id"], "checkin", rules.GpsEvent(_fix(body, at)))
    privacy.forget_old_fixes_now_and_then()
    return answer


@bp.post("/team/scans")
@_limit("RATELIMIT_EVENTS")
def scan():
    team = current_team()
    body = validated("Scan")
    if (answer := _repeat(team, body["client_event_id"])) is not None:
        return answer
    find_rally(team.rally.slug, playable=True)
    at = _event_time(body, team)
    try:
        token = tokens.token_from_url(body["token"])
        claims = game.keyring().verify(token, rally_id=team.rally_id)
    except tokens.TokenError as exc:
        raise ApiError(422, f"token_{exc.code.value}", field="token",
                       message=exc.text[language()]) from None
    event = rules.QrEvent(claims.rally_id, claims.marker_id, at, _fix(body, at))
    return _apply(team, body["client_event_id"], "scan", event)
