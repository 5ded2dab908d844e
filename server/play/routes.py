"""The mobile web fallback: what any phone camera opens from a printed QR code. No JavaScript."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

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
from routes import rules
from server import game, models, rallies, teams
from server.auth import safe_next
from server.extensions import db
from server.i18n import language, set_preferred, t
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
    team = teams.by_token(token) if token else None
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
    domain, view = teams.view(team)
    return render_template("play/team.html", rally=row, domain=domain, team=team, view=view)


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
        team.id, event_id, "scan", lambda t_, r: event, lambda t_, r, o: {"result": _result(o)}
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
