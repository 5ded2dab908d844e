"""A rally by its slug: the one lookup the player API, the pages, the organisers and the CLI use."""

from __future__ import annotations

from sqlalchemy import select

from server import models
from server.extensions import db
from server.usererror import UserError


def by_slug(slug: str, *, staff: bool = False, playable: bool = False) -> models.Rally:
    """The rally called slug, else a 404 UserError.

    Players see published and closed rallies, never drafts; ``playable`` asks for a running one
    (409 rally_closed otherwise). ``staff`` sees drafts too: organisers print codes before they
    publish.
    """
    row = db.session.scalar(select(models.Rally).filter_by(slug=slug))
    if row is None and staff:
        raise UserError("rally_unknown", status=404, slug=slug[:80])
    if row is None or (not staff and row.status is models.RallyStatus.DRAFT):
        raise UserError("rally_not_found", status=404, slug=slug[:80])
    if playable:
        check_playable(row)
    return row


def check_playable(row: models.Rally) -> None:
    """A 404 UserError for a draft, a 409 for a closed rally: players play running ones."""
    if row.status is models.RallyStatus.DRAFT:
        raise UserError("rally_not_found", status=404, slug=row.slug[:80])
    if row.status is not models.RallyStatus.PUBLISHED:
        raise UserError("rally_closed", status=409)


def known_slugs() -> list[str]:
    """Every rally's slug, sorted: a hint for someone who mistyped one."""
    return list(db.session.scalars(select(models.Rally.slug).order_by(models.Rally.slug)))
