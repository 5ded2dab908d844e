"""A durable queue on disk (SQLite, WAL): every event is stored before it is sent, with its
client_event_id, and resent after a failure or a restart until the server answers."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from client.api import MAX_BATCH, ApiError, NetworkError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    answered_at REAL,
    error TEXT,
    response TEXT
);
CREATE INDEX IF NOT EXISTS events_state ON events (state, seq);
"""


class State(StrEnum):
    PENDING = "pending"
    """Stored, not yet answered by the server."""
    DONE = "done"
    """The server answered 2xx; its answer is kept."""
    REJECTED = "rejected"
    """The server answered 4xx (other than 429): it will never accept this event."""


@dataclass(frozen=True)
class Event:
    """One stored event; payload holds the client_event_id (= id)."""

    id: str
    kind: str
    payload: dict[str, Any]
    state: State
    attempts: int
    created_at: float
    error: str | None = None
    response: dict[str, Any] | None = None


@dataclass(frozen=True)
class FlushResult:
    """What one flush did: events answered (done or rejected) and why it stopped, if it did."""

    done: tuple[Event, ...] = ()
    rejected: tuple[Event, ...] = ()
    error: Exception | None = None
    """The network error or retryable server error that stopped the flush (the rest waits)."""

    @property
    def retry_after_s(self) -> float | None:
        return getattr(self.error, "retry_after_s", None)


Send = Callable[[Event], dict[str, Any]]
"""Sends one event and returns the server's answer; raises ApiError or NetworkError."""

SendBatch = Callable[[list[Event]], list[dict[str, Any] | ApiError]]
"""Sends several events in one request; each one's answer, or its error, in the same order.
Raises ApiError (the batch refused whole) or NetworkError."""


class Outbox:
    """The queue in the SQLite file at path; safe to use from several threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._flushing = threading.Lock()
        self._db = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def put(self, kind: str, payload: dict[str, Any]) -> str:
        """Store an event (committed to disk before this returns); its new client_event_id."""
        event_id = str(uuid.uuid4())
        body = {**payload, "client_event_id": event_id}
        with self._lock:
            self._db.execute(
                "INSERT INTO events (id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                (event_id, kind, json.dumps(body), time.time()),
            )
        return event_id

    def pending(self) -> list[Event]:
        """The events waiting for an answer, oldest first."""
        return self._select("WHERE state = ? ORDER BY seq", (State.PENDING.value,))

    def pending_of(self, kinds: tuple[str, ...]) -> list[Event]:
        """The waiting events of these kinds, oldest first."""
        marks = ", ".join("?" * len(kinds))
        return self._select(
            f"WHERE state = ? AND kind IN ({marks}) ORDER BY seq", (State.PENDING.value, *kinds)
        )

    def count(self) -> int:
        """How many events wait for an answer."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM events WHERE state = ?", (State.PENDING.value,)
            ).fetchone()
        return int(row[0])

    def get(self, event_id: str) -> Event | None:
        found = self._select("WHERE id = ?", (event_id,))
        return found[0] if found else None

    def answered(self, limit: int = 50) -> list[Event]:
        """The latest answered events (done or rejected), newest first."""
        return self._select(
            "WHERE state != ? ORDER BY seq DESC LIMIT ?", (State.PENDING.value, limit)
        )

    def mark_done(self, event_id: str, response: dict[str, Any]) -> None:
        """The server accepted the event; keep its answer."""
        self._answer(event_id, State.DONE, None, response)

    def mark_rejected(self, event_id: str, error: str) -> None:
        """The server refused the event for good; keep why."""
        self._answer(event_id, State.REJECTED, error, None)

    def mark_failed(self, event_id: str, error: str) -> None:
        """Sending failed (network, 5xx, 429): count the attempt, keep the event pending."""
        with self._lock:
            self._db.execute(
                "UPDATE events SET attempts = attempts + 1, error = ? WHERE id = ? AND state = ?",
                (error, event_id, State.PENDING.value),
            )

    def drop_pending(self) -> int:
        """Give up on every waiting event (the team was left); how many were dropped."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE events SET state = ?, error = ?, answered_at = ? WHERE state = ?",
                (State.REJECTED.value, "dropped", time.time(), State.PENDING.value),
            )
        return cur.rowcount

    def purge(self, older_than_s: float) -> int:
        """Delete events answered more than older_than_s ago (fixes are personal data, and a
        walk leaves thousands), and give the space back: the file shrinks. How many went."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM events WHERE state != ? AND COALESCE(answered_at, created_at) < ?",
                (State.PENDING.value, time.time() - older_than_s),
            )
            deleted = cur.rowcount
            if deleted:
                self._db.execute("VACUUM")
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted

    def flush(self, send: Send, send_batch: SendBatch | None = None) -> FlushResult:
        """Send the waiting events in order (also those stored meanwhile) until the queue is empty
        or a network error or retryable server error stops it; one flush at a time.

        With ``send_batch``, whenever more than one event waits they go MAX_BATCH at a time, each
        answered by its own result as a single call would be; a batch refused whole by a 4xx (a
        server without batches: 404 or 405) is sent one by one instead."""
        done: list[Event] = []
        rejected: list[Event] = []
        with self._flushing:
            last_seq = 0
            while True:
                waiting = self._pending_after(last_seq, MAX_BATCH if send_batch else 1)
                if not waiting:
                    return FlushResult(tuple(done), tuple(rejected))
                batch = [event for _, event in waiting]
                if send_batch is not None and len(batch) > 1:
                    try:
                        error = self._send_batch(send_batch, batch, done, rejected)
                    except ApiError as exc:
                        if exc.retryable:
                            self._failed(batch, str(exc))
                            return FlushResult(tuple(done), tuple(rejected), exc)
                        send_batch = None  # refused whole: one by one from here
                        continue
                    except NetworkError as exc:
                        self._failed(batch, str(exc))
                        return FlushResult(tuple(done), tuple(rejected), exc)
                    except Exception as exc:
                        self._failed(batch, f"{type(exc).__name__}: {exc}")
                        raise
                    if error is not None:
                        return FlushResult(tuple(done), tuple(rejected), error)
                    last_seq = waiting[-1][0]
                    continue
                last_seq, event = waiting[0]
                try:
                    response = send(event)
                except ApiError as exc:
                    if not self._refused(event, exc, rejected):
                        return FlushResult(tuple(done), tuple(rejected), exc)
                    continue
                except NetworkError as exc:
                    self.mark_failed(event.id, str(exc))
                    return FlushResult(tuple(done), tuple(rejected), exc)
                except Exception as exc:
                    self.mark_failed(event.id, f"{type(exc).__name__}: {exc}")
                    raise
                self.mark_done(event.id, response)
                done.append(self.get(event.id) or event)

    def _send_batch(
        self, send_batch: SendBatch, batch: list[Event], done: list[Event], rejected: list[Event]
    ) -> ApiError | None:
        """Send a batch and keep each event's result; the first retryable one, if any (its
        event waits, the others are answered)."""
        results = send_batch(batch)
        if len(results) != len(batch):
            raise NetworkError(f"{len(results)} results for a batch of {len(batch)} events")
        error: ApiError | None = None
        for event, result in zip(batch, results, strict=True):
            if isinstance(result, ApiError):
                if not self._refused(event, result, rejected):
                    error = error or result
                continue
            self.mark_done(event.id, result)
            done.append(self.get(event.id) or event)
        return error

    def _refused(self, event: Event, exc: ApiError, rejected: list[Event]) -> bool:
        """An error answer for one event: True when final (rejected), False when it is to be
        tried again (5xx, 429: the event waits)."""
        if exc.retryable:
            self.mark_failed(event.id, str(exc))
            return False
        self.mark_rejected(event.id, f"{exc.code}: {exc.message}")
        rejected.append(self.get(event.id) or event)
        return True

    def _failed(self, batch: list[Event], error: str) -> None:
        for event in batch:
            self.mark_failed(event.id, error)

    # --- plumbing ----------------------------------------------------------------------------

    def _pending_after(self, after_seq: int, limit: int) -> list[tuple[int, Event]]:
        """Up to ``limit`` waiting events after seq ``after_seq``, oldest first, with their seq."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM events WHERE state = ? AND seq > ? ORDER BY seq LIMIT ?",
                (State.PENDING.value, after_seq, limit),
            ).fetchall()
        return [(row["seq"], _event(row)) for row in rows]

    def _answer(
        self, event_id: str, state: State, error: str | None, response: dict[str, Any] | None
    ) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE events SET state = ?, error = ?, response = ?, answered_at = ?, "
                "attempts = attempts + 1 WHERE id = ?",
                (
                    state.value,
                    error,
                    None if response is None else json.dumps(response),
                    time.time(),
                    event_id,
                ),
            )

    def _select(self, where: str, args: tuple[Any, ...]) -> list[Event]:
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM events {where}", args).fetchall()
        return [_event(r) for r in rows]


def _event(row: sqlite3.Row) -> Event:
    return Event(
        row["id"],
        row["kind"],
        json.loads(row["payload"]),
        State(row["state"]),
        row["attempts"],
        row["created_at"],
        row["error"],
        None if row["response"] is None else json.loads(row["response"]),
    )
