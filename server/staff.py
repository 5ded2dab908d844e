"""What the staff pages share: the areas a user may open, for the navigation, and the texts
their scripts show (server/static/js/staff.js reads them)."""

from __future__ import annotations

from flask import Flask, current_app
from flask_login import current_user

from server.i18n import t
from server.models import Role

AREAS = (
    ("curator.index", Role.CURATOR, "staff.curator"),
    ("organiser.index", Role.ORGANISER, "staff.organiser"),
    ("curator.audit", Role.ADMIN, "staff.audit"),
    ("auth.accounts", Role.ADMIN, "staff.accounts"),
)


def staff_areas() -> list[tuple[str, Role, str]]:
    """(endpoint, role, label key) of each area the current user may open."""
    if not current_user.is_authenticated:
        return []
    return [a for a in AREAS if a[0] in current_app.view_functions and current_user.has_role(a[1])]


JS_PREFIX = "staff.js."
JS_TEXTS = ("staff.js.failed", "staff.js.offline")


def staff_texts(page: dict[str, str] | None = None) -> dict[str, str]:
    """The texts every staff script may show (keyed without the prefix) and the page's own."""
    return {**{key.removeprefix(JS_PREFIX): t(key) for key in JS_TEXTS}, **(page or {})}


def init_app(app: Flask) -> None:
    app.jinja_env.globals["staff_areas"] = staff_areas
    app.jinja_env.globals["staff_texts"] = staff_texts
