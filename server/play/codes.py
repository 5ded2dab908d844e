"""A stop's short code typed on the web page: it leads where a scan of the stop's QR code leads.

The form (play/_code_form.html) sits on the rally page and the team page; a wrong code shows the
form again on its own page, counted against the address (server/ratelimit.py)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from markers import shortcodes
from server import game, models, rallies
from server.i18n import t
from server.play import bp
from server.ratelimit import short_code_guard, wrong_short_code
from server.usererror import UserError

SHOWN_CHARS = shortcodes.MAX_INPUT_CHARS
"""A refused code is shown again in the field cut to this many characters."""


class ShortCodeForm(FlaskForm):
    code = StringField()
    rally = HiddenField()


@bp.context_processor
def _short_code_form() -> dict[str, Any]:
    """For play/_code_form.html: a fresh form that remembers the rally it was typed on."""
    return {"short_code_form": lambda slug="": ShortCodeForm(rally=slug or "")}


@bp.get("/stop-code")
def stop_code_page():
    """The form alone (a link target for a phone without a camera)."""
    return render_template("play/code.html", code_form=ShortCodeForm(), back=None)


@bp.post("/stop-code")
def stop_code():
    """The typed code: on to the stop's scan page (303), else the form with the error (422)."""
    form = ShortCodeForm()
    typed = (form.code.data or "").strip()
    back = _rally_of(form.rally.data)
    if not form.validate_on_submit() or not typed:
        return _again(form, back, t("play.stop_code.required"))
    short_code_guard()
    stop = game.stop_by_code(typed)
    if stop is None or stop.rally.status is models.RallyStatus.DRAFT:
        wrong_short_code()
        return _again(form, back, t("errors.short_code_unknown"))
    token = game.keyring().sign(stop.rally_id, stop.marker_id)
    return redirect(url_for("play.scan", token=token), 303)


def _again(form: ShortCodeForm, back: models.Rally | None, error: str) -> tuple[str, int]:
    form.code.data = (form.code.data or "")[:SHOWN_CHARS]
    return render_template("play/code.html", code_form=form, back=back, stop_code_error=error), 422


def _rally_of(slug: str | None) -> models.Rally | None:
    """The published or closed rally the form was on (for the way back), if any."""
    if not slug or len(slug) > 100:
        return None
    try:
        return rallies.by_slug(slug)
    except UserError:
        return None
