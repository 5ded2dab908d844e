"""Who may change what in the curator area: the ownership rule (docs/curator.md explains it).

- Every curator sees every marker, venue and rally; admins may change everything.
- Markers and rallies belong to the curator who made them: only the owner (or an admin) edits,
  moves, deletes them. Rows without an owner (imported, seeded) are edited by admins only.
- Any marker may be used as a stop of any rally.
- A published rally keeps its stops, their order, the order mode and the solution word: what
  teams have earned must not change under them. Unpublish it first, which is possible only
  while no team has joined. Its texts, start point and its markers' texts and positions may
  still be corrected. A closed rally is the organisers' business and read-only here.
- A venue without a position may be placed by any curator. Once placed, the curator who placed
  it (the audit log says who) and admins may move it, take its position back (undo) and say
  whether it is step-free; positions that came with the import: admins only.
- A marker used as a stop of a rally cannot be deleted; remove it from the rally first.
"""

from __future__ import annotations

from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    Marker,
    Rally,
    RallyStatus,
    RallyStop,
    Role,
    Team,
    User,
    Venue,
)
from server.usererror import UserError


def is_owner_or_admin(user: User, owner_id: int | None) -> bool:
    return user.role is Role.ADMIN or (owner_id is not None and owner_id == user.id)


def team_count(rally: Rally) -> int:
    return db.session.scalar(select(func.count()).select_from(Team).filter_by(rally_id=rally.id))


def marker_rallies(marker: Marker) -> list[Rally]:
    """The rallies that use the marker as a stop, by slug."""
    return list(
        db.session.scalars(
            select(Rally)
            .join(RallyStop)
            .where(RallyStop.marker_id == marker.id)
            .order_by(Rally.slug)
        )
    )


def can_edit_marker(user: User, marker: Marker) -> bool:
    return is_owner_or_admin(user, marker.owner_id)


def can_edit_rally(user: User, rally: Rally) -> bool:
    return is_owner_or_admin(user, rally.owner_id) and rally.status is not RallyStatus.CLOSED


def venue_placer(venue: Venue) -> int | None:
    """The user who gave the venue its present position (None: unplaced, or from its data)."""
    if venue.lat is None or venue.lon is None:
        return None
    return venue.placed_by_id


def can_edit_venue(user: User, venue: Venue, placer: int | None) -> bool:
    """Place, move, unplace, set step_free; ``placer``: venue_placer(venue)."""
    if user.role is Role.ADMIN or venue.lat is None or venue.lon is None:
        return True
    return placer is not None and placer == user.id


def require_venue_edit(user: User, venue: Venue) -> None:
    if not can_edit_venue(user, venue, venue_placer(venue)):
        raise UserError("venue_not_yours", status=403, field="id")


def rally_permissions(user: User, rally: Rally, teams: int) -> dict[str, bool]:
    """What the user may do with the rally now, for the editor to enable its controls."""
    edit = can_edit_rally(user, rally)
    draft = rally.status is RallyStatus.DRAFT
    return {
        "edit": edit,
        "edit_stops": edit and draft,
        "publish": edit and draft,
        "unpublish": edit and rally.status is RallyStatus.PUBLISHED and teams == 0,
        "delete": edit and draft and teams == 0,
        "simulate": True,
    }


def require_marker_edit(user: User, marker: Marker) -> None:
    if not can_edit_marker(user, marker):
        raise UserError("marker_not_yours", status=403, field="id")


def require_rally_edit(user: User, rally: Rally) -> None:
    if rally.status is RallyStatus.CLOSED:
        raise UserError("rally_closed_readonly", status=409)
    if not is_owner_or_admin(user, rally.owner_id):
        raise UserError("rally_not_yours", status=403)


def require_draft(rally: Rally, field: str | None = None) -> None:
    """Stops, order mode and solution word change only while the rally is a draft."""
    if rally.status is RallyStatus.PUBLISHED:
        raise UserError("rally_published", status=409, field=field)
    if rally.status is RallyStatus.CLOSED:
        raise UserError("rally_closed_readonly", status=409, field=field)
