"""Every error as JSON under /api/, as a friendly page elsewhere; never a traceback."""

from __future__ import annotations

from flask import Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from server.api.errors import error_response, from_http_exception
from server.usererror import UserError


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.errorhandler(UserError)
    def user_error(exc: UserError):
        if _wants_json():
            return error_response(exc)
        return render_template("error.html", status=exc.status, message=exc.message()), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if _wants_json():
            return from_http_exception(exc)
        return render_template("error.html", status=exc.code), exc.code or 500

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> Response | tuple[str, int]:
        current_app.logger.exception("unexpected error in %s %s", request.method, request.path)
        if _wants_json():
            return error_response(UserError("internal_error", status=500))
        return render_template("error.html", status=500), InternalServerError.code
