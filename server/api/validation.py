"""Request bodies: strict JSON parsing and validation against the OpenAPI document's schemas."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app, request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from server.api.errors import ApiError


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text[:20]} overflows a number")
    return value


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def json_body() -> Any:
    """The request's JSON body; NaN and Infinity are refused, and so is anything not JSON."""
    if not request.mimetype or request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type")
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        raise ApiError(413, "body_too_large")
    try:
        body = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        json.dumps(body, ensure_ascii=False).encode()
        return body
    except json.JSONDecodeError as exc:
        where = {"en": f"line {exc.lineno}, column {exc.colno}",
                 "de": f"Zeile {exc.lineno}, Spalte {exc.colno}"}
        raise ApiError(400, "invalid_json", detail=where) from None
    except RecursionError:
        raise ApiError(400, "invalid_json", detail={"en": "nested too deeply",
                                                    "de": "zu tief verschachtelt"}) from None
    except (ValueError, UnicodeError):
        raise ApiError(400, "invalid_json", detail={
            "en": "NaN, Infinity, bad UTF-8 or a lone surrogate",
            "de": "NaN, Infinity, falsches UTF-8 oder ein einzelnes Surrogat"}) from None


def validated(schema_name: str) -> dict[str, Any]:
    """The JSON body checked against components/schemas/<schema_name>; 422 names the field."""
    from server.api.openapi import validator

    body = json_body()
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
        if not field:
            raise ApiError(422, "invalid_body", detail=_describe(error))
        raise ApiError(422, "invalid_field", field=field, detail=_describe(error))
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


_TYPES = {
    "number": ("a number", "eine Zahl"),
    "integer": ("a whole number", "eine ganze Zahl"),
    "string": ("a string", "ein Text"),
    "boolean": ("true or false", "true oder false"),
    "object": ("an object", "ein Objekt"),
    "array": ("a list", "eine Liste"),
    "null": ("null", "null"),
}


def _describe(error: ValidationError) -> dict[str, str]:
    """What is wrong with the field, in English and German."""
    v, value = error.validator, error.validator_value
    if v == "required":
        return {"en": "is required", "de": "fehlt"}
    if v == "dependentRequired":
        given = _missing_dependency(error)[0]
        return {"en": f"is required together with '{given}'",
                "de": f"ist zusammen mit „{given}“ nötig"}
    if v == "type":
        kinds = value if isinstance(value, list) else [value]
        en = " or ".join(_TYPES.get(k, (k, k))[0] for k in kinds)
        de = " oder ".join(_TYPES.get(k, (k, k))[1] for k in kinds)
        return {"en": f"must be {en}", "de": f"muss {de} sein"}
    if v in ("minimum", "exclusiveMinimum"):
        return {"en": f"must be at least {value}", "de": f"muss mindestens {value} sein"}
    if v in ("maximum", "exclusiveMaximum"):
        return {"en": f"must be at most {value}", "de": f"darf höchstens {value} sein"}
    if v == "minLength":
        return {"en": f"must have at least {value} characters",
                "de": f"muss mindestens {value} Zeichen haben"}
    if v == "maxLength":
        return {"en": f"must have at most {value} characters",
                "de": f"darf höchstens {value} Zeichen haben"}
    if v == "enum":
        values = ", ".join(map(str, value))
        return {"en": f"must be one of {values}", "de": f"muss einer dieser Werte sein: {values}"}
    if v == "additionalProperties":
        names = ", ".join(_unknown_fields(error))
        return {"en": f"is not a known field (unknown: {names})",
                "de": f"ist kein bekanntes Feld (unbekannt: {names})"}
    if v in ("minItems", "maxItems"):
        return {"en": f"must have {'at least' if v == 'minItems' else 'at most'} {value} items",
                "de": f"muss {'mindestens' if v == 'minItems' else 'höchstens'} {value} "
                      "Einträge haben"}
    return {"en": "has the wrong format", "de": "hat das falsche Format"}


def parse_time(value: str, field: str, not_before: datetime | None = None) -> datetime:
    """An RFC 3339 time with zone, not in the future beyond the allowed clock skew."""
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "invalid_field", field=field,
                       detail={
            "en": "must be an RFC 3339 time such as 2026-09-12T18:00:00Z",
            "de": "muss eine RFC-3339-Zeit sein, etwa 2026-09-12T18:00:00Z"}) from None
    if at.tzinfo is None:
        raise ApiError(422, "invalid_field", field=field, detail={
            "en": "must carry a time zone", "de": "braucht eine Zeitzone"})
    try:
        at = at.astimezone(UTC)
    except OverflowError:
        raise ApiError(422, "invalid_field", field=field, detail={
            "en": "is out of range", "de": "liegt außerhalb des gültigen Bereichs"}) from None
    skew = timedelta(seconds=current_app.config["MAX_CLOCK_SKEW_S"])
    now = datetime.now(UTC)
    if at > now + skew:
        raise ApiError(422, "time_in_future", field=field)
    if not_before is not None and at < not_before - skew:
        raise ApiError(422, "time_before_start", field=field)
    return at
