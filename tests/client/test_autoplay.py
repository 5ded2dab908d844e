"""The headless autoplay plays the whole demo rally against a real server: GPS and one QR scan.

The walk is replayed much faster than walking, with the walk's own timestamps (1 s apart, from
now on), so they run up to ~40 min ahead of the wall clock: the test app allows that clock skew
(MAX_CLOCK_SKEW_S=86400); the server's other checks (teleport, before start) see a real walk.
"""

from __future__ import annotations

import pytest

from client import qrscan
from client.autoplay import Autoplay, ensure_team, route_gpx
from client.outbox import State
from client.sensors.camera import FramesFromFiles
from client.sensors.location import SimulatedLocation
from client.session import GameSession

QR_STOP = 4


@pytest.fixture
def app(make_app):
    return make_app(MAX_CLOCK_SKEW_S=86400)


def demo_route(app, rally_id: int) -> tuple[list, dict[int, int]]:
    """The demo rally's walking line (start, stops, finish) and marker id per stop number."""
    from server import game, models
    from server.extensions import db

    with app.app_context():
        rally = game.domain_rally(db.session.get(models.Rally, rally_id))
        return rally.waypoints(), {i + 1: s.marker.id for i, s in enumerate(rally.stops)}


def poster_frames(app, rally_id: int, marker_id: int, folder):
    """A camera frame holding the QR code of one marker (as printed on its poster)."""
    from markers import qr, tokens
    from server import game

    with app.app_context():
        token = game.keyring().sign(rally_id, marker_id)
    url = tokens.qr_url(app.config["PUBLIC_BASE_URL"], token)
    folder.mkdir()
    (folder / "0-street.png").write_bytes(qr.png_bytes("https://example.org/not-ours", 6))
    (folder / "1-poster.png").write_bytes(qr.png_bytes(url, 8))
    return FramesFromFiles(folder)


def play(url, demo, app, tmp_path, *, frames=None, seed=3, on_step=None):
    slug, rally_id = demo
    points, _ = demo_route(app, rally_id)
    walk = SimulatedLocation(route_gpx(points), seed=seed, noise_m=4.0)
    with GameSession(tmp_path / "phone") as session:
        session.set_server(url)
        ensure_team(session, slug, "Autoplay", "en")
        result = Autoplay(session, walk, frames=frames, settle_s=30, on_step=on_step).run()
        assert session.snapshot.pending == 0
        answered = session.outbox.answered(100_000)
    return result, answered


def server_team(app, name: str = "Autoplay"):
    """(finished, found count, discoveries, score, client event ids) as the server keeps them."""
    from sqlalchemy import select

    from server import models
    from server.extensions import db

    with app.app_context():
        team = db.session.scalar(select(models.Team).filter_by(name=name))
        events = db.session.scalars(
            select(models.ClientEvent.client_event_id).filter_by(team_id=team.id)
        ).all()
        return (
            team.finished_at is not None,
            team.found_count,
            len(team.discoveries),
            team.score,
            sorted(events),
        )


@pytest.mark.slow
def test_autoplay_plays_the_demo_rally_gps_and_one_poster_qr(live_server, demo, app, tmp_path):
    _, rally_id = demo
    _, marker_ids = demo_route(app, rally_id)
    frames = poster_frames(app, rally_id, marker_ids[QR_STOP], tmp_path / "frames")
    assert qrscan.decode(next(frames.frames())) == ["https://example.org/not-ours"]
    result, answered = play(live_server, demo, app, tmp_path, frames=frames)
    assert result.finished, result.errors
    methods = {int(f["stop"]): f["method"] for f in result.team["found"]}
    assert methods == {i: "qr" if i == QR_STOP else "gps" for i in range(1, 11)}
    assert result.qr_stops == (QR_STOP,)
    assert result.team["progress"] == {"found": 10, "total": 10}
    finished, found, discoveries, score, events = server_team(app)
    assert (finished, found, discoveries, score) == (True, 10, 10, 10 * 100 + 200)
    assert events == sorted(e.id for e in answered)
    assert all(e.state is State.DONE for e in answered)


@pytest.mark.slow
def test_autoplay_with_the_server_down_halfway(restartable_server, demo, app, tmp_path):
    """The server stops after a third of the walk and comes back after two thirds: the finds
    made meanwhile wait in the outbox, go out in order, and count once; the rally completes."""

    def outage(step: int) -> None:
        if step == 700:
            restartable_server.stop()
        elif step == 1400:
            restartable_server.start()

    result, answered = play(restartable_server.url, demo, app, tmp_path, on_step=outage)
    assert result.finished, result.errors
    assert any("127.0.0.1" in e for e in result.errors), "the outage was met"
    assert result.most_pending > 50, "700 s offline near stops 2 and 3: a check-in per 5 s"
    assert {f["method"] for f in result.team["found"]} == {"gps"}
    finished, found, discoveries, score, events = server_team(app)
    assert (finished, found, discoveries, score) == (True, 10, 10, 1200)
    assert events == sorted(e.id for e in answered), "nothing lost, nothing twice"
    assert all(e.state is State.DONE for e in answered)
