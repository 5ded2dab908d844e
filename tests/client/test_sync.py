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


class Counting:
    """Counts the calls of an ApiClient's event methods, passing them on."""

    def __init__(self, api: ApiClient) -> None:
        self.calls: list[str] = []
        for name in ("checkin", "scan", "answer", "take_hint", "events"):
            setattr(api, name, self._counted(name, getattr(api, name)))

    def _counted(self, name, method):
        def call(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)

        return call


def _offline_walk(app, api: ApiClient, slug: str, rally_id: int, outbox: Outbox) -> list[str]:
    """A team that started an hour ago and 119 fixes stored while offline, walking to stop 1 and
    back north (the 60th right at it), past stop 2."""
    from datetime import UTC, datetime, timedelta

    from tests.server.helpers import backdate_team, demo_stops, iso

    team = api.create_team(slug, "Offline walkers", "en")["team"]
    backdate_team(app, team["id"], 3600)
    stop = demo_stops(app, rally_id)[0].position
    start = datetime.now(UTC) - timedelta(minutes=30)
    ids = []
    for i in range(119):
        lat = stop.lat + abs(59 - i) * 5e-5  # 5.6 m in 5 s, to the stop and back
        at = iso(start + timedelta(seconds=5 * i))
        body = {"lat": lat, "lon": stop.lon, "accuracy_m": 5.0, "recorded_at": at}
        ids.append(outbox.put("checkin", body))
    return ids


def test_after_an_outage_the_outbox_catches_up_in_batches(app, live_server, demo, tmp_path):
    from tests.server.helpers import count_rows

    slug, rally_id = demo
    recorder = Recorder()
    outbox = Outbox(tmp_path / "o.sqlite3")
    api = ApiClient(live_server, language="en")
    ids = _offline_walk(app, api, slug, rally_id, outbox)
    counting = Counting(api)
    sync = Sync(api, outbox, recorder)
    try:
        sync.sync_now().result(60)
        assert counting.calls == ["events"] * 3, "119 events in 3 requests"
        assert outbox.count() == 0
        answers = [outbox.get(i).response for i in ids]
        found = [(i, f["stop"]) for i, a in enumerate(answers) for f in a["found_now"]]
        assert found == [(53, 1), (109, 2)], "each found once, by the first fix inside its fence"
        team_id = api.team()["id"]
        assert count_rows(app, "ClientEvent", team_id=team_id) == 119
        assert count_rows(app, "Discovery", team_id=team_id) == 2
        outbox.put("scan", {"token": "not a code"})
        sync.sync_now().result(60)
        assert counting.calls[-1] == "scan", "one waiting event goes by itself"
        assert outbox.answered(1)[0].error.startswith("token_malformed")
    finally:
        sync.close()
        outbox.close()


def test_an_older_server_without_batches_gets_one_event_at_a_time(app, live_server, demo, tmp_path):
    from tests.server.helpers import count_rows

    slug, rally_id = demo
    outbox = Outbox(tmp_path / "o.sqlite3")
    api = ApiClient(live_server, language="en")
    ids = _offline_walk(app, api, slug, rally_id, outbox)
    counting = Counting(api)

    def older_server(events):
        counting.calls.append("events")
        raise ApiError(404, "not_found", "no such route")

    api.events = older_server  # type: ignore[method-assign]
    sync = Sync(api, outbox, Recorder())
    try:
        sync.sync_now().result(60)
        assert counting.calls == ["events"] + ["checkin"] * 119
        assert outbox.count() == 0
        assert outbox.get(ids[53]).response["found_now"][0]["stop"] == 1
        assert count_rows(app, "ClientEvent", team_id=api.team()["id"]) == 119
        outbox.put("checkin", {"lat": 49.4, "lon": 7.7, "accuracy_m": 5.0})
        outbox.put("checkin", {"lat": 49.4, "lon": 7.7, "accuracy_m": 5.0})
        sync.sync_now().result(60)
        assert counting.calls[-2:] == ["checkin", "checkin"], "the batch is not tried again"
    finally:
        sync.close()
        outbox.close()
