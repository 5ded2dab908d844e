"""Talking to the server off the UI thread: one worker for every request, the outbox sent in
order, the team caught up every interval, and a back-off after failures that may pass.

No Kivy. What comes back is handed to a SyncListener (the GameSession) on the worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from client.api import ApiClient, ApiError, NetworkError
from client.outbox import Event, Outbox

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0
MAX_DOUBLINGS = 10

T = TypeVar("T")


def transient(exc: BaseException) -> bool:
    """A failure that may pass by itself: no network, a server error, too many requests."""
    return isinstance(exc, NetworkError) or (isinstance(exc, ApiError) and exc.retryable)


class Backoff:
    """After the n-th transient failure in a row, no background sync for 2**n s (at most
    MAX_BACKOFF_S), or for as long as the server asked (Retry-After) if that is longer."""

    def __init__(self, max_s: float = MAX_BACKOFF_S) -> None:
        self.max_s = max_s
        self.fails = 0
        self.not_before = 0.0
        """time.monotonic() before which the background sync waits."""

    def failed(self, retry_after_s: float | None = None) -> None:
        self.fails = min(self.fails + 1, MAX_DOUBLINGS)
        delay = min(2.0**self.fails, self.max_s)
        self.not_before = time.monotonic() + max(delay, retry_after_s or 0.0)

    def reset(self) -> None:
        self.fails, self.not_before = 0, 0.0

    def wait_s(self) -> float:
        """Seconds left to wait (0 when the next sync may go)."""
        return max(self.not_before - time.monotonic(), 0.0)


class SyncListener(Protocol):
    """What the Sync reports, always from its worker thread."""

    def on_answer(self, event: Event) -> None:
        """The server accepted an event; its answer is in event.response."""

    def on_rejected(self, event: Event) -> None:
        """The server will never accept this event (a 4xx); why is in event.error."""

    def on_team(self, team: dict[str, Any]) -> None:
        """The team's JSON, fetched because no event brought it."""

    def on_synced(self) -> None:
        """A sync went through: nothing waits any more, the team is current."""

    def on_failure(self, exc: NetworkError | ApiError) -> None:
        """A request failed (the back-off is already updated)."""


class Sync:
    """The worker thread for requests (submit) and a loop that, with a team, syncs when woken or
    every interval_s: sends what waits in the outbox, else fetches the team when it is stale."""

    def __init__(
        self, api: ApiClient, outbox: Outbox, listener: SyncListener, interval_s: float = 15.0
    ) -> None:
        self.api = api
        self.outbox = outbox
        self.listener = listener
        self.interval_s = interval_s
        self.backoff = Backoff()
        self._net = ThreadPoolExecutor(1, thread_name_prefix="artcaching-net")
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._synced_at = -1e9
        self._loop_thread: threading.Thread | None = None
        self._no_batches = False
        """The server has no batch endpoint (an older one): events go one by one."""

    def start(self) -> None:
        """Start the background loop (once)."""
        if self._loop_thread is not None:
            return
        self._loop_thread = threading.Thread(target=self._loop, name="artcaching-sync", daemon=True)
        self._loop_thread.start()

    def close(self) -> None:
        """Stop the loop and the worker; requests not yet started are cancelled."""
        self._closed.set()
        self._wake.set()
        if self._loop_thread is not None:
            self._loop_thread.join(timeout=30)
        self._net.shutdown(wait=True, cancel_futures=True)

    def wake(self) -> None:
        """Sync soon (an event was stored, the language changed...)."""
        self._wake.set()

    def submit(self, work: Callable[[], T]) -> Future[T]:
        """Run work on the worker; a network or API failure feeds the back-off and the listener
        before the Future fails with it."""

        def run() -> T:
            try:
                return work()
            except (NetworkError, ApiError) as exc:
                if transient(exc):
                    self.backoff.failed(getattr(exc, "retry_after_s", None))
                self.listener.on_failure(exc)
                raise

        return self._net.submit(run)

    def sync_now(self) -> Future[None]:
        """Send the outbox and catch up with the team now; the Future resolves when done."""
        return self.submit(self._sync)

    def _loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._closed.is_set():
                return
            wait = self.backoff.wait_s()
            if wait > 0 and self._closed.wait(min(wait, self.interval_s)):
                return
            if self.backoff.wait_s() > 0 or not self.api.token:
                continue
            fresh = time.monotonic() - self._synced_at < self.interval_s
            if fresh and self.outbox.count() == 0:
                continue
            try:
                self.sync_now().result()
            except (NetworkError, ApiError):
                pass
            except RuntimeError:
                return
            except Exception:
                log.exception("sync failed")

    def _sync(self) -> None:
        """Flush the outbox in order (the answers carry the team), else fetch the team."""
        if not self.api.token:
            return
        result = self.outbox.flush(self._send, None if self._no_batches else self._send_batch)
        for event in result.done:
            self.listener.on_answer(event)
        for event in result.rejected:
            self.listener.on_rejected(event)
        if result.error is not None:
            raise result.error
        if not result.done:
            self.listener.on_team(self.api.team())
        self.backoff.reset()
        self._synced_at = time.monotonic()
        self.listener.on_synced()

    def _send(self, event: Event) -> dict[str, Any]:
        if event.kind == "checkin":
            return self.api.checkin(event.payload)
        if event.kind == "scan":
            return self.api.scan(event.payload)
        if event.kind == "answer":
            return self.api.answer(event.payload)
        if event.kind == "hint":
            return self.api.take_hint(event.payload)
        raise ApiError(400, "unknown_event", f"unknown event kind {event.kind!r}")

    def _send_batch(self, events: list[Event]) -> list[dict[str, Any] | ApiError]:
        """POST the events at once; each one's answer, or its error as a single call raises it."""
        try:
            answer = self.api.events([{"kind": e.kind, "body": e.payload} for e in events])
        except ApiError as exc:
            if exc.status in (404, 405):
                self._no_batches = True
            raise
        results = answer.get("results")
        if not isinstance(results, list):
            raise NetworkError("POST /team/events: the answer has no results")
        return [_result(r) for r in results]


def _result(result: Any) -> dict[str, Any] | ApiError:
    """One result of a batch {client_event_id, status, body}: the body, or the ApiError its
    error body makes."""
    if not isinstance(result, dict) or not isinstance(result.get("body"), dict):
        raise NetworkError("POST /team/events: a result is no object")
    status, body = result.get("status"), result["body"]
    if not isinstance(status, int):
        raise NetworkError("POST /team/events: a result has no status")
    if 200 <= status < 300:
        return body
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    return ApiError(
        status,
        str(error.get("code", f"http_{status}")),
        str(error.get("message", "")),
        error.get("field"),
    )
