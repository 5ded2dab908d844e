"""Talking to the server: the back-off after failures that may pass, and what the worker reports."""

from __future__ import annotations

import time

import pytest

from client.api import ApiClient, ApiError, NetworkError
from client.outbox import Outbox
from client.sync import MAX_BACKOFF_S, Backoff, Sync, transient


def test_backoff_doubles_up_to_the_cap_and_resets():
    backoff = Backoff()
    assert backoff.wait_s() == 0
    waits = []
    for _ in range(8):
        backoff.failed()
        waits.append(backoff.wait_s())
    assert waits[0] == pytest.approx(2, abs=0.1) and waits[1] == pytest.approx(4, abs=0.1)
    assert waits[-1] == pytest.approx(MAX_BACKOFF_S, abs=0.1)
    backoff.reset()
    assert backoff.wait_s() == 0 and backoff.fails == 0


def test_backoff_waits_as_long_as_the_server_asks():
    backoff = Backoff()
    backoff.failed(retry_after_s=120.0)
    assert backoff.wait_s() == pytest.approx(120, abs=0.1)


def test_transient_failures():
    assert transient(NetworkError("refused"))
    assert transient(ApiError(503, "unavailable")) and transient(ApiError(429, "rate_limited"))
    assert not transient(ApiError(400, "bad_token")) and not transient(ValueError("x"))


class Recorder:
    """A SyncListener that keeps what it was told."""

    def __init__(self) -> None:
        self.failures: list[Exception] = []
        self.synced = 0

    def on_answer(self, event): ...

    def on_rejected(self, event): ...

    def on_team(self, team): ...

    def on_synced(self) -> None:
        self.synced += 1

    def on_failure(self, exc) -> None:
        self.failures.append(exc)


@pytest.mark.parametrize(
    ("exc", "backs_off"),
    [
        (NetworkError("no route"), True),
        (ApiError(502, "bad_gateway"), True),
        (ApiError(404, "not_found"), False),
    ],
)
def test_a_failed_request_is_reported_and_backs_off_only_when_it_may_pass(tmp_path, exc, backs_off):
    recorder = Recorder()
    sync = Sync(ApiClient("http://127.0.0.1:9"), Outbox(tmp_path / "o.sqlite3"), recorder)

    def work() -> None:
        raise exc

    try:
        with pytest.raises(type(exc)):
            sync.submit(work).result(10)
        assert recorder.failures == [exc]
        assert (sync.backoff.wait_s() > 0) is backs_off
    finally:
        sync.close()
        sync.outbox.close()


def test_without_a_team_a_sync_sends_nothing_and_reports_nothing(tmp_path):
    recorder = Recorder()
    outbox = Outbox(tmp_path / "o.sqlite3")
    outbox.put("checkin", {"lat": 49.4, "lon": 7.7})
    sync = Sync(ApiClient("http://127.0.0.1:9"), outbox, recorder, interval_s=0.05)
    sync.start()
    try:
        sync.wake()
        time.sleep(0.3)
        assert sync.sync_now().result(10) is None
        assert outbox.count() == 1 and recorder.failures == [] and recorder.synced == 0
    finally:
        sync.close()
        outbox.close()
