"""At most once: a repeated client event id gets the first answer and changes nothing, and twenty
parallel submissions of one find make exactly one discovery (on SQLite and PostgreSQL).

The parallel tests run a real threaded werkzeug server and send twenty requests from twenty
threads at once, so that requests really overlap in the database as they would in production.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from markers import tokens
from tests.server.helpers import (
    API,
    backdate_team,
    bearer,
    checkin,
    count_rows,
    create_team,
    demo_stops,
    get_team,
    iso,
    new_event_id,
    qr_url,
    scan,
    serve,
    update_rally,
)

PARALLEL = 20


def post_json(url: str, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **bearer(token)},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def all_at_once(url: str, token: str, bodies: list[dict[str, Any]]):
    """POST every body from its own thread, all released together; [(status, answer)]."""
    barrier = threading.Barrier(len(bodies))

    def send(body: dict[str, Any]):
        barrier.wait(timeout=30)
        return post_json(url, body, token)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))


@pytest.fixture
def team(app, client, demo):
    """A team of the demo rally: (token, team id, rally id)."""
    slug, rally_id = demo
    created = create_team(client, slug, "Parallel").get_json()
    return created["token"], created["team"]["id"], rally_id


def checkin_body(
    lat: float, lon: float, event_id: str | None = None, at: datetime | None = None
) -> dict[str, Any]:
    return {
        "lat": lat,
        "lon": lon,
        "accuracy_m": 5.0,
        "recorded_at": iso(at or datetime.now(UTC)),
        "client_event_id": event_id or new_event_id(),
    }


# Idempotency


def test_a_repeated_event_gets_the_first_answer_and_changes_nothing(app, client, team):
    token, team_id, rally_id = team
    first = demo_stops(app, rally_id)[0]
    event_id = new_event_id()
    at = datetime.now(UTC)
    original = checkin(client, token, *first.position, at=at, event_id=event_id)
    assert original.get_json()["result"] == "found"
    for _ in range(3):
        again = checkin(client, token, *first.position, at=at, event_id=event_id)
        assert again.status_code == 200
        assert again.get_data() == original.get_data()
    assert count_rows(app, "Discovery", team_id=team_id) == 1
    assert count_rows(app, "ClientEvent", team_id=team_id) == 1
    assert get_team(client, token)["score"] == 100


def test_the_event_id_decides_not_the_content(app, client, team):
    token, team_id, rally_id = team
    first = demo_stops(app, rally_id)[0]
    event_id = new_event_id()
    miss = checkin(client, token, 49.4359, 7.7688, event_id=event_id).get_json()
    assert miss["result"] == "outside"
    resent = checkin(client, token, *first.position, event_id=event_id).get_json()
    assert resent == miss
    assert count_rows(app, "Discovery", team_id=team_id) == 0
    as_scan = scan(
        client, token, qr_url(app, rally_id, first.marker_id), event_id=event_id
    ).get_json()
    assert as_scan == miss


def test_a_repeated_event_after_the_team_moved_on_returns_the_old_answer(app, client, team):
    token, team_id, rally_id = team
    first, second = demo_stops(app, rally_id)[:2]
    started = backdate_team(app, team_id, 3600)
    event_id = new_event_id()
    at = started + timedelta(minutes=10)
    old = checkin(client, token, *first.position, at=at, event_id=event_id).get_json()
    assert old["result"] == "found" and old["team"]["progress"]["found"] == 1

    later = checkin(client, token, *second.position, at=at + timedelta(minutes=5)).get_json()
    assert later["result"] == "found" and later["team"]["progress"]["found"] == 2

    replay = checkin(client, token, *first.position, at=at, event_id=event_id).get_json()
    assert replay == old
    assert replay["team"]["progress"]["found"] == 1
    assert get_team(client, token)["progress"]["found"] == 2
    assert count_rows(app, "Discovery", team_id=team_id) == 2
    from server import models
    from server.extensions import db

    with app.app_context():
        team_row = db.session.get(models.Team, team_id)
        assert (team_row.last_lat, team_row.last_lon) == tuple(second.position)


def test_a_repeated_teleport_is_flagged_once(app, client, team):
    token, team_id, rally_id = team
    first = demo_stops(app, rally_id)[0]
    at = datetime.now(UTC)
    checkin(client, token, 49.4359, 7.7688, at=at - timedelta(seconds=30))
    event_id = new_event_id()
    jump = checkin(client, token, *first.position, at=at, event_id=event_id).get_json()
    assert jump["result"] == "teleport"
    assert checkin(client, token, *first.position, at=at, event_id=event_id).get_json() == jump
    assert count_rows(app, "TeamFlag", team_id=team_id, kind="teleport") == 1


def test_a_repeated_scan_gets_the_first_answer(app, client, team):
    token, team_id, rally_id = team
    url = qr_url(app, rally_id, demo_stops(app, rally_id)[0].marker_id)
    event_id = new_event_id()
    first = scan(client, token, url, event_id=event_id)
    assert first.get_json()["result"] == "found"
    assert scan(client, token, url, event_id=event_id).get_data() == first.get_data()
    assert scan(client, token, url).get_json()["result"] == "already_found"
    assert count_rows(app, "Discovery", team_id=team_id) == 1


def test_a_rejected_request_does_not_use_up_its_event_id(app, client, team):
    token, team_id, rally_id = team
    first = demo_stops(app, rally_id)[0]
    event_id = new_event_id()
    bad = checkin(
        client, token, *first.position, at=datetime.now(UTC) + timedelta(hours=1), event_id=event_id
    )
    assert bad.status_code == 422
    assert count_rows(app, "ClientEvent", team_id=team_id) == 0
    good = checkin(client, token, *first.position, event_id=event_id).get_json()
    assert good["result"] == "found"


def test_event_ids_are_per_team(app, client, demo):
    slug, rally_id = demo
    first = demo_stops(app, rally_id)[0]
    event_id = new_event_id()
    a = create_team(client, slug, "A").get_json()["token"]
    b = create_team(client, slug, "B").get_json()["token"]
    assert checkin(client, a, *first.position, event_id=event_id).get_json()["result"] == "found"
    answer_b = checkin(client, b, *first.position, event_id=event_id).get_json()
    assert answer_b["result"] == "found" and answer_b["team"]["name"] == "B"
    assert count_rows(app, "Discovery") == 2


# Twenty at once


def _one_found(results, rest: set[str]) -> None:
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: PARALLEL}, [b for s, b in results if s != 200][:3]
    outcomes = Counter(body["result"] for _, body in results)
    assert outcomes["found"] == 1, outcomes
    assert set(outcomes) - {"found"} <= rest, outcomes
    assert sum(len(body["found_now"]) for _, body in results) == 1


def test_twenty_parallel_checkins_of_one_find_make_one_discovery(app, team):
    token, team_id, rally_id = team
    first = demo_stops(app, rally_id)[0]
    at = datetime.now(UTC)
    bodies = [checkin_body(*first.position, at=at) for _ in range(PARALLEL)]
    with serve(app) as base:
        results = all_at_once(base + API + "/team/checkins", token, bodies)
    _one_found(results, {"outside"})
    assert count_rows(app, "Discovery", team_id=team_id) == 1
    assert count_rows(app, "ClientEvent", team_id=team_id) == PARALLEL
    assert count_rows(app, "TeamFlag", team_id=team_id) == 0


def test_twenty_parallel_scans_of_one_code_make_one_discovery(app, team):
    token, team_id, rally_id = team
    update_rally(app, rally_id, order_mode="free")
    url = qr_url(app, rally_id, demo_stops(app, rally_id)[4].marker_id)
    bodies = [{"token": url, "client_event_id": new_event_id()} for _ in range(PARALLEL)]
    with serve(app) as base:
        results = all_at_once(base + API + "/team/scans", token, bodies)
    _one_found(results, {"already_found"})
    assert count_rows(app, "Discovery", team_id=team_id) == 1


@pytest.mark.parametrize("path", ["/team/checkins", "/team/scans"])
def test_twenty_parallel_repeats_of_one_event_make_one_discovery(app, team, path):
    token, team_id, rally_id = team
    first = demo_stops(app, rally_id)[0]
    event_id = new_event_id()
    if path == "/team/checkins":
        body = checkin_body(*first.position, event_id=event_id)
    else:
        body = {"token": qr_url(app, rally_id, first.marker_id), "client_event_id": event_id}
    with serve(app) as base:
        results = all_at_once(base + API + path, token, [body] * PARALLEL)
    assert {status for status, _ in results} == {200}
    answers = [answer for _, answer in results]
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["result"] == "found"
    assert count_rows(app, "Discovery", team_id=team_id) == 1
    assert count_rows(app, "ClientEvent", team_id=team_id) == 1


def test_parallel_finds_of_two_phones_of_one_team(app, client, team):
    """Two phones of one team, ten requests each, for the same stop: still one discovery."""
    token, team_id, rally_id = team
    slug = get_team(client, token)["rally"]
    code = client.get(f"{API}/team", headers=bearer(token)).get_json()
    join = client.post(f"{API}/rallies/{slug}/join", json={"join_code": _join_code(app, team_id)})
    other = join.get_json()["token"]
    first = demo_stops(app, rally_id)[0]
    url = qr_url(app, rally_id, first.marker_id)
    barrier = threading.Barrier(PARALLEL)

    def send(i: int):
        barrier.wait(timeout=30)
        if i % 2:
            return post_json(
                base + API + "/team/checkins",
                checkin_body(*first.position),
                token if i % 4 == 1 else other,
            )
        return post_json(
            base + API + "/team/scans",
            {"token": url, "client_event_id": new_event_id()},
            other if i % 4 == 0 else token,
        )

    with serve(app) as base, ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(send, range(PARALLEL)))
    _one_found(results, {"outside", "already_found"})
    assert count_rows(app, "Discovery", team_id=team_id) == 1
    assert code["progress"]["found"] == 0
    assert get_team(client, other)["progress"]["found"] == 1


def _join_code(app, team_id: int) -> str:
    from server import models
    from server.extensions import db

    with app.app_context():
        return db.session.get(models.Team, team_id).join_code


def test_parallel_scans_before_any_signing_key_exists(app, team):
    """The key ring is made on first use; twenty first uses at once still answer cleanly."""
    token, team_id, rally_id = team
    assert count_rows(app, "SigningKey") == 0
    foreign = tokens.KeyRing.generate(b"k" * 32).sign(rally_id, 1)
    bodies = [{"token": foreign, "client_event_id": new_event_id()} for _ in range(PARALLEL)]
    with serve(app) as base:
        results = all_at_once(base + API + "/team/scans", token, bodies)
    assert {status for status, _ in results} == {422}, [b for _, b in results][:3]
    assert {body["error"]["code"] for _, body in results} == {"token_bad_signature"}
    assert count_rows(app, "SigningKey") == 1
    assert count_rows(app, "Discovery", team_id=team_id) == 0


def test_an_event_that_cannot_be_applied_in_time_is_503_and_can_be_resent(
    app, client, team, monkeypatch
):
    """When the database stays busy past every retry the phone hears 503, not 500, and its
    outbox resends the event with the same id."""
    from server import database

    token, team_id, rally_id = team
    first = demo_stops(app, rally_id)[0]
    event_id = new_event_id()
    monkeypatch.setattr(database, "MAX_ATTEMPTS", 0)
    busy = checkin(client, token, *first.position, event_id=event_id)
    assert busy.status_code == 503 and busy.get_json()["error"]["code"] == "busy"
    assert count_rows(app, "ClientEvent", team_id=team_id) == 0
    monkeypatch.undo()
    assert (
        checkin(client, token, *first.position, event_id=event_id).get_json()["result"] == "found"
    )


def _create_all_at_once(app, slug: str, bodies: list[dict[str, Any]], path: str = "teams"):
    with serve(app) as base:
        url = f"{base}{API}/rallies/{slug}/{path}"
        barrier = threading.Barrier(len(bodies))

        def send(body: dict[str, Any]):
            barrier.wait(timeout=30)
            request = urllib.request.Request(
                url,
                data=json.dumps(body).encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as resp:
                    return resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            return list(pool.map(send, bodies))


def test_twenty_teams_register_at_once(app, demo):
    slug, _ = demo
    results = _create_all_at_once(app, slug, [{"name": f"Team {i}"} for i in range(PARALLEL)])
    assert [status for status, _ in results] == [201] * PARALLEL, results[:3]
    assert len({body["token"] for _, body in results}) == PARALLEL
    assert count_rows(app, "Team") == PARALLEL


def test_twenty_registrations_of_one_name_make_one_team(app, demo):
    slug, _ = demo
    results = _create_all_at_once(app, slug, [{"name": "Same"}] * PARALLEL)
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: PARALLEL - 1}, [b for s, b in results if s >= 500][:2]
    assert {b["error"]["code"] for s, b in results if s == 409} == {"team_name_taken"}
    assert count_rows(app, "Team") == 1


def test_twenty_phones_join_one_team_at_once(app, client, demo):
    slug, _ = demo
    code = create_team(client, slug, "Big family").get_json()["join_code"]
    results = _create_all_at_once(app, slug, [{"join_code": code}] * PARALLEL, path="join")
    assert [status for status, _ in results] == [201] * PARALLEL, results[:3]
    assert count_rows(app, "TeamToken") == PARALLEL + 1
