"""JSON errors for the API: a stable code, a message in the request's language, a status."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

from server.usererror import UserError

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    500: "internal_error",
    503: "busy",
}


def error_json(exc: UserError) -> dict[str, Any]:
    """``{"error": {"code", "message", "field"?}}``: the error's JSON body."""
    body: dict[str, Any] = {"code": exc.code, "message": exc.message()}
    if exc.field:
        body["field"] = exc.field
    return {"error": body}


def error_response(exc: UserError) -> Response:
    """The error's JSON body with its status."""
    resp = jsonify(error_json(exc))
    resp.status_code = exc.status
    return resp


def from_http_exception(exc: HTTPException) -> Response:
    """Werkzeug's errors (404, 405, 413, 429 ...) as API JSON."""
    status = exc.code or 500
    code = _HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    resp = error_response(UserError(code, status=status))
    for name in ("Retry-After", "Allow", "WWW-Authenticate"):
        if exc.get_response().headers.get(name):
            resp.headers[name] = exc.get_response().headers[name]
    return resp
