"""What the staff pages share: the areas a user may open, for the navigation."""

from __future__ import annotations

from flask import Flask, current_app
from flask_login import current_user

from server.models import Role

AREAS = (
    ("curator.index", Role.CURATOR, "staff.curator"),
    ("organiser.index", Role.ORGANISER, "staff.organiser"),
    ("curator.audit", Role.ADMIN, "staff.audit"),
)


def staff_areas() -> list[tuple[str, Role, str]]:
    """(endpoint, role, label key) of each area the current user may open."""
    if not current_user.is_authenticated:
        return []
    return [a for a in AREAS
            if a[0] in current_app.view_functions and current_user.has_role(a[1])]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["staff_areas"] = staff_areas
