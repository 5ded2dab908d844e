"""The curator pages (the JSON they call lives in server/api/curator.py)."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from markers.i18n import LANGUAGE_NAMES, PLAYER_LANGUAGES
from server import audit as audit_log
from server import formats
from server.auth import roles_required
from server.curator import access, bp
from server.extensions import db
from server.i18n import catalogue, language, t
from server.models import AuditEntry, Marker, Rally, Role, User, Venue

AUDIT_PAGE_SIZE = 50
JS_PREFIX = "curator.js."


def js_texts() -> dict[str, str]:
    """Every text the editor's scripts show, in the page's language, keyed without the prefix."""
    return {k[len(JS_PREFIX) :]: t(k) for k in catalogue() if k.startswith(JS_PREFIX)}


def _page_context() -> dict[str, Any]:
    return {
        "texts": js_texts(),
        "me": {"id": current_user.id, "admin": current_user.role is Role.ADMIN},
    }


@bp.get("/")
@roles_required(Role.CURATOR)
def index():
    rallies = db.session.scalars(select(Rally).order_by(Rally.slug)).all()
    users = {u.id: u for u in db.session.scalars(select(User))}
    mine = [r for r in rallies if r.owner_id == current_user.id]
    others = [r for r in rallies if r.owner_id != current_user.id]
    counts = {
        "mine": db.session.scalar(
            select(func.count()).select_from(Marker).filter_by(owner_id=current_user.id)
        ),
        "all": db.session.scalar(select(func.count()).select_from(Marker)),
        "unplaced": db.session.scalar(
            select(func.count()).select_from(Venue).where(Venue.lat.is_(None) | Venue.lon.is_(None))
        ),
    }
    my_markers = db.session.scalars(
        select(Marker).filter_by(owner_id=current_user.id).order_by(Marker.id)
    ).all()
    return render_template(
        "curator/index.html",
        mine=mine,
        others=others,
        users=users,
        counts=counts,
        my_markers=my_markers,
        can_edit=lambda r: access.can_edit_rally(current_user, r),
        **_page_context(),
    )


@bp.get("/markers")
@roles_required(Role.CURATOR)
def markers():
    return render_template("curator/markers.html", **_page_context())


@bp.get("/rallies/<int:rally_id>")
@roles_required(Role.CURATOR)
def rally(rally_id: int):
    row = db.session.get(Rally, rally_id)
    if row is None:
        abort(404)
    return render_template(
        "curator/rally.html", rally=row, preview=preview_texts(), **_page_context()
    )


PREVIEW_PREFIX = "curator.preview."


def preview_texts() -> dict[str, Any]:
    """What the phone preview shows around a stop's texts, in every language a player may choose
    (these are player texts: Leichte Sprache too), and each language by its own name."""
    keys = [k for k in catalogue() if k.startswith(PREVIEW_PREFIX)]
    return {
        "languages": dict(LANGUAGE_NAMES),
        "texts": {
            lang: {k[len(PREVIEW_PREFIX) :]: t(k, lang) for k in keys} for lang in PLAYER_LANGUAGES
        },
    }


@bp.get("/audit")
@roles_required(Role.ADMIN)
def audit():
    try:
        page = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        page = 1
    kind = request.args.get("type") or None
    query = select(AuditEntry)
    if kind:
        query = query.filter_by(object_type=kind)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = min(page, max((total + AUDIT_PAGE_SIZE - 1) // AUDIT_PAGE_SIZE, 1))
    entries = db.session.scalars(
        query.options(selectinload(AuditEntry.user))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * AUDIT_PAGE_SIZE)
        .limit(AUDIT_PAGE_SIZE)
    ).all()
    types = db.session.scalars(
        select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)
    ).all()
    pages = max((total + AUDIT_PAGE_SIZE - 1) // AUDIT_PAGE_SIZE, 1)
    return render_template(
        "curator/audit.html",
        entries=list(zip(entries, audit_log.describe(entries, language()), strict=True)),
        zone=formats.event_zone(),
        page=page,
        pages=pages,
        total=total,
        kind=kind,
        types=types,
        label=label,
        **_page_context(),
    )


def label(prefix: str, code: str) -> str:
    """The name of an action or object type in the page's language, else the code itself."""
    key = prefix + code
    return t(key) if key in catalogue() else code
