"""Every error as JSON under /api/, as a friendly page elsewhere; never a traceback."""

from __future__ import annotations

from flask import Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from server.api.errors import ApiError, from_http_exception


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return exc.response()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if _wants_json():
            return from_http_exception(exc)
        return render_template("error.html", status=exc.code), exc.code or 500

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        current_app.logger.exception("unexpected error in %s %s", request.method, request.path)
        if _wants_json():
            return ApiError(500, "internal_error").response()
        return render_template("error.html", status=500), InternalServerError.code
