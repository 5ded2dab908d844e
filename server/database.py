"""Database engine settings: SQLite pragmas, write transactions that cannot deadlock, and the
one retry for work that lost a race."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import bindparam, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from server.extensions import db

_IMMEDIATE = "artcaching_begin_immediate"
_WRITING = "artcaching_writing"
_CHANGES = "artcaching_changes"
_READS_FIRST = "artcaching_reads_first"
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
        writing = immediate or _writing_request()
        connection.info[_WRITING] = writing
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
        connection.info[_CHANGES] = _changes(connection)


def _writing_request() -> bool:
    """A POST, PUT, PATCH or DELETE request may write after it has read, so its transactions
    begin as writers: a reader cannot become a writer once another request has written. A view
    marked ``reads_first`` says when it starts writing (start_writing)."""
    if not has_request_context() or request.method in SAFE_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, _READS_FIRST, False)


V = TypeVar("V", bound=Callable[..., object])


def reads_first(view: V) -> V:
    """Mark a view whose reads run without the write lock: it calls start_writing() before its
    first write (SQLite; PostgreSQL locks rows as they are written)."""
    setattr(view, _READS_FIRST, True)
    return view


def begin_write() -> None:
    """Start the session's transaction as a writer: BEGIN IMMEDIATE on SQLite, so that two
    requests never both read and then both wait to write. Call before the first query."""
    db.session.connection(execution_options={_IMMEDIATE: True})


def start_writing() -> None:
    """From here on the session writes. On SQLite the transaction that only read so far ends
    and a writing one begins (BEGIN IMMEDIATE): the write lock is held for the writes alone,
    and what was read may have changed since (check it in the write, as game.py does)."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite" or connection.info.get(_WRITING):
        return
    if _changes(connection) == connection.info.get(_CHANGES):
        connection.exec_driver_sql("COMMIT")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    connection.info[_WRITING] = True


def _changes(connection: Any) -> int:
    """How many rows the SQLite connection has written since it opened."""
    return connection.connection.driver_connection.total_changes


def insert_new(model: type, values: dict[str, Any], unique: tuple[str, ...]) -> bool:
    """Insert the row unless one with the same ``unique`` columns exists (it may be another
    request's, committed or not: the insert waits for it); True when this one was inserted."""
    dialect = db.session.get_bind().dialect.name
    statement = _insert_new(model, dialect, tuple(values), unique)
    return db.session.execute(statement, values).first() is not None


@functools.cache
def _insert_new(model: type, dialect: str, columns: tuple[str, ...], unique: tuple[str, ...]):
    """The INSERT ... ON CONFLICT DO NOTHING RETURNING id of insert_new, built once."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:
        raise NotImplementedError(f"insert_new on {dialect}")
    return (
        insert(model)
        .values({c: bindparam(c) for c in columns})
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(model.id)  # type: ignore[attr-defined]
    )


def lock_row(model: type[T], row_id: int) -> T | None:
    """The row read afresh in a new write transaction that holds it locked until the commit
    (FOR UPDATE; BEGIN IMMEDIATE on SQLite), so that changes made under the lock serialise.
    Earlier work of the session is rolled back: call before any change."""
    db.session.rollback()
    begin_write()
    return db.session.get(model, row_id, with_for_update=True, populate_existing=True)


class LostRace(Exception):
    """What the work read changed before it wrote: retry_transient runs it again."""


def retry_transient(work: Callable[[], T], what: str) -> T:
    """work() until it returns: after a unique constraint broken by a concurrent writer, a lost
    race (LostRace) or a transient lock (busy, deadlock, serialization), roll back, wait a
    little longer each time and run it again (up to MAX_ATTEMPTS times); other errors
    propagate, and TimeoutError names ``what`` when every try failed.
    """
    for attempt in range(MAX_ATTEMPTS):
        try:
            return work()
        except (IntegrityError, OperationalError, LostRace) as exc:
            db.session.rollback()
            if isinstance(exc, OperationalError) and not is_transient(exc):
                raise
            time.sleep(0.01 * (attempt + 1))
    raise TimeoutError(f"{what} after {MAX_ATTEMPTS} tries")


def is_transient(exc: OperationalError) -> bool:
    """A lock or serialization failure that trying again can resolve."""
    text = str(exc.orig).lower()
    return any(s in text for s in ("locked", "busy", "deadlock", "could not serialize"))
