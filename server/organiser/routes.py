"""The organiser pages (the JSON they call lives in server/api/organiser.py) and the downloads:
QR posters, label sheets, PNG/SVG ZIP, GPX, GeoJSON, results CSV, the printable summary."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import func, select

from server import address, exports, models, rallies
from server.auth import roles_required
from server.exports import results
from server.extensions import db
from server.i18n import language, t
from server.organiser import bp, poster
from server.organiser.live import POSITION_MAX_AGE_MIN
from server.usererror import UserError

ORGANISER = models.Role.ORGANISER
LIVE_POLL_SECONDS = 5.0
SUMMARY_ROWS = 20

JS_TEXTS = (
    "organiser.live.updated",
    "organiser.live.offline",
    "organiser.live.logged_out",
    "organiser.live.no_teams",
    "organiser.live.no_flags",
    "organiser.live.stop",
    "organiser.live.found_by",
    "organiser.live.position_at",
    "organiser.live.never",
    "organiser.live.minutes_ago",
    "organiser.live.just_now",
    "organiser.live.finished",
    "organiser.live.help",
    "organiser.live.rename",
    "organiser.live.remove",
    "organiser.live.confirm_remove",
    "organiser.live.anonymous",
    "organiser.live.positions_hidden",
    "organiser.live.matching",
    "organiser.live.quoted",
    "organiser.live.open",
    "organiser.live.task_cell",
    "organiser.live.hint_cell",
    "organiser.live.stop_tasks",
    "organiser.live.stop_hints",
    "organiser.method.gps",
    "organiser.method.qr",
    "organiser.method.assist",
    "organiser.flag.teleport",
    "organiser.flag.mock_location",
    "organiser.flag.qr_far_from_marker",
    "organiser.flag.assisted",
    "organiser.flag.backdated",
    "organiser.rally.confirm_close",
    "organiser.rally.purge_done",
    "organiser.rally.closed_ok",
)


def _texts() -> dict[str, str]:
    return {key: t(key) for key in JS_TEXTS}


@bp.get("/")
@roles_required(ORGANISER)
def index():
    rows = db.session.scalars(select(models.Rally).order_by(models.Rally.slug)).all()
    counts = dict(
        db.session.execute(
            select(models.Team.rally_id, func.count()).group_by(models.Team.rally_id)
        ).all()
    )
    return render_template("organiser/index.html", rallies=rows, counts=counts)


@bp.get("/<slug>/")
@roles_required(ORGANISER)
def rally(slug: str):
    return _rally_page(rallies.by_slug(slug, staff=True))


def _rally_page(row: models.Rally, poster_error: UserError | None = None, status: int = 200):
    teams = db.session.scalar(select(func.count()).where(models.Team.rally_id == row.id))
    url = current_app.config["PUBLIC_BASE_URL"]
    return render_template(
        "organiser/rally.html",
        rally=row,
        teams=teams,
        texts=_texts(),
        qr_formats=exports.QR_FORMATS,
        route_formats=exports.ROUTE_FORMATS,
        public_url=url,
        public_source=current_app.config.get("PUBLIC_BASE_URL_SOURCE", "settings"),
        address_problems=address.problems(url),
        poster_error=poster_error,
    ), status


@bp.post("/<slug>/poster")
@roles_required(ORGANISER)
def poster_look(slug: str):
    """The poster colour and logo form (server/organiser/poster.py)."""
    row = rallies.by_slug(slug, staff=True)
    upload = request.files.get("logo")
    try:
        colour = None if request.form.get("no_colour") else request.form.get("colour")
        colour = poster.parse_colour(colour)
        data = None
        if upload is not None and upload.filename:
            data = upload.stream.read(current_app.config["MEDIA_MAX_BYTES"] + 1)
        poster.set_look(row, colour, data, bool(request.form.get("remove_logo")))
    except UserError as exc:
        db.session.rollback()
        return _rally_page(row, exc, exc.status)
    flash(t("organiser.poster.saved"))
    return redirect(url_for("organiser.rally", slug=slug, _anchor="poster"))


@bp.get("/<slug>/live")
@roles_required(ORGANISER)
def live(slug: str):
    row = rallies.by_slug(slug, staff=True)
    poll = float(current_app.config.get("LIVE_POLL_SECONDS", LIVE_POLL_SECONDS))
    max_age = float(current_app.config.get("LIVE_POSITION_MAX_AGE_MIN", POSITION_MAX_AGE_MIN))
    return render_template(
        "organiser/live.html", rally=row, texts=_texts(), poll_seconds=poll, max_age=max_age
    )


@bp.get("/<slug>/results")
@roles_required(ORGANISER)
def summary(slug: str):
    row = rallies.by_slug(slug, staff=True)
    rows = results.team_results(row)
    return render_template(
        "organiser/results.html",
        rally=row,
        summary=results.summarize(row, rows),
        rows=rows[:SUMMARY_ROWS],
        total_rows=len(rows),
        label=results.team_label,
        counts_text=results.counts_text,
        printed_at=datetime.now(UTC),
    )


def _download(make) -> object:
    slug = request.view_args["slug"]
    try:
        d = make()
    except UserError as exc:
        flash(exc.message())
        return redirect(url_for("organiser.rally", slug=slug))
    resp = send_file(
        io.BytesIO(d.data),
        mimetype=d.mimetype,
        as_attachment=True,
        download_name=d.filename,
        max_age=0,
    )
    if d.mimetype == "text/csv":
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/<slug>/export/qr")
@roles_required(ORGANISER)
def export_qr(slug: str):
    row = rallies.by_slug(slug, staff=True)
    return _download(lambda: exports.qr_download(row, request.args.get("format", "pdf")))


@bp.get("/<slug>/export/route")
@roles_required(ORGANISER)
def export_route(slug: str):
    row = rallies.by_slug(slug, staff=True)
    return _download(
        lambda: exports.route_download(row, request.args.get("format", "gpx"), language())
    )


@bp.get("/<slug>/export/results")
@roles_required(ORGANISER)
def export_results(slug: str):
    row = rallies.by_slug(slug, staff=True)
    return _download(
        lambda: exports.results_download(
            row, language(), request.args.get("tz") or None, request.args.get("sep") or ","
        )
    )
