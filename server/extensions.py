"""The Flask extensions, created once here and bound to the app in create_app (the rate
limiter lives in server/ratelimit.py, beside whom it counts); Flask-Migrate only by
migrations(), as it imports alembic."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
MIGRATIONS = Path(__file__).parent / "migrations"


def migrations(app: Flask) -> None:
    """Bind Flask-Migrate to app, once. Only what migrates calls it (the db commands, `artcaching
    check`, tests): importing it imports alembic, which every other command would wait for."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
