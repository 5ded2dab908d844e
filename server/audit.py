"""The audit log: who changed what, when. Every curator and organiser change writes one entry."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_login import current_user
from sqlalchemy import select

from markers.i18n import TEXT_LANGUAGES
from server.extensions import db
from server.formats import duration, number
from server.i18n import catalogue, pick_text, t
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


# --- the log in words ------------------------------------------------------------------------

SAYS = "curator.audit.says."
"""Catalogue key prefix of the sentence that tells an action: SAYS + action, with {who} and
{object} (and the action's own values); the label of a detail is FIELD + its name."""
FIELD = "curator.audit.field."
UNITS = {"radius_m": "m", "accuracy_m": "m"}
DURATIONS = ("seconds",)
COUNTS = ("teams", "tokens", "client_events", "found", "failures", "stop")
NAMED = {"marker_id": "marker", "venue_id": "venue", "source": "rally"}
"""Detail values that are the id of another row, shown by its name."""
QUIET = {"slug", "rally_id", "rally", "name", "source_slug"}
"""Detail keys the sentence already says (or that only serve to find the object)."""


@dataclass(frozen=True)
class Words:
    """An entry told in a reader's language: a sentence, and its details as lines of text."""

    sentence: str
    details: tuple[str, ...]


class Names:
    """The names of the rows a page of entries speaks of, loaded with one query per kind."""

    def __init__(self, entries: Sequence[AuditEntry], lang: str) -> None:
        wanted: dict[str, set[int]] = {
            k: set() for k in ("rally", "marker", "venue", "team", "user")
        }
        for e in entries:
            if e.object_type in wanted and e.object_id is not None:
                wanted[e.object_type].add(e.object_id)
            detail = e.detail or {}
            for key, kind in NAMED.items():
                for value in _ids(detail.get(key)):
                    wanted[kind].add(value)
            if e.action == "rally.stops":
                for key in ("before", "after"):
                    wanted["marker"].update(_ids(detail.get(key)))
                for stop in detail.get("stops") or []:
                    if isinstance(stop, dict):
                        wanted["marker"].update(_ids(stop.get("marker_id")))
            if e.object_type == "team":
                wanted["rally"].update(_ids(detail.get("rally_id")))
        self.lang = lang
        self.names: dict[tuple[str, int], str] = {}
        for kind, ids in wanted.items():
            if ids:
                self._load(kind, ids)

    def _load(self, kind: str, ids: set[int]) -> None:
        from server import models

        model, column = {
            "rally": (models.Rally, None),
            "marker": (models.Marker, None),
            "venue": (models.Venue, "name"),
            "team": (models.Team, "name"),
            "user": (models.User, "username"),
        }[kind]
        for row in db.session.scalars(select(model).where(model.id.in_(ids))):
            if column is not None:
                name = getattr(row, column)
            else:
                name = pick_text(row.text("title"), self.lang) or getattr(row, "slug", "")
            if name:
                self.names[kind, row.id] = name

    def get(self, kind: str, row_id: Any) -> str | None:
        return self.names.get((kind, row_id)) if isinstance(row_id, int) else None


def _ids(value: Any) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
    return []


def describe(entries: Sequence[AuditEntry], lang: str) -> list[Words]:
    """Each entry in words: who did what to which object, and the details as readable text."""
    names = Names(entries, lang)
    return [_describe(e, lang, names) for e in entries]


def _describe(entry: AuditEntry, lang: str, names: Names) -> Words:
    detail = dict(entry.detail or {})
    who = entry.user.username if entry.user is not None else t("curator.audit.system", lang)
    values = {
        "who": who,
        "object": object_name(entry, lang, names),
        "source": names.get("rally", detail.get("source")) or detail.get("source_slug") or "",
        "stop": detail.get("stop", ""),
        "failures": number(detail.get("failures") or 0, lang),
    }
    if SAYS + entry.action in catalogue():
        sentence = t(SAYS + entry.action, lang, **values)
    else:
        sentence = f"{who}: {entry.action} {values['object']}".rstrip()
    return Words(sentence, tuple(detail_lines(entry, detail, lang, names)))


def object_name(entry: AuditEntry, lang: str, names: Names) -> str:
    """The object's name now (a rally's title, a team's name), else what the entry kept of it,
    else its kind and number."""
    detail = entry.detail or {}
    kind, row_id = entry.object_type, entry.object_id
    name = names.get(kind, row_id)
    if name is None and isinstance(detail.get("title"), dict):
        name = pick_text(detail["title"], lang) or None
    if name is None and kind == "venue" and isinstance(detail.get("name"), str):
        name = detail["name"]
    if name is None and kind == "rally" and isinstance(detail.get("slug"), str):
        name = detail["slug"]
    if name is None and kind == "team" and row_id is not None:
        return t("organiser.team_anonymous", lang, id=row_id)
    if name is None:
        kind_label = _label("curator.audit.type.", kind, lang)
        return f"{kind_label} #{row_id}" if row_id is not None else kind_label
    return name


def detail_lines(
    entry: AuditEntry, detail: dict[str, Any], lang: str, names: Names
) -> Iterable[str]:
    """The details of an entry, one line each: "Radius: 25 m → 30 m", "Title: changed (DE, EN)"."""
    if entry.object_type == "team" and entry.action != "team.remove":
        rally = names.get("rally", detail.get("rally_id")) or detail.get("rally")
        if rally:
            yield f"{_label(FIELD, 'rally', lang)}: {rally}"
    if "lat" in detail and "lon" in detail:
        point = [detail.pop("lat"), detail.pop("lon")]
        yield f"{_label(FIELD, 'position', lang)}: {_value('position', point, lang, names)}"
    if entry.action == "rally.stops":
        yield from _stop_lines(detail, lang, names)
        return
    if "before" in detail or "after" in detail:
        before = _value("position", detail.pop("before", None), lang, names)
        after = _value("position", detail.pop("after", None), lang, names)
        yield f"{_label(FIELD, 'position', lang)}: {before} → {after}"
    if entry.action == "rally.delete" or entry.action == "marker.delete":
        detail.pop("title", None)
    for key, value in detail.items():
        changed = isinstance(value, dict) and set(value) == {"before", "after"}
        if value is None or (key in QUIET and not changed):
            continue
        if key == "stop" and entry.action == "team.assist":
            continue
        if key == "failures" and entry.action == "user.locked":
            continue
        yield f"{_label(FIELD, key, lang)}: {_change(key, value, lang, names)}"


def _stop_lines(detail: dict[str, Any], lang: str, names: Names) -> Iterable[str]:
    def stops(ids: Any) -> str:
        return ", ".join(names.get("marker", m) or f"#{m}" for m in _ids(ids)) or _none(lang)

    if detail.get("before") != detail.get("after"):
        yield (
            f"{_label(FIELD, 'stops', lang)}: "
            f"{stops(detail.get('before'))} → {stops(detail.get('after'))}"
        )
    for stop in detail.get("stops") or []:
        if not isinstance(stop, dict):
            continue
        what = []
        for part in stop.get("changed") or []:
            name, _, language = str(part).partition(".")
            label = _label(FIELD, name, lang)
            what.append(f"{label} ({language.upper()})" if language else label)
        marker = names.get("marker", stop.get("marker_id")) or f"#{stop.get('marker_id')}"
        yield t("curator.audit.stop_changed", lang, stop=marker, what=", ".join(what))


def _change(key: str, value: Any, lang: str, names: Names) -> str:
    if isinstance(value, dict) and set(value) == {"before", "after"}:
        before = _value(key, value["before"], lang, names)
        return f"{before} → {_value(key, value['after'], lang, names)}"
    if isinstance(value, list) and value and all(v in TEXT_LANGUAGES for v in value):
        return t("curator.audit.text_changed", lang, languages=", ".join(v.upper() for v in value))
    return _value(key, value, lang, names)


def _value(key: str, value: Any, lang: str, names: Names) -> str:
    """One value as a reader reads it: numbers in the reader's language, ids by name."""
    if value is None:
        return _none(lang)
    if isinstance(value, bool):
        return t("curator.venue.step_free_yes" if value else "curator.venue.step_free_no", lang)
    if key in NAMED:
        return names.get(NAMED[key], value) or f"#{value}"
    if key in ("position", "start", "finish") and _is_point(value):
        return ", ".join(number(v, lang, 5) for v in value)
    if key == "polygon" and isinstance(value, list):
        return t("curator.audit.polygon", lang, n=len(value))
    if key in DURATIONS and isinstance(value, int | float):
        return duration(value, lang)
    if isinstance(value, int | float):
        digits = 0 if key in COUNTS or float(value).is_integer() else 1
        text = number(value, lang, digits)
        return f"{text} {UNITS[key]}" if key in UNITS else text
    if key == "order_mode" and isinstance(value, str):
        return _label("curator.rally.order_", value, lang)
    if key == "role" and isinstance(value, str):
        return _label("curator.audit.role.", value, lang)
    if isinstance(value, dict) and value and all(k in TEXT_LANGUAGES for k in value):
        return pick_text(value, lang)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _is_point(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )


def _none(lang: str) -> str:
    return t("curator.audit.none", lang)


def _label(prefix: str, code: str, lang: str) -> str:
    """A catalogue text by prefix and code, else the code itself."""
    key = prefix + code
    return t(key, lang) if key in catalogue() else code
