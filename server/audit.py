"""The audit log: who changed what, when. Every curator and organiser change writes one entry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_login import current_user

from markers.i18n import TEXT_LANGUAGES
from server.extensions import db
from server.models import AuditEntry


def record(action: str, object_type: str, object_id: int | None, **detail: Any) -> AuditEntry:
    """Add an entry for the current user to the session (committed with the change itself)."""
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    entry = AuditEntry(
        user_id=user_id, action=action, object_type=object_type, object_id=object_id, detail=detail
    )
    db.session.add(entry)
    return entry


def before_after(before: Any, after: Any) -> dict[str, Any]:
    """The audit detail of a changed value: both values."""
    return {"before": before, "after": after}


def languages_changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The audit detail of a changed text: which of the languages sent changed (texts may be long;
    a language not sent stays as it is)."""
    return sorted(k for k in TEXT_LANGUAGES if k in after and after[k] != before.get(k, ""))


@dataclass(frozen=True)
class Field:
    """A value a request body may change on a model, and how the change is checked and logged.

    ``key`` is in the body when the field is sent; ``parse`` turns the body into the value
    (raising a user error when it is wrong), ``read`` and ``write`` get and set it on the model,
    ``check`` may refuse a change (it sees the model and the new value), and ``detail`` makes the
    audit detail from before and after.
    """

    name: str
    read: Callable[[Any], Any]
    write: Callable[[Any, Any], None]
    key: str = ""
    parse: Callable[[dict[str, Any]], Any] | None = None
    check: Callable[[Any, Any], None] | None = None
    detail: Callable[[Any, Any], Any] = before_after
    same: Callable[[Any, Any], bool] | None = None
    """Whether before and after are the same (default: equal)."""

    def sent(self, body: dict[str, Any]) -> bool:
        return (self.key or self.name) in body

    def value(self, body: dict[str, Any]) -> Any:
        return self.parse(body) if self.parse else body[self.key or self.name]


def attribute(name: str, **options: Any) -> Field:
    """A field stored in the model attribute of the same name."""
    return Field(
        name,
        lambda row: getattr(row, name),
        lambda row, value: setattr(row, name, value),
        **options,
    )


def text(name: str) -> Field:
    """A language-map text of a model (models.Texts); the audit names the languages that changed."""
    return Field(
        name,
        lambda row: row.text(name),
        lambda row, value: row.set_text(name, value),
        parse=lambda body: dict(body[name]),
        detail=languages_changed,
        same=lambda before, after: not languages_changed(before, after),
    )


def apply(row: Any, body: dict[str, Any], fields: Iterable[Field]) -> dict[str, Any]:
    """Write each field the body sends and changes to the row; the audit detail of the changes."""
    changed: dict[str, Any] = {}
    for field in fields:
        if not field.sent(body):
            continue
        before, after = field.read(row), field.value(body)
        if field.same(before, after) if field.same else after == before:
            continue
        if field.check is not None:
            field.check(row, after)
        changed[field.name] = field.detail(before, after)
        field.write(row, after)
    return changed
