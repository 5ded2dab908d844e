"""Database engine settings: SQLite pragmas, and write transactions that cannot deadlock."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from server.extensions import db

_IMMEDIATE = "artcaching_begin_immediate"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and transactions begun by us, not by pysqlite."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql(
            "BEGIN IMMEDIATE" if immediate or _writing_request() else "BEGIN")


def _writing_request() -> bool:
    """A POST, PUT, PATCH or DELETE request may write after it has read, so its transactions
    begin as writers: a reader cannot become a writer once another request has written."""
    return has_request_context() and request.method not in SAFE_METHODS


def begin_write() -> None:
    """Start the session's transaction as a writer: BEGIN IMMEDIATE on SQLite, so that two
    requests never both read and then both wait to write. Call before the first query."""
    db.session.connection(execution_options={_IMMEDIATE: True})
