"""The outbox: durable, ordered, thread-safe, resent until the server answers."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from client.api import ApiError, NetworkError
from client.outbox import Outbox, State
from tests.conftest import ROOT

FIX = {
    "lat": 49.44398,
    "lon": 7.76938,
    "accuracy_m": 6.0,
    "recorded_at": "2026-09-12T18:00:00.000Z",
}


def fix(i: int) -> dict:
    return {**FIX, "lat": 49.44398 + i * 1e-5}


class Server:
    """A stand-in for the server: records what arrives, answers like the API would."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.fail_with: Exception | None = None

    def __call__(self, event) -> dict:
        if self.fail_with is not None:
            raise self.fail_with
        self.received.append(event.payload)
        return {"result": "outside", "seen": event.payload["client_event_id"]}


def test_put_stores_before_returning_and_gives_a_uuid(tmp_path):
    with Outbox(tmp_path / "o.sqlite3") as box:
        event_id = box.put("checkin", FIX)
        assert uuid.UUID(event_id).version == 4
        [event] = box.pending()
        assert event.id == event_id
        assert event.payload == {**FIX, "client_event_id": event_id}
        assert event.state is State.PENDING and event.attempts == 0
        assert box.count() == 1


def test_survives_reopening(tmp_path):
    path = tmp_path / "o.sqlite3"
    with Outbox(path) as box:
        ids = [box.put("checkin", fix(i)) for i in range(3)]
        box.mark_done(ids[0], {"result": "found"})
    with Outbox(path) as box:
        assert [e.id for e in box.pending()] == ids[1:]
        assert box.get(ids[0]).state is State.DONE
        assert box.get(ids[0]).response == {"result": "found"}


def test_flush_sends_in_order_and_keeps_the_answers(tmp_path):
    server = Server()
    with Outbox(tmp_path / "o.sqlite3") as box:
        ids = [box.put("checkin" if i % 2 else "scan", fix(i)) for i in range(5)]
        result = box.flush(server)
        assert [p["client_event_id"] for p in server.received] == ids
        assert [e.id for e in result.done] == ids
        assert result.error is None
        assert box.count() == 0
        assert box.get(ids[3]).response["seen"] == ids[3]
        assert box.flush(server).done == ()
        assert len(server.received) == 5


def test_network_error_stops_the_flush_and_keeps_order(tmp_path):
    server = Server()
    with Outbox(tmp_path / "o.sqlite3") as box:
        ids = [box.put("checkin", fix(i)) for i in range(3)]
        server.fail_with = NetworkError("connection refused")
        result = box.flush(server)
        assert isinstance(result.error, NetworkError)
        assert result.done == ()
        assert [e.id for e in box.pending()] == ids
        assert box.get(ids[0]).attempts == 1 and "refused" in box.get(ids[0]).error
        assert box.get(ids[1]).attempts == 0, "the flush stopped at the first failure"
        ids.append(box.put("checkin", fix(3)))
        server.fail_with = None
        box.flush(server)
        assert [p["client_event_id"] for p in server.received] == ids


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_trouble_means_retry_later(tmp_path, status):
    server = Server()
    server.fail_with = ApiError(status, "busy", "try later", retry_after_s=7)
    with Outbox(tmp_path / "o.sqlite3") as box:
        event_id = box.put("checkin", FIX)
        result = box.flush(server)
        assert result.retry_after_s == 7
        assert box.get(event_id).state is State.PENDING


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
def test_a_refusal_is_final_and_does_not_block_the_rest(tmp_path, status):
    answers = iter(
        [ApiError(status, "invalid_field", "recorded_at lies in the future", "recorded_at"), None]
    )
    received = []

    def send(event):
        error = next(answers)
        if error:
            raise error
        received.append(event.id)
        return {"result": "outside"}

    with Outbox(tmp_path / "o.sqlite3") as box:
        bad, good = box.put("checkin", fix(0)), box.put("checkin", fix(1))
        result = box.flush(send)
        assert [e.id for e in result.rejected] == [bad]
        assert box.get(bad).state is State.REJECTED
        assert "recorded_at lies in the future" in box.get(bad).error
        assert received == [good]
        assert box.count() == 0
        assert [e.id for e in box.answered()] == [good, bad]


def test_a_bug_in_send_keeps_the_event_and_raises(tmp_path):
    def send(event):
        raise KeyError("found_now")

    with Outbox(tmp_path / "o.sqlite3") as box:
        event_id = box.put("checkin", FIX)
        with pytest.raises(KeyError):
            box.flush(send)
        assert box.get(event_id).state is State.PENDING


def test_concurrent_puts_and_flushes_send_each_event_once(tmp_path):
    """Four threads put 50 events each while two threads flush again and again: every event
    arrives exactly once, and each thread's events arrive in the order it put them."""
    received: list[dict] = []
    lock = threading.Lock()

    def send(event):
        with lock:
            received.append(event.payload)
        return {"ok": True}

    with Outbox(tmp_path / "o.sqlite3") as box:
        done = threading.Event()

        def producer(n: int) -> None:
            for i in range(50):
                box.put("checkin", {**FIX, "producer": n, "i": i})

        def flusher() -> None:
            while not done.is_set():
                box.flush(send)
            box.flush(send)

        producers = [threading.Thread(target=producer, args=(n,)) for n in range(4)]
        flushers = [threading.Thread(target=flusher) for _ in range(2)]
        for t in flushers + producers:
            t.start()
        for t in producers:
            t.join()
        done.set()
        for t in flushers:
            t.join()
        assert box.count() == 0
    ids = [p["client_event_id"] for p in received]
    assert len(ids) == len(set(ids)) == 200
    for n in range(4):
        assert [p["i"] for p in received if p["producer"] == n] == list(range(50))


CRASH = """
import os, sys
from client.outbox import Outbox
box = Outbox(sys.argv[1])
event_id = box.put("scan", {"token": "https://artcaching.example.org/q/AQEBAQ"})
print(event_id, flush=True)
os._exit(9)  # the phone dies before anything is sent
"""


def test_crash_between_store_and_send(tmp_path):
    """A process stores a find and dies at once (no close, no cleanup): the next start sends it,
    with the same client_event_id (so a find sent just before a crash is not counted twice)."""
    path = tmp_path / "o.sqlite3"
    out = subprocess.run(
        [sys.executable, "-c", CRASH, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 9, out.stderr
    event_id = out.stdout.strip()
    server = Server()
    with Outbox(path) as box:
        box.flush(server)
    assert [p["client_event_id"] for p in server.received] == [event_id]
    assert server.received[0]["token"].endswith("/q/AQEBAQ")


def test_crash_after_send_before_mark_done_resends_the_same_id(tmp_path):
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    event_id = box.put("checkin", FIX)
    sent = []

    def send_then_die(event):
        sent.append(event.payload["client_event_id"])
        raise SystemExit("the phone died after the request left")

    with pytest.raises(SystemExit):
        box.flush(send_then_die)
    box.close()
    server = Server()
    with Outbox(path) as box:
        box.flush(server)
    assert sent == [event_id]
    assert [p["client_event_id"] for p in server.received] == [event_id]


def test_drop_pending_and_purge(tmp_path):
    with Outbox(tmp_path / "o.sqlite3") as box:
        a, b = box.put("checkin", fix(0)), box.put("checkin", fix(1))
        box.mark_done(a, {"ok": True})
        assert box.drop_pending() == 1
        assert box.get(b).state is State.REJECTED and box.count() == 0
        assert box.purge(older_than_s=-1) == 2
        assert box.get(a) is None


def test_purge_deletes_old_answered_events_and_shrinks_the_file(tmp_path, monkeypatch):
    """One walk leaves thousands of answered check-ins (1.4 MB); an hour later they go."""
    path = tmp_path / "o.sqlite3"
    with Outbox(path) as box:
        ids = [box.put("checkin", {**fix(i), "pad": "x" * 300}) for i in range(3000)]
        for event_id in ids[:-1]:
            box.mark_done(event_id, {"result": "none", "team": {"pad": "y" * 200}})
        waiting = box.put("checkin", fix(9999))
        big = path.stat().st_size + Path(f"{path}-wal").stat().st_size
        assert big > 1_000_000
        later = time.time() + 3600 + 60
        with monkeypatch.context() as m:
            m.setattr(time, "time", lambda: later)
            box.mark_done(ids[-1], {"result": "found"})  # answered a minute ago: kept
            assert box.purge(3600) == len(ids) - 1
        assert [e.id for e in box.answered(10)] == [ids[-1]]
        assert [e.id for e in box.pending()] == [waiting], "waiting events are never purged"
        small = path.stat().st_size + Path(f"{path}-wal").stat().st_size
        assert small < 100_000, (big, small)


class BatchServer(Server):
    """Also takes batches: records each batch's size, answers each event (or refuses some)."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.refuse: dict[str, ApiError] = {}
        """Per event id: the error its result carries."""
        self.batch_fails_with: Exception | None = None

    def batch(self, events) -> list:
        if self.batch_fails_with is not None:
            raise self.batch_fails_with
        self.batches.append(len(events))
        results: list = []
        for event in events:
            if event.id in self.refuse:
                results.append(self.refuse[event.id])
            else:
                self.received.append(event.payload)
                results.append({"result": "outside", "seen": event.id})
        return results


def test_waiting_events_go_in_batches_of_at_most_fifty(tmp_path):
    server = BatchServer()
    with Outbox(tmp_path / "o.sqlite3") as box:
        ids = [box.put("checkin", fix(i)) for i in range(120)]
        result = box.flush(server, server.batch)
        assert server.batches == [50, 50, 20]
        assert [p["client_event_id"] for p in server.received] == ids
        assert [e.id for e in result.done] == ids and result.error is None
        assert box.count() == 0
        assert box.get(ids[70]).response == {"result": "outside", "seen": ids[70]}
        assert box.flush(server, server.batch).done == ()
        alone = box.put("scan", {"token": "t"})
        box.flush(server, server.batch)
        assert server.batches == [50, 50, 20], "one waiting event goes alone"
        assert server.received[-1]["client_event_id"] == alone


def test_a_refused_event_in_a_batch_is_final_for_it_alone(tmp_path):
    server = BatchServer()
    with Outbox(tmp_path / "o.sqlite3") as box:
        ids = [box.put("checkin", fix(i)) for i in range(5)]
        server.refuse[ids[1]] = ApiError(422, "time_in_future", "too late", "recorded_at")
        server.refuse[ids[3]] = ApiError(409, "rally_closed", "closed")
        result = box.flush(server, server.batch)
        assert result.error is None
        assert [e.id for e in result.rejected] == [ids[1], ids[3]]
        assert box.get(ids[1]).state is State.REJECTED
        assert box.get(ids[1]).error == "time_in_future: too late"
        assert [e.id for e in result.done] == [ids[0], ids[2], ids[4]]
        assert box.count() == 0


def test_a_busy_event_in_a_batch_waits_and_the_others_are_answered(tmp_path):
    server = BatchServer()
    with Outbox(tmp_path / "o.sqlite3") as box:
        ids = [box.put("checkin", fix(i)) for i in range(3)]
        server.refuse[ids[1]] = ApiError(503, "busy", "again")
        result = box.flush(server, server.batch)
        assert isinstance(result.error, ApiError) and result.error.status == 503
        assert [e.id for e in box.pending()] == [ids[1]]
        assert box.get(ids[1]).attempts == 1
        del server.refuse[ids[1]]
        box.flush(server, server.batch)
        assert box.count() == 0
        assert sorted(p["client_event_id"] for p in server.received) == sorted(ids)


@pytest.mark.parametrize(
    "exc", [NetworkError("connection refused"), ApiError(429, "rate_limited", retry_after_s=9)]
)
def test_a_batch_that_did_not_arrive_waits_whole(tmp_path, exc):
    server = BatchServer()
    server.batch_fails_with = exc
    with Outbox(tmp_path / "o.sqlite3") as box:
        ids = [box.put("checkin", fix(i)) for i in range(3)]
        result = box.flush(server, server.batch)
        assert result.error is exc and result.done == ()
        assert [e.id for e in box.pending()] == ids
        assert all(e.attempts == 1 for e in box.pending())
        assert server.received == []


@pytest.mark.parametrize("status", [404, 405, 413])
def test_a_batch_refused_whole_goes_one_by_one(tmp_path, status):
    server = BatchServer()
    server.batch_fails_with = ApiError(status, "not_found")
    with Outbox(tmp_path / "o.sqlite3") as box:
        ids = [box.put("checkin", fix(i)) for i in range(60)]
        result = box.flush(server, server.batch)
        assert result.error is None and box.count() == 0
        assert [p["client_event_id"] for p in server.received] == ids
        assert server.batches == []


def test_a_short_answer_to_a_batch_keeps_its_events(tmp_path):
    with Outbox(tmp_path / "o.sqlite3") as box:
        ids = [box.put("checkin", fix(i)) for i in range(3)]
        result = box.flush(Server(), lambda events: [{"result": "outside"}])
        assert isinstance(result.error, NetworkError)
        assert [e.id for e in box.pending()] == ids
