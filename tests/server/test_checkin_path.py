"""The event path's cost and its guarantees: a check-in in a handful of SQL statements, the rally's
domain model cached per version and dropped on every instance when a curator changes the rally,
an event that lost a race applied again under the row lock, and on SQLite the write lock held
for the writes alone."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select, text

from markers.geo import destination
from server import create_app, game, models
from server.extensions import db
from tests import databases
from tests.server.helpers import (
    API,
    bearer,
    checkin,
    count_rows,
    create_team,
    demo_stops,
    get_team,
    new_event_id,
    qr_url,
    scan,
    sql_queries,
    sql_sent,
)


@pytest.fixture
def team(app, client, demo):
    """A team of the demo rally that started an hour ago: (token, team id, rally id)."""
    slug, rally_id = demo
    created = create_team(client, slug, "Statements").get_json()
    with app.app_context():
        row = db.session.get(models.Team, created["team"]["id"])
        row.started_at = datetime.now(UTC) - timedelta(hours=1)
        db.session.commit()
    return created["token"], created["team"]["id"], rally_id


def near_first_stop(app, rally_id: int, metres: float = 300.0) -> tuple[float, float]:
    first = demo_stops(app, rally_id)[0]
    return destination(first.position, 90.0, metres)


def test_a_checkin_runs_five_statements(app, client, team):
    token, _team_id, rally_id = team
    lat, lon = near_first_stop(app, rally_id)
    assert checkin(client, token, lat, lon).status_code == 200
    with sql_sent(app) as sent:
        resp = checkin(client, token, lat, lon)
    assert resp.status_code == 200, resp.get_json()
    assert len(sql_queries(sent)) <= 5, sql_queries(sent)
    assert sum(s.startswith("SELECT team.") for s in sent) == 1
    assert not any(s.startswith("SELECT rally") for s in sent)
    assert not any(s.startswith("SELECT client_event") for s in sent)


def test_scans_answers_and_hints_take_the_same_short_path(app, client, team):
    token, _team_id, rally_id = team
    stops = demo_stops(app, rally_id)
    url = qr_url(app, rally_id, stops[0].marker_id)
    assert checkin(client, token, *near_first_stop(app, rally_id)).status_code == 200
    with sql_sent(app) as sent:
        assert scan(client, token, url).status_code == 200
    assert len(sql_queries(sent)) <= 7, sql_queries(sent)
    assert not any(s.startswith("SELECT rally") for s in sent)
    body = {"stop": 1, "client_event_id": new_event_id()}
    with sql_sent(app) as sent:
        resp = client.post(f"{API}/team/hints", json=body, headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    assert len(sql_queries(sent)) <= 7, sql_queries(sent)
    assert not any(s.startswith("SELECT rally") for s in sent)


def test_a_batch_costs_about_its_events(app, client, team):
    token, _team_id, rally_id = team
    start = near_first_stop(app, rally_id)
    now = datetime.now(UTC)
    events = [
        {
            "kind": "checkin",
            "body": {
                "lat": destination(start, 0.0, 5.0 * i)[0],
                "lon": destination(start, 0.0, 5.0 * i)[1],
                "accuracy_m": 8.0,
                "recorded_at": (now - timedelta(seconds=60 - 10 * i)).isoformat(),
                "client_event_id": new_event_id(),
            },
        }
        for i in range(5)
    ]
    with sql_sent(app) as sent:
        resp = client.post(f"{API}/team/events", json={"events": events}, headers=bearer(token))
    assert resp.status_code == 200
    assert [r["status"] for r in resp.get_json()["results"]] == [200] * 5
    assert len(sql_queries(sent)) <= 5 * 9, sql_queries(sent)


def test_a_repeated_event_is_answered_from_the_insert(app, client, team):
    token, team_id, rally_id = team
    lat, lon = near_first_stop(app, rally_id)
    event_id = new_event_id()
    first = checkin(client, token, lat, lon, event_id=event_id)
    with sql_sent(app) as sent:
        again = checkin(client, token, lat + 0.001, lon, event_id=event_id)
    assert again.get_json() == first.get_json()
    assert count_rows(app, "ClientEvent", team_id=team_id) == 1
    assert sum(s.startswith("INSERT INTO client_event") for s in sent) == 1


def test_the_rally_model_is_built_once_per_version(app, client, team):
    token, _team_id, rally_id = team
    lat, lon = near_first_stop(app, rally_id)
    assert checkin(client, token, lat, lon).status_code == 200
    models_kept = app.extensions["artcaching.rally_models"]
    with app.app_context():
        version = db.session.get(models.Rally, rally_id).version
    kept = models_kept[(rally_id, version)]
    assert checkin(client, token, lat, lon).status_code == 200
    assert models_kept[(rally_id, version)] is kept


@pytest.mark.parametrize("change", ["marker", "venue", "stop", "rally"])
def test_a_curators_change_makes_a_new_rally_version(app, demo, change):
    _slug, rally_id = demo
    with app.app_context():
        rally = db.session.get(models.Rally, rally_id)
        before = rally.version
        stop = rally.stops[0]
        if change == "marker":
            stop.marker.radius_m += 5
        elif change == "venue":
            assert stop.marker.venue is not None
            stop.marker.venue.name += " (Ost)"
        elif change == "stop":
            stop.set_text("clue", {"de": "Neu", "en": "New"})
        else:
            rally.walking_speed_mps = 1.4
        db.session.commit()
        assert db.session.get(models.Rally, rally_id).version > before


def test_playing_makes_no_new_rally_version(app, client, team):
    token, _team_id, rally_id = team
    with app.app_context():
        before = db.session.get(models.Rally, rally_id).version
    first = demo_stops(app, rally_id)[0]
    assert checkin(client, token, *first.position, accuracy=5.0).status_code == 200
    assert get_team(client, token)["progress"]["found"] == 1
    with app.app_context():
        assert db.session.get(models.Rally, rally_id).version == before


def test_another_instances_change_reaches_this_ones_cache(app, client, team, test_database):
    """Two instances on one database: a marker made larger on one counts on the other at once."""
    token, team_id, rally_id = team
    first = demo_stops(app, rally_id)[0]
    beside = destination(first.position, 90.0, first.radius_m + 20.0)
    assert checkin(client, token, *beside, accuracy=5.0).status_code == 200
    assert get_team(client, token)["progress"]["found"] == 0
    other = create_app({**databases.TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": test_database.url})
    with other.app_context():
        marker = db.session.get(models.Marker, first.marker_id)
        marker.radius_m = first.radius_m + 40.0
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    later = datetime.now(UTC) + timedelta(seconds=1)
    resp = checkin(client, token, *beside, accuracy=5.0, at=later)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["result"] == "found"
    assert count_rows(app, "Discovery", team_id=team_id) == 1


def test_an_event_that_lost_a_race_is_applied_again_under_the_lock(app, client, team, monkeypatch):
    """Another event of the team commits between this one's read and its write: this one is
    read again (under the row lock) and applied over the other's outcome."""
    token, team_id, rally_id = team
    lat, lon = near_first_stop(app, rally_id)
    real = game.start_writing
    raced = []

    def another_event_commits_first() -> None:
        if not raced:
            raced.append(True)
            with db.engine.connect() as other:
                other.execute(
                    text("UPDATE team SET revision = revision + 1, score = 7 WHERE id = :id"),
                    {"id": team_id},
                )
                other.commit()
        real()

    monkeypatch.setattr(game, "start_writing", another_event_commits_first)
    with app.app_context():
        before = db.session.get(models.Team, team_id).revision
    with sql_sent(app) as sent:
        resp = checkin(client, token, lat, lon)
    assert resp.status_code == 200, resp.get_json()
    assert raced
    with app.app_context():
        row = db.session.get(models.Team, team_id)
        assert row.revision == before + 2
        assert row.last_lat == pytest.approx(lat)
    assert count_rows(app, "ClientEvent", team_id=team_id) == 1
    ours = [s for s in sent if s.startswith("UPDATE team SET") and "score = 7" not in s]
    assert len(ours) == 2
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert any("FOR UPDATE" in s for s in sent)


@contextmanager
def another_writer(test_database, team_id: int) -> Iterator[Any]:
    """Another connection in the middle of a write: SQLite's database-wide write lock, or
    PostgreSQL's lock of the team's row; the block commits it with ``.commit()``."""
    if test_database.backend == "sqlite":
        holder = sqlite3.connect(test_database.file, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE team SET last_seen_at = last_seen_at WHERE id = ?", (team_id,))
        try:
            yield type("Holder", (), {"commit": lambda _self: holder.execute("COMMIT")})()
        finally:
            holder.close()
        return
    engine = create_engine(test_database.url)
    try:
        with engine.connect() as holder:
            holder.execute(text("SELECT id FROM team WHERE id = :id FOR UPDATE"), {"id": team_id})
            yield holder
    finally:
        engine.dispose()


def test_the_reads_run_without_a_lock(app, client, team, test_database):
    """While another connection writes (SQLite) or holds the team's row (PostgreSQL), a
    check-in reads the team and works out its outcome; it waits only to write, then counts."""
    token, team_id, rally_id = team
    lat, lon = near_first_stop(app, rally_id)
    reads_done = threading.Event()
    answer: dict[str, Any] = {}

    def note(_conn, _cursor, statement, *_args) -> None:
        if "FROM discovery" in statement:
            reads_done.set()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)

    def send() -> None:
        with app.test_client() as other:
            answer["resp"] = checkin(other, token, lat, lon)

    sender = threading.Thread(target=send)
    try:
        with sql_sent(app) as sent, another_writer(test_database, team_id) as holder:
            sender.start()
            assert reads_done.wait(timeout=20), "the reads waited for the lock"
            sender.join(timeout=0.5)
            assert "resp" not in answer, "the write did not wait for the lock"
            holder.commit()
            sender.join(timeout=30)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert answer["resp"].status_code == 200, answer["resp"].get_json()
    if test_database.backend == "sqlite":
        assert sent[0] == "BEGIN"
        writing = sent.index("BEGIN IMMEDIATE")
        assert all(s.startswith("SELECT") for s in sql_queries(sent[:writing]))
        assert not any(s.startswith("SELECT") for s in sent[writing:])
    assert not any("FOR UPDATE" in s for s in sent)
    with app.app_context():
        found = db.session.scalar(select(models.Team.last_lat).where(models.Team.id == team_id))
    assert found == pytest.approx(lat)
