"""The Art Caching server: persistence, player API, web fallback, curator and organiser tools."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from server import config as config_module
from server.extensions import csrf, db, login_manager
from server.ratelimit import limiter


def create_app(
    config: Mapping[str, Any] | None = None, *, instance_path: str | None = None
) -> Flask:
    """The app factory: settings from the environment, then from ``config`` (tests use it);
    ``instance_path`` replaces Flask's instance folder (tests give each app its own)."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    settings = config_module.from_environment(app.instance_path, config)
    settings.update(config or {})
    if config and "PUBLIC_BASE_URL" in config and "PUBLIC_BASE_URL_SOURCE" not in config:
        settings["PUBLIC_BASE_URL_SOURCE"] = "settings"
    app.config.update(settings)
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from server import (
        auth,
        database,
        errors,
        formats,
        i18n,
        inputs,
        maps,
        privacy,
        security,
        staff,
    )
    from server.api.routes import bp as api_bp
    from server.curator.routes import bp as curator_bp
    from server.organiser.routes import bp as organiser_bp
    from server.play import codes as _codes  # noqa: F401 - registers the short-code pages
    from server.play.routes import bp as play_bp

    database.init_app(app)
    inputs.init_app(app)
    i18n.init_app(app)
    formats.init_app(app)
    errors.init_app(app)
    maps.init_app(app)
    security.init_app(app)
    staff.init_app(app)
    auth.init_app(app)
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(play_bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(curator_bp)
    app.register_blueprint(organiser_bp)
    privacy.init_app(app)
    return app
