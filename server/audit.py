"""The audit log: who changed what, when. Every curator and organiser change writes one entry."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from server.extensions import db
from server.models import AuditEntry


def record(action: str, object_type: str, object_id: int | None, **detail: Any) -> AuditEntry:
    """Add an entry for the current user to the session (committed with the change itself)."""
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    entry = AuditEntry(user_id=user_id, action=action, object_type=object_type,
                       object_id=object_id, detail=detail)
    db.session.add(entry)
    return entry
