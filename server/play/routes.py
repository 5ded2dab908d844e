"""The mobile web fallback: what any phone camera opens from a printed QR code. It works without
JavaScript; with it, the team page adds a map and check-ins by the browser's position."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from markers import tokens
from markers.geo import LatLon, distance_and_bearing
from routes import rules
from routes.tasks import MAX_ANSWER_CHARS, TaskType
from server import formats, game, models, rallies, teams
from server.api import serialize
from server.auth import safe_next
from server.database import reads_first
from server.extensions import db
from server.i18n import language, pick_text, set_preferred, t
from server.play import bp
from server.ratelimit import join_code_limits, team_creation_limit
from server.usererror import UserError

COOKIE_PREFIX = "team_"
COOKIE_DAYS = 3
_EVENT_NAMESPACE = uuid.UUID("6f1e4d2a-8c3b-4e57-9a0d-5b7c2e9f1a34")
_MEDIA_NAME = re.compile(r"[A-Za-z0-9_-]{8,64}\.(jpg|png)")


class JoinForm(FlaskForm):
    name = StringField(validators=[DataRequired(), Length(max=teams.MAX_NAME)])
    next = HiddenField()


class CodeForm(FlaskForm):
    join_code = StringField(validators=[DataRequired(), Length(min=4, max=12)])
    next = HiddenField()


def _cookie(rally: models.Rally) -> str:
    return f"{COOKIE_PREFIX}{rally.id}"


def _team_for(rally: models.Rally) -> models.Team | None:
    token = request.cookies.get(_cookie(rally))
    held = teams.by_token(token) if token else None
    team = None if held is None else held[0]
    if team is not None and team.rally_id == rally.id:
        set_preferred(team.language)
        return team
    return None


def _with_team_cookie(response: Response, rally: models.Rally, token: str) -> Response:
    response.set_cookie(
        _cookie(rally),
        token,
        max_age=COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        path="/",
    )
    return response


def _safe_next(target: str | None, rally: models.Rally) -> str:
    return safe_next(target) or url_for("play.team", slug=rally.slug)


@bp.get("/")
def index():
    rows = db.session.scalars(
        select(models.Rally)
        .filter_by(status=models.RallyStatus.PUBLISHED)
        .order_by(models.Rally.id)
    ).all()
    return render_template("play/index.html", rallies=rows)


@bp.get("/play/<slug>")
def rally(slug: str):
    row = rallies.by_slug(slug)
    team = _team_for(row)
    if team is not None:
        return redirect(url_for("play.team", slug=slug))
    return render_template(
        "play/rally.html",
        rally=row,
        domain=game.domain_rally(row),
        join=JoinForm(next=request.args.get("next", "")),
        code=CodeForm(next=request.args.get("next", "")),
    )


@bp.post("/play/<slug>/join")
@team_creation_limit
def join(slug: str):
    row = rallies.by_slug(slug)
    form = JoinForm()
    code = CodeForm(next=form.next.data)
    error = None
    if row.status is not models.RallyStatus.PUBLISHED:
        error = t("errors.rally_closed")
    elif form.validate_on_submit():
        try:
            _team, token = teams.create(row, teams.clean_name(form.name.data), language())
        except UserError as exc:
            error = exc.message()
        else:
            response = redirect(_safe_next(form.next.data, row))
            return _with_team_cookie(response, row, token)
    else:
        error = t("play.name_required")
    page = render_template(
        "play/rally.html",
        rally=row,
        domain=game.domain_rally(row),
        join=form,
        code=code,
        error=error,
    )
    return page, 422


@bp.post("/play/<slug>/code")
@join_code_limits
def join_code(slug: str):
    row = rallies.by_slug(slug)
    form = CodeForm()
    team = teams.by_join_code(row, form.join_code.data or "") if form.validate_on_submit() else None
    if team is None or row.status is not models.RallyStatus.PUBLISHED:
        page = render_template(
            "play/rally.html",
            rally=row,
            domain=game.domain_rally(row),
            join=JoinForm(next=form.next.data),
            code=form,
            code_error=t("errors.join_code_unknown"),
        )
        return page, 422
    token = teams.new_token(team)
    db.session.commit()
    return _with_team_cookie(redirect(_safe_next(form.next.data, row)), row, token)


@bp.get("/play/<slug>/team")
def team(slug: str):
    row = rallies.by_slug(slug)
    team = _team_for(row)
    if team is None:
        return redirect(url_for("play.rally", slug=slug))
    response = make_response(_team_page(row, team, done=_done(team, request.args.get("done"))))
    response.headers["Cache-Control"] = "no-store"
    return response


def _team_page(
    row: models.Rally,
    team: models.Team,
    done: dict[str, Any] | None = None,
    form_error: dict[str, Any] | None = None,
    checkin_error: str | None = None,
) -> str:
    domain, view = teams.view(team)
    areas = [] if row.status is not models.RallyStatus.PUBLISHED else _areas(team, view)
    return render_template(
        "play/team.html",
        rally=row,
        domain=domain,
        team=team,
        view=view,
        done=done,
        form_error=form_error,
        checkin_error=checkin_error,
        areas=areas,
        map_data=_map_data(team, view, areas),
    )


@bp.context_processor
def _stop_helpers() -> dict[str, Any]:
    """For the task and hint forms: a fresh client event id per form as the page renders (a
    resent form counts once), a closed task's right answer as the player reads it, and a
    marker's picture."""
    return {
        "new_event_id": lambda: str(uuid.uuid4()),
        "shown_answer": _shown_answer,
        "marker_image": _marker_image,
        "shown_distance": lambda metres: shown_distance(metres, language()),
    }


def _marker_image(rally: models.Rally, index: int) -> str | None:
    """The URL of the picture of stop ``index``'s marker (play.media), if it has one."""
    name = rally.stops[index].marker.image if 0 <= index < len(rally.stops) else None
    return url_for("play.media", name=name) if name and _MEDIA_NAME.fullmatch(name) else None


def _shown_answer(task: rules.TaskView) -> str:
    """The right answer as the player reads it: the option's text, the number (with a decimal
    comma in German), the first accepted text."""
    answer = task.answer
    if task.type is TaskType.CHOICE and isinstance(answer, int) and 0 <= answer < len(task.options):
        return pick_text(task.options[answer])
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    shown = "" if answer is None else str(answer)
    if task.type is TaskType.NUMBER and language().startswith("de"):
        return shown.replace(".", ",")
    return shown


def _done(team: models.Team, event_id: str | None) -> dict[str, Any] | None:
    """What a task answer or hint request of this team (by its client event id) got, to show
    after the redirect; None for anything else."""
    if not event_id or len(event_id) > 36:
        return None
    prior = db.session.scalar(
        select(models.ClientEvent).filter_by(team_id=team.id, client_event_id=event_id)
    )
    if prior is None or prior.kind not in ("answer", "hint", "checkin"):
        return None
    body = prior.response if isinstance(prior.response, dict) else {}
    if not isinstance(body.get("stop"), int):
        return None  # forgotten after the retention (server/privacy.py): nothing to show
    return {**body, "kind": prior.kind}


class _BadAnswer(Exception):
    """An answer of the wrong form for its task: nothing is recorded, no attempt is used."""


def _event_id() -> str:
    """The form's client event id (made when the page rendered), else 400."""
    try:
        return str(uuid.UUID(request.form.get("event", "")))
    except ValueError:
        raise UserError("bad_request", status=400) from None


def _stop(row: models.Rally, number: int) -> models.RallyStop:
    if not 1 <= number <= len(row.stops):
        abort(404)
    return row.stops[number - 1]


def _playing(slug: str) -> tuple[models.Rally, models.Team | None]:
    row = rallies.by_slug(slug, playable=True)
    return row, _team_for(row)


@bp.post("/play/<slug>/stops/<int:number>/answer")
@reads_first
def answer(slug: str, number: int):
    """A task's answer from the team page or the reveal: applied once per form, then back to
    the team page (Post/Redirect/Get); an answer of the wrong form is a form error."""
    row, team = _playing(slug)
    if team is None:
        return redirect(url_for("play.rally", slug=slug), 303)
    stop = _stop(row, number)
    event_id = _event_id()
    raw = request.form.get("answer", "")
    kind = TaskType(stop.task["type"]) if stop.task else None
    try:
        given = _given(kind, raw)
        game.apply_event(
            team,
            event_id,
            "answer",
            lambda t_, r: rules.AnswerEvent(stop.marker_id, given, datetime.now(UTC)),
            lambda t_, r, o: _answer_body(number, o),
        )
    except _BadAnswer:
        db.session.expire_all()
        team = db.session.get(models.Team, team.id)
        error = {"stop": number, "message": _form_error(kind), "given": raw[:MAX_ANSWER_CHARS]}
        return _team_page(row, team, form_error=error), 422
    except TimeoutError:
        raise UserError("busy", status=503) from None
    return _back_to_team(slug, event_id, number)


def _given(kind: TaskType | None, raw: str) -> object:
    """The answer as the task checks it: an option's index for a choice, else the text."""
    if len(raw) > MAX_ANSWER_CHARS or (kind is not None and not raw.strip()):
        raise _BadAnswer
    if kind is TaskType.CHOICE:
        if not raw.isdecimal() or len(raw) > 2:
            raise _BadAnswer
        return int(raw)
    return raw


def _answer_body(number: int, outcome: rules.Outcome) -> dict[str, Any]:
    if outcome.rejection is rules.Rejection.BAD_ANSWER:
        db.session.rollback()
        raise _BadAnswer
    return {**serialize.verdict(outcome), "stop": number}


def _form_error(kind: TaskType | None) -> str:
    if kind is TaskType.NUMBER:
        return t("play.bad_number")
    if kind is TaskType.CHOICE:
        return t("play.bad_choice")
    return t("play.bad_text", n=MAX_ANSWER_CHARS)


@bp.post("/play/<slug>/stops/<int:number>/hint")
@reads_first
def hint(slug: str, number: int):
    """Take the stop's next hint (the form's second step confirmed its cost); once per form."""
    row, team = _playing(slug)
    if team is None:
        return redirect(url_for("play.rally", slug=slug), 303)
    stop = _stop(row, number)
    event_id = _event_id()
    try:
        game.apply_event(
            team,
            event_id,
            "hint",
            lambda t_, r: rules.HintEvent(stop.marker_id, datetime.now(UTC)),
            lambda t_, r, o: _hint_body(number, o),
        )
    except TimeoutError:
        raise UserError("busy", status=503) from None
    return _back_to_team(slug, event_id, number)


def _hint_body(number: int, outcome: rules.Outcome) -> dict[str, Any]:
    hint = outcome.hint
    return {
        "result": outcome.rejection.value if outcome.rejection else "hint",
        "stop": number,
        "hint": None if hint is None else {"number": hint.number, "cost": hint.cost},
    }


def _back_to_team(slug: str, event_id: str, number: int) -> Response:
    """To the team page, which reads what the event got by its id (a reload shows it again)."""
    target = url_for("play.team", slug=slug, done=event_id, _anchor=f"stop-{number}")
    return redirect(target, 303)


COMPASS = ("n", "ne", "e", "se", "s", "sw", "w", "nw")
"""The eight directions a player is told to walk in (play.dir.* in the catalogue)."""


@dataclass(frozen=True)
class Area:
    """An open stop's search area as the team page shows it, with the way there from the team's
    last known position (None without one): metres to the area's edge and a compass point."""

    number: int
    center: LatLon
    radius_m: float
    distance_m: float | None = None
    direction: str | None = None

    @property
    def inside(self) -> bool:
        return self.distance_m is not None and self.distance_m <= 0


def _areas(team: models.Team, view: rules.TeamView) -> list[Area]:
    here = None
    if team.last_lat is not None and team.last_lon is not None:
        here = LatLon(team.last_lat, team.last_lon)
    areas = []
    for o in view.open:
        area = o.search_area
        distance = direction = None
        if here is not None:
            metres, bearing = distance_and_bearing(here, area.center)
            distance = metres - area.radius_m
            direction = COMPASS[round(bearing / 45) % 8]
        areas.append(Area(o.index + 1, area.center, area.radius_m, distance, direction))
    return areas


def shown_distance(metres: float, lang: str) -> str:
    """A walking distance as a player reads it: to 10 m, from 1 km in km with one decimal."""
    if metres >= 1000:
        return f"{formats.number(metres / 1000, lang, 1)} km"
    return f"{formats.number(max(10, round(metres, -1)), lang)} m"


def _map_data(team: models.Team, view: rules.TeamView, areas: list[Area]) -> dict[str, Any]:
    """What static/js/play-map.js draws: search areas, found markers, the team's last position,
    and its texts in the page's language."""
    position = None
    if team.last_lat is not None and team.last_lon is not None:
        position = {
            "lat": team.last_lat,
            "lon": team.last_lon,
            "accuracy_m": team.last_accuracy_m or 0,
        }
    return {
        "areas": [
            {
                "number": a.number,
                "lat": a.center.lat,
                "lon": a.center.lon,
                "radius_m": a.radius_m,
                "label": t("play.map_area", n=a.number),
            }
            for a in areas
        ],
        "found": [
            {
                "lat": f.position.lat,
                "lon": f.position.lon,
                "label": f"{f.index + 1}. {pick_text(f.title)}",
            }
            for f in view.found
        ],
        "position": position,
        "texts": {
            "you": t("play.map_you"),
            "locating": t("play.locating"),
            "located": t("play.located", acc="{acc}"),
            "denied": t("play.geo_denied"),
            "unavailable": t("play.geo_unavailable"),
            "timeout": t("play.geo_timeout"),
            "insecure": t("play.geo_insecure"),
        },
    }


MAX_ACCURACY_M = 100000.0
"""The largest accuracy a check-in may claim, as the API's Checkin schema says."""


def _browser_fix() -> rules.Fix | None:
    """The position the page's script put into the check-in form, with the time of now (the
    server's clock, as for a scan on the web); None when it is not a position."""
    values = []
    for name, low, high in (
        ("lat", -90.0, 90.0),
        ("lon", -180.0, 180.0),
        ("accuracy_m", 0.0, MAX_ACCURACY_M),
    ):
        raw = request.form.get(name, "")
        try:
            value = float(raw) if len(raw) <= 40 else math.nan
        except ValueError:
            return None
        if not math.isfinite(value) or not low <= value <= high:
            return None
        values.append(value)
    lat, lon, accuracy = values
    return rules.Fix(LatLon(lat, lon), accuracy, datetime.now(UTC))


@bp.post("/play/<slug>/checkin")
@reads_first
def checkin(slug: str):
    """ "I am here": the browser's position as a check-in, under the rules of the app's
    (routes.rules.GpsEvent, applied once per form); then the team page says what it got."""
    row, team = _playing(slug)
    if team is None:
        return redirect(url_for("play.rally", slug=slug), 303)
    event_id = _event_id()
    fix = _browser_fix()
    if fix is None:
        return _team_page(row, team, checkin_error=t("play.bad_position")), 422
    try:
        game.apply_event(
            team,
            event_id,
            "checkin",
            lambda t_, r: rules.GpsEvent(fix),
            lambda t_, r, o: _checkin_body(o, fix),
        )
    except TimeoutError:
        raise UserError("busy", status=503) from None
    target = url_for("play.team", slug=slug, done=event_id, _anchor="checkin")
    return redirect(target, 303)


def _checkin_body(outcome: rules.Outcome, fix: rules.Fix) -> dict[str, Any]:
    """What a check-in got, kept to show it again: never the position itself."""
    numbers = [f.index + 1 for f in outcome.found]
    return {
        "result": _result(outcome),
        "stop": numbers[0] if numbers else 0,
        "found": numbers,
        "accuracy_m": round(fix.accuracy_m),
    }


@bp.get("/play/<slug>/leaderboard")
def leaderboard(slug: str):
    """The rally's teams in leaderboard order, the team of this browser marked."""
    row = rallies.by_slug(slug)
    team = _team_for(row)
    return render_template(
        "play/leaderboard.html",
        rally=row,
        domain=game.domain_rally(row),
        board=[s for s in teams.leaderboard(row) if s.team.name is not None],
        team=team,
    )


@bp.get("/play/<slug>/finish")
def finish(slug: str):
    """The team's result once it found every stop or the rally closed: rank, time, score, the
    solution word, and what the organisers say comes next."""
    row = rallies.by_slug(slug)
    team = _team_for(row)
    if team is None:
        return redirect(url_for("play.rally", slug=slug))
    domain, view = teams.view(team)
    if not view.complete and row.status is models.RallyStatus.PUBLISHED:
        return redirect(url_for("play.team", slug=slug))
    board = teams.leaderboard(row)
    standing = next(s for s in board if s.team.id == team.id)
    word = "".join(view.letters) if view.letters and all(view.letters) else None
    response = make_response(
        render_template(
            "play/finish.html",
            rally=row,
            domain=domain,
            team=team,
            view=view,
            standing=standing,
            teams_count=len(board),
            word=word,
            finish_text=row.text("finish_text"),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/q/<path:token>")
def scan(token: str):
    """A scanned printed code: join, or apply the scan for the team in this browser."""
    try:
        claims = game.keyring().verify(tokens.token_from_url(token))
    except tokens.TokenError as exc:
        page = render_template("play/invalid.html", reason=t(exc.key))
        return page, 404
    row = db.session.get(models.Rally, claims.rally_id)
    if row is None or row.status is models.RallyStatus.DRAFT:
        return render_template("play/invalid.html", reason=t("play.rally_unknown")), 404
    team = _team_for(row)
    if team is None:
        next_url = url_for("play.scan", token=token)
        return render_template(
            "play/rally.html",
            rally=row,
            domain=game.domain_rally(row),
            scanned=True,
            join=JoinForm(next=next_url),
            code=CodeForm(next=next_url),
        )
    if row.status is not models.RallyStatus.PUBLISHED:
        return render_template("play/invalid.html", reason=t("errors.rally_closed")), 409
    # A reload repeats the answer; once the team has found more, or was flagged since (a scan
    # too soon after the last find), the same code is tried afresh (a stop scanned too early in
    # a fixed-order rally counts when scanned again in turn).
    tried = f"{team.id}:{team.found_count}:{len(team.flags)}:{token}"
    event_id = str(uuid.uuid5(_EVENT_NAMESPACE, tried))
    event = rules.QrEvent(claims.rally_id, claims.marker_id, datetime.now(UTC))
    applied = game.apply_event(
        team, event_id, "scan", lambda t_, r: event, lambda t_, r, o: {"result": _result(o)}
    )
    db.session.expire_all()
    team = db.session.get(models.Team, team.id)
    domain, view = teams.view(team)
    index = domain.stop_index(claims.marker_id)
    found = next((f for f in view.found if f.marker_id == claims.marker_id), None)
    response = make_response(
        render_template(
            "play/scan.html",
            rally=row,
            domain=domain,
            team=team,
            view=view,
            index=index,
            found=found,
            result=applied.body["result"],
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _result(outcome: rules.Outcome) -> str:
    return outcome.rejection.value if outcome.rejection else "found"


@bp.get("/media/<name>")
def media(name: str):
    if not _MEDIA_NAME.fullmatch(name):
        abort(404)
    response = send_from_directory(current_app.config["MEDIA_DIR"], name, max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
