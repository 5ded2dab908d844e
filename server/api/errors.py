"""JSON errors for the API: a stable code, a message in the request's language, a status."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

from server.i18n import language, t

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


class ApiError(Exception):
    """An error answer: ``code`` names a message in the catalogue (errors.<code>)."""

    def __init__(self, status: int, code: str, field: str | None = None,
                 message: str | None = None, **values: Any) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.field = field
        self.message = message
        self.values = values

    def response(self) -> Response:
        lang = language()
        values = {k: v.get(lang, v.get("en")) if isinstance(v, dict) else v
                  for k, v in self.values.items()}
        if self.field is not None:
            values.setdefault("field", self.field)
        message = self.message or t(f"errors.{self.code}", lang, **values)
        body: dict[str, Any] = {"code": self.code, "message": message}
        if self.field:
            body["field"] = self.field
        resp = jsonify({"error": body})
        resp.status_code = self.status
        return resp


def from_http_exception(exc: HTTPException) -> Response:
    """Werkzeug's errors (404, 405, 413, 429 ...) as API JSON."""
    status = exc.code or 500
    code = _HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    resp = ApiError(status, code).response()
    for name in ("Retry-After", "Allow", "WWW-Authenticate"):
        if exc.get_response().headers.get(name):
            resp.headers[name] = exc.get_response().headers[name]
    return resp
