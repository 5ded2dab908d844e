"""One clock against the real server: a phone whose clock is 30 minutes off still finds every
stop (the app stamps in the server's time, learnt from the answers' Date header), and events
stored while offline keep the stamp they were given, even when the phone's clock jumps.

The walk goes by bike (8 m/s, 2.9 km in about 6 minutes of walk time, replayed faster, so its
stamps run up to 6 minutes ahead of the wall clock); the server allows a clock skew of 15
minutes: 30 minutes behind would put every stamp before the team's start, 30 minutes ahead
past the allowed skew.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from client.autoplay import Autoplay, ensure_team, route_gpx
from client.clock import ServerClock
from client.sensors.location import SimulatedLocation
from client.session import GameSession
from tests.client.test_autoplay import demo_route, server_team
from tests.client.test_session import demo_stops, walk_to


@pytest.fixture
def app(make_app):
    return make_app(MAX_CLOCK_SKEW_S=900)


class NeverLearns(ServerClock):
    """A phone without the one clock: it stamps with its own."""

    def observe(self, server: datetime, sent: datetime, received: datetime) -> bool:
        return False


def walk(url, demo, app, tmp_path, shift: timedelta, clock_type=ServerClock):
    slug, rally_id = demo
    points, _ = demo_route(app, rally_id)
    clock = clock_type(device=lambda: datetime.now(UTC) + shift)
    location = SimulatedLocation(
        route_gpx(points), seed=5, noise_m=3.0, speed_mps=8.0, start=clock.device()
    )
    with GameSession(tmp_path / "phone", server_clock=clock) as session:
        session.set_server(url)
        ensure_team(session, slug, "Skewed", "en")
        result = Autoplay(session, location, settle_s=15).run()
        offset = session.snapshot.clock_offset_s
        rejected = [e.error for e in session.outbox.answered(100_000) if e.error]
    return result, offset, rejected


@pytest.mark.slow
@pytest.mark.parametrize("minutes", [-30, 30])
def test_a_phone_clock_30_minutes_off_finds_every_stop(live_server, demo, app, tmp_path, minutes):
    result, offset, rejected = walk(live_server, demo, app, tmp_path, timedelta(minutes=minutes))
    assert result.finished, rejected[:3]
    finished, found, discoveries, _, _ = server_team(app, "Skewed")
    assert finished and found == discoveries == 10
    assert offset == pytest.approx(-minutes * 60, abs=3)
    assert not [e for e in rejected if "time" in e]


@pytest.mark.slow
def test_without_the_one_clock_that_phone_would_not(live_server, demo, app, tmp_path):
    """The control: the same walk stamped with the phone's own clock, 30 minutes behind."""
    result, offset, rejected = walk(
        live_server, demo, app, tmp_path, timedelta(minutes=-30), NeverLearns
    )
    assert not result.finished and offset is None
    assert rejected, "the server refused the stamps"


def test_events_kept_offline_keep_their_stamp_when_the_clock_jumps(
    restartable_server, demo, app, tmp_path
):
    """Online the phone learns it is 30 min behind; offline its clock is set 2 hours on (and
    later back); what it stores meanwhile is stamped in the server's time and sent unchanged."""
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    shift = [timedelta(minutes=-30)]
    clock = ServerClock(device=lambda: datetime.now(UTC) + shift[0])
    with GameSession(tmp_path / "phone", server_clock=clock) as session:
        session.set_server(restartable_server.url)
        session.start_rally(slug, "Jumpy", "en").result(10)
        assert clock.offset_s() == pytest.approx(1800, abs=3)
        restartable_server.stop()
        shift[0] = timedelta(hours=2)
        server_now = datetime.now(UTC)
        walk_to(session, stops[0], session.clock() + timedelta(seconds=5))
        stored = {e.id: e.payload["recorded_at"] for e in session.outbox.pending()}
        assert stored
        first = datetime.fromisoformat(min(stored.values()).replace("Z", "+00:00"))
        assert abs((first - server_now).total_seconds()) < 30, "stamped in the server's time"
        shift[0] = timedelta(minutes=-45)
        restartable_server.start()
        session.sync_now().result(20)
        answered = {e.id: e for e in session.outbox.answered(100_000)}
        for event_id, stamp in stored.items():
            assert answered[event_id].payload["recorded_at"] == stamp
            assert answered[event_id].error is None
        assert session.snapshot.progress[0] == 1
