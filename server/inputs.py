"""Every input checked once, the same on SQLite and PostgreSQL, so that a NUL or a huge number
is a clear 4xx and never a 500 (PostgreSQL refuses NUL in text and ids past its integer range).

The rule: no C0 control character nor DEL in the path or the query string; none in a JSON string
or key but tab, line feed and carriage return (multi-line texts); no NUL in a form field, whose
other control characters the form's own validation refuses on the form (a team name) or which
only ever meet a lookup (a join code, a password). Ids within 0..2^31-1, else 404."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter, ValidationError

from server.usererror import UserError

ID_MAX = 2**31 - 1
"""The largest id PostgreSQL's integer columns hold (SQLite's hold more)."""
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
"""Not allowed in a path, a query string or a single-line text."""
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Not allowed in a JSON string: tab, line feed and carriage return are text."""


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: a whole number from 0 to ID_MAX, else 404."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if self.max is not None and number > self.max:
            raise ValidationError()
        return number


def first_control(value: Any, path: str = "", *, text: bool = True) -> str | None:
    """Where in a JSON value (keys too) a control character hides, as a dotted path ("" for the
    value itself); None when there is none. ``text`` allows tab and line breaks."""
    pattern = CONTROL_IN_TEXT if text else CONTROL
    if isinstance(value, str):
        return path if pattern.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if pattern.search(str(key)):
                return path
            if (where := first_control(item, inner, text=text)) is not None:
                return where
    if isinstance(value, list):
        for i, item in enumerate(value):
            where = first_control(item, f"{path}.{i}" if path else str(i), text=text)
            if where is not None:
                return where
    return None


def check_request() -> None:
    """400 for a control character in the path, a query parameter or a form field."""
    if CONTROL.search(request.path):
        raise UserError("control_character", status=400, field="path")
    for name, value in request.args.items(multi=True):
        if CONTROL.search(name) or CONTROL.search(value):
            raise UserError("control_character", status=400, field=_shown(name))
    if request.mimetype == "application/x-www-form-urlencoded":
        for name, value in request.form.items(multi=True):
            if CONTROL.search(name) or "\x00" in value:
                raise UserError("control_character", status=400, field=_shown(name))


def _shown(name: str) -> str:
    return CONTROL.sub("?", name)[:40]


def init_app(app: Flask) -> None:
    """Before the routes are registered: bound ids; before every request: the control check."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_request)
