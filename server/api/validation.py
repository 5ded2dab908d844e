"""Request bodies: strict JSON parsing and validation against the OpenAPI document's schemas."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app, request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from markers.i18n import TEXT_LANGUAGES
from server.api.openapi import validator
from server.i18n import both
from server.inputs import first_control
from server.usererror import UserError


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text[:20]} overflows a number")
    return value


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def json_body(controls: bool = True) -> Any:
    """The request's JSON body; NaN and Infinity are refused, and so is anything not JSON, and
    (unless not ``controls``) a control character but tab and line breaks anywhere in it."""
    if not request.mimetype or request.mimetype != "application/json":
        raise UserError("unsupported_media_type", status=415)
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        raise UserError("body_too_large", status=413)
    try:
        body = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        json.dumps(body, ensure_ascii=False).encode()
        where = first_control(body)
    except json.JSONDecodeError as exc:
        where = both("validation.json_position", line=exc.lineno, column=exc.colno)
        raise UserError("invalid_json", status=400, detail=where) from None
    except RecursionError:
        raise UserError(
            "invalid_json", status=400, detail=both("validation.nested_too_deeply")
        ) from None
    except (ValueError, UnicodeError):
        raise UserError(
            "invalid_json", status=400, detail=both("validation.not_json_text")
        ) from None
    if where is not None and controls:
        _refuse_control(where)
    return body


def _refuse_control(where: str) -> None:
    """422 for a control character at ``where`` (a dotted path; "" for the body itself)."""
    detail = both("validation.control_character")
    if not where:
        raise UserError("invalid_body", status=422, detail=detail)
    raise UserError("invalid_field", status=422, field=where, detail=detail)


ERROR_KEYWORD = "x-error"
"""A schema's own refusal: {"code": ..., values of its message}, used instead of the generic one
for any failure but a wrong type or a missing field."""


_BODY = object()


def validated(schema_name: str, body: Any = _BODY) -> dict[str, Any]:
    """The JSON body checked against components/schemas/<schema_name>; 422 names the field.
    Given a ``body`` (one part of the request's, e.g. one event of a batch), that instead."""
    if body is _BODY:
        body = json_body()
    elif (where := first_control(body)) is not None:
        _refuse_control(where)
    error = _first_error(validator(schema_name), body)
    if error is not None:
        field = ".".join(str(p) for p in error.absolute_path) or None
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else None
            field = ".".join(filter(None, [field, missing]))
        elif error.validator == "dependentRequired":
            field = ".".join(filter(None, [field, _missing_dependency(error)[1]]))
        elif error.validator == "additionalProperties":
            field = ".".join(filter(None, [field, _unknown_fields(error)[0]]))
        refusal = error.schema.get(ERROR_KEYWORD) if isinstance(error.schema, dict) else None
        if refusal and error.validator not in ("type", "required"):
            raise UserError(status=422, field=field, **refusal)
        if not field:
            raise UserError("invalid_body", status=422, detail=_describe(error))
        raise UserError("invalid_field", status=422, field=field, detail=_describe(error))
    return body


def _missing_dependency(error: ValidationError) -> tuple[str, str]:
    """For a dependentRequired error: a given field, and one it needs that is missing."""
    for given, needed in error.validator_value.items():
        if given in error.instance:
            for name in needed:
                if name not in error.instance:
                    return given, name
    return "", ""


def _unknown_fields(error: ValidationError) -> list[str]:
    """The names an additionalProperties error is about, sorted, each cut to 40 characters."""
    names = set(error.instance) - set(error.schema.get("properties", {}))
    return sorted(name[:40] for name in names)


def _first_error(v: Draft202012Validator, body: Any) -> ValidationError | None:
    errors = sorted(v.iter_errors(body), key=lambda e: (list(e.absolute_path), e.validator))
    return errors[0] if errors else None


_BOUNDS = {
    "minimum": "validation.minimum",
    "exclusiveMinimum": "validation.minimum",
    "maximum": "validation.maximum",
    "exclusiveMaximum": "validation.maximum",
    "minLength": "validation.min_length",
    "maxLength": "validation.max_length",
    "minItems": "validation.min_items",
    "maxItems": "validation.max_items",
}


def _type_names(kinds: list[str]) -> dict[str, str]:
    """'a number or a string' in every language; an unknown JSON type by its name."""
    names = [
        both(f"validation.type_{k}") if k in _KNOWN_TYPES else dict.fromkeys(TEXT_LANGUAGES, k)
        for k in kinds
    ]
    joiner = both("validation.or")
    return {lang: f" {joiner[lang]} ".join(n[lang] for n in names) for lang in TEXT_LANGUAGES}


_KNOWN_TYPES = ("number", "integer", "string", "boolean", "object", "array", "null")


def _describe(error: ValidationError) -> dict[str, str]:
    """What is wrong with the field, in every language."""
    v, value = error.validator, error.validator_value
    if v == "required":
        return both("validation.required")
    if v == "dependentRequired":
        return both("validation.required_with", given=_missing_dependency(error)[0])
    if v == "type":
        return both(
            "validation.type", kinds=_type_names(value if isinstance(value, list) else [value])
        )
    if v in _BOUNDS:
        return both(_BOUNDS[v], value=value)
    if v == "enum":
        return both("validation.enum", values=", ".join(map(str, value)))
    if v == "additionalProperties":
        return both("validation.unknown_field", names=", ".join(_unknown_fields(error)))
    return both("validation.format")


def parse_time(value: str, field: str, not_before: datetime | None = None) -> datetime:
    """An RFC 3339 time with zone, not in the future beyond the allowed clock skew."""
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(
            "invalid_field", status=422, field=field, detail=both("validation.rfc3339")
        ) from None
    if at.tzinfo is None:
        raise UserError(
            "invalid_field", status=422, field=field, detail=both("validation.time_zone")
        )
    try:
        at = at.astimezone(UTC)
    except OverflowError:
        raise UserError(
            "invalid_field", status=422, field=field, detail=both("validation.out_of_range")
        ) from None
    skew = timedelta(seconds=current_app.config["MAX_CLOCK_SKEW_S"])
    now = datetime.now(UTC)
    if at > now + skew:
        raise UserError("time_in_future", status=422, field=field)
    if not_before is not None and at < not_before - skew:
        raise UserError("time_before_start", status=422, field=field)
    return at
