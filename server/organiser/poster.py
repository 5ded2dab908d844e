"""The event's look on printed matter: a rally's poster colour and logo, set by organisers."""

from __future__ import annotations

import re

from server import audit, media, models
from server.extensions import db
from server.usererror import UserError

COLOUR = re.compile(r"#[0-9a-f]{6}", re.IGNORECASE)
MEDIA_STATUS = {"image_too_large": 413, "image_too_many_pixels": 413, "image_type": 415}


def parse_colour(value: str | None) -> str | None:
    """``#rrggbb`` in lower case, None for none; anything else is a user error."""
    if value is None or value == "":
        return None
    if not COLOUR.fullmatch(value):
        raise UserError("poster_colour", status=422, field="colour")
    return value.lower()


def set_look(
    row: models.Rally, colour: str | None, logo: bytes | None, remove_logo: bool = False
) -> bool:
    """Set the colour and (a new upload, or none) the logo, audited; whether anything changed.
    The logo goes through server/media.py: checked, re-encoded, stored under a new name."""
    new_logo = None
    if logo is not None:
        try:
            new_logo = media.store(logo)
        except media.MediaError as exc:
            raise UserError(
                exc.code, status=MEDIA_STATUS.get(exc.code, 422), field="logo", **exc.values
            ) from None
    old_colour, old_logo = row.poster_colour, row.poster_logo
    row.poster_colour = colour
    if new_logo:
        row.poster_logo = new_logo
    elif remove_logo:
        row.poster_logo = None
    if (old_colour, old_logo) == (row.poster_colour, row.poster_logo):
        return False
    audit.record(
        "rally.poster",
        "rally",
        row.id,
        slug=row.slug,
        colour=audit.before_after(old_colour, row.poster_colour),
        logo=audit.before_after(old_logo, row.poster_logo),
    )
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        media.remove(new_logo)
        raise
    if old_logo and old_logo != row.poster_logo:
        media.remove(old_logo)
    return True
