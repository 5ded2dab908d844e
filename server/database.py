"""Database engine settings: SQLite pragmas, write transactions that cannot deadlock, and the
one retry for work that lost a race."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from server.extensions import db

_IMMEDIATE = "artcaching_begin_immediate"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ATTEMPTS = 8
T = TypeVar("T")


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
            "BEGIN IMMEDIATE" if immediate or _writing_request() else "BEGIN"
        )


def _writing_request() -> bool:
    """A POST, PUT, PATCH or DELETE request may write after it has read, so its transactions
    begin as writers: a reader cannot become a writer once another request has written."""
    return has_request_context() and request.method not in SAFE_METHODS


def begin_write() -> None:
    """Start the session's transaction as a writer: BEGIN IMMEDIATE on SQLite, so that two
    requests never both read and then both wait to write. Call before the first query."""
    db.session.connection(execution_options={_IMMEDIATE: True})


def lock_row(model: type[T], row_id: int) -> T | None:
    """The row read afresh in a new write transaction that holds it locked until the commit
    (FOR UPDATE; BEGIN IMMEDIATE on SQLite), so that changes made under the lock serialise.
    Earlier work of the session is rolled back: call before any change."""
    db.session.rollback()
    begin_write()
    return db.session.get(model, row_id, with_for_update=True, populate_existing=True)


def retry_transient(work: Callable[[], T], what: str) -> T:
    """work() until it returns: after a unique constraint broken by a concurrent writer or a
    transient lock (busy, deadlock, serialization), roll back, wait a little longer each time and
    run it again (up to MAX_ATTEMPTS times); other errors propagate, and TimeoutError names
    ``what`` when every try failed.
    """
    for attempt in range(MAX_ATTEMPTS):
        try:
            return work()
        except (IntegrityError, OperationalError) as exc:
            db.session.rollback()
            if isinstance(exc, OperationalError) and not is_transient(exc):
                raise
            time.sleep(0.01 * (attempt + 1))
    raise TimeoutError(f"{what} after {MAX_ATTEMPTS} tries")


def is_transient(exc: OperationalError) -> bool:
    """A lock or serialization failure that trying again can resolve."""
    text = str(exc.orig).lower()
    return any(s in text for s in ("locked", "busy", "deadlock", "could not serialize"))
