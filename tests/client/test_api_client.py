"""The API client against a real server (live_server + demo), and against broken servers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from client import USER_AGENT
from client.api import ApiClient, ApiError, NetworkError
from tests.live import Answer, StubServer, free_port

START = (49.435903, 7.768819)
"""The demo rally's start (assets/demo/kaiserslautern.json)."""


def stop_marker(app, rally_id: int, number: int) -> tuple[int, float, float]:
    """(marker id, lat, lon) of a demo stop, as the server keeps it (test-only knowledge)."""
    from server import models
    from server.extensions import db

    with app.app_context():
        stop = db.session.get(models.Rally, rally_id).stops[number - 1]
        return stop.marker.id, stop.marker.lat, stop.marker.lon


def checkin(lat: float, lon: float, at: datetime | None = None, event_id: str | None = None):
    return {
        "lat": lat,
        "lon": lon,
        "accuracy_m": 5.0,
        "recorded_at": (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "client_event_id": event_id or str(uuid.uuid4()),
    }


def test_rallies_and_the_public_face_of_one(live_server, demo):
    slug, _ = demo
    api = ApiClient(live_server, language="en")
    assert slug in [r["slug"] for r in api.rallies()]
    rally = api.rally(slug)
    assert rally["slug"] == slug and rally["stops"] == 10
    assert rally["first_clue"]
    assert "found" not in rally and "open" not in rally


def test_create_a_team_then_join_it_from_a_second_phone(live_server, demo):
    slug, _ = demo
    first = ApiClient(live_server)
    created = first.create_team(slug, "Pfalzwanderer", "de")
    assert first.token == created["token"]
    assert created["team"]["name"] == "Pfalzwanderer"
    assert created["team"]["progress"] == {"found": 0, "total": 10}
    assert len(created["team"]["open"]) == 1, "the demo rally opens its stops one by one"
    second = ApiClient(live_server)
    joined = second.join_team(slug, created["join_code"])
    assert joined["team"]["id"] == created["team"]["id"]
    assert second.team()["id"] == first.team()["id"]


def test_checkin_finds_the_first_stop_once(live_server, demo, app):
    slug, rally_id = demo
    api = ApiClient(live_server, language="en")
    api.create_team(slug, "Barbarossa", "en")
    far = api.checkin(checkin(*START))
    assert far["result"] == "outside" and far["found_now"] == []
    _, lat, lon = stop_marker(app, rally_id, 1)
    event = checkin(lat, lon, datetime.now(UTC) + timedelta(seconds=60))
    found = api.checkin(event)
    assert found["result"] == "found"
    assert [f["stop"] for f in found["found_now"]] == [1]
    assert found["found_now"][0]["story"]
    again = api.checkin(event)
    assert again == found, "the same client_event_id gets the same answer"
    assert api.team()["progress"]["found"] == 1
    board = api.leaderboard(slug)
    assert [(e["team"], e["found"]) for e in board["entries"]] == [("Barbarossa", 1)]


def test_scan_of_a_printed_code(live_server, demo, app):
    from server import game

    slug, rally_id = demo
    marker_id, *_ = stop_marker(app, rally_id, 1)
    with app.app_context():
        url = game.qr_url_for(rally_id, marker_id)
    api = ApiClient(live_server)
    api.create_team(slug, "Scanners", "en")
    answer = api.scan({"token": url, "client_event_id": str(uuid.uuid4())})
    assert answer["result"] == "found"
    assert answer["found_now"][0]["method"] == "qr"


def test_errors_name_code_message_and_field(live_server, demo):
    slug, _ = demo
    api = ApiClient(live_server, language="de")
    with pytest.raises(ApiError) as missing:
        api.rally("no-such-rally")
    assert (missing.value.status, missing.value.code) == (404, "rally_not_found")
    assert "no-such-rally" in missing.value.message and "Rallye" in missing.value.message
    assert not missing.value.retryable
    with pytest.raises(ApiError) as no_token:
        api.team()
    assert no_token.value.status == 401
    api.token = "not-a-real-token"
    with pytest.raises(ApiError) as unknown:
        api.team()
    assert unknown.value.code == "token_unknown"
    api.create_team(slug, "Zeitreisende", "en")
    with pytest.raises(ApiError) as future:
        api.checkin(checkin(*START, at=datetime.now(UTC) + timedelta(hours=2)))
    assert (future.value.status, future.value.code, future.value.field) == (
        422,
        "time_in_future",
        "recorded_at",
    )


def test_no_server_is_a_network_error():
    api = ApiClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(NetworkError, match=r"127\.0\.0\.1"):
        api.rallies()


def broken(path: str) -> Answer:
    """503 with Retry-After for the rally list, 200 with something that is not JSON otherwise."""
    if path.split("?")[0].endswith("/rallies"):
        return 503, {"Retry-After": "30"}, b"<html>maintenance</html>"
    return 200, {}, b"this is not json"


@pytest.fixture
def broken_server() -> Iterator[StubServer]:
    with StubServer(broken) as server:
        yield server


def test_server_trouble_is_retryable_and_honours_retry_after(broken_server):
    api = ApiClient(broken_server.url, language="en")
    with pytest.raises(ApiError) as busy:
        api.rallies()
    assert busy.value.status == 503 and busy.value.retryable
    assert busy.value.retry_after_s == 30
    with pytest.raises(NetworkError, match="not JSON"):
        api.rally("x")
    path, headers = broken_server.requests[-1]
    assert headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("ArtCaching/") and "(+https://" in USER_AGENT
    assert headers["Accept-Language"] == "en"
    assert path.endswith("?lang=en"), "the app's language wins over the team's"


def test_base_url_must_be_http():
    with pytest.raises(ValueError, match="base_url"):
        ApiClient("ftp://example.org")
