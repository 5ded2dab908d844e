"""The reveal queue and the journal: every find's reveal once, in order, also across a restart;
every found stop can be opened again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from client.api import NetworkError
from client.reveals import RevealQueue, journal, journal_entry
from client.session import REVEALS_FILE, GameSession
from tests.client.test_session import demo_stops, walk_to


def found(stop: int) -> dict:
    return {
        "stop": stop,
        "marker_id": 100 + stop,
        "title": f"Stop {stop}",
        "story": f"Story {stop}",
    }


def test_the_queue_keeps_the_order_found_and_each_stop_once(tmp_path):
    queue = RevealQueue(tmp_path / "reveals.json")
    assert queue.add([found(3), found(1)]) == 2
    assert queue.add([found(1), found(2)]) == 1, "a repeated found_now is not queued again"
    assert [e["stop"] for e in queue.items] == [3, 1, 2]
    assert queue.seen(3)
    assert [e["stop"] for e in queue.items] == [1, 2]
    assert queue.add([found(3)]) == 0, "a seen reveal never comes back"
    assert not queue.seen(3)


def test_the_queue_survives_a_restart(tmp_path):
    path = tmp_path / "pack" / "reveals.json"
    queue = RevealQueue(path)
    queue.add([found(1), found(2), found(3)])
    queue.seen(1)
    again = RevealQueue(path)
    assert [e["story"] for e in again.items] == ["Story 2", "Story 3"]
    assert again.add([found(1)]) == 0, "seen before the restart"
    again.clear()
    assert RevealQueue(path).items == ()


@pytest.mark.parametrize("text", ["", "[]", "{", '{"queued": [1, {"x": 1}], "seen": ["a"]}'])
def test_a_broken_queue_file_starts_empty(tmp_path, text):
    path = tmp_path / "reveals.json"
    path.write_text(text)
    queue = RevealQueue(path)
    assert queue.items == ()
    assert queue.add([found(1)]) == 1
    assert json.loads(path.read_text())["queued"][0]["stop"] == 1


def test_the_journal_lists_every_found_stop():
    team = {"found": [found(1), found(2), {"title": "no stop"}, found(3)]}
    assert [e["story"] for e in journal(team)] == ["Story 1", "Story 2", "Story 3"]
    assert journal(None) == ()
    assert journal_entry(team, 2)["title"] == "Stop 2"
    assert journal_entry({"found": []}, 4, [found(4)])["story"] == "Story 4"
    assert journal_entry(team, 9) is None


@pytest.fixture
def app(make_app):
    return make_app(MAX_CLOCK_SKEW_S=86400)


def test_three_finds_in_one_catch_up_are_each_revealed_once_in_order(
    restartable_server, demo, app, tmp_path
):
    """Stops 1 to 3 found while the server is down: after the catch-up all three wait to be
    revealed, in order; one seen, the phone restarts: the other two are still there, once."""
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    start = datetime.now(UTC) + timedelta(seconds=5)
    with GameSession(tmp_path / "phone") as session:
        session.set_server(restartable_server.url)
        session.start_rally(slug, "Outage", "en").result(10)
        restartable_server.stop()
        for i in range(3):
            walk_to(session, stops[i], start + timedelta(minutes=10 * i))
        with pytest.raises(NetworkError):
            session.sync_now().result(10)
        assert session.snapshot.reveals == ()
        restartable_server.start()
        session.sync_now().result(10)
        snap = session.snapshot
        assert snap.progress == (3, 10)
        assert [r["stop"] for r in snap.reveals] == [1, 2, 3]
        assert all(r["story"] for r in snap.reveals)
        assert [f["stop"] for f in journal(snap.team)] == [1, 2, 3]
        session.reveal_seen(1)
        assert [r["stop"] for r in session.snapshot.reveals] == [2, 3]
    assert (tmp_path / "phone" / "packs" / slug / REVEALS_FILE).exists()
    with GameSession(tmp_path / "phone") as session:
        assert session.resume()
        assert [r["stop"] for r in session.snapshot.reveals] == [2, 3]
        session.sync_now().result(10)
        assert [r["stop"] for r in session.snapshot.reveals] == [2, 3]
        session.reveal_seen(2)
        session.reveal_seen(3)
        assert session.snapshot.reveals == ()
        session.leave()
        assert session.snapshot.reveals == ()
