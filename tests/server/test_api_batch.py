"""POST /team/events: many events in one request (the app catching up after an outage). Each is
applied as its own endpoint would, in recorded order, exactly once by its client_event_id; one
wrong event is refused in its result only; the request counts once against the rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from server import models
from tests.server.helpers import (
    API,
    assert_error,
    backdate_team,
    bearer,
    checkin,
    count_rows,
    create_team,
    demo_stops,
    iso,
    new_event_id,
    new_team,
    qr_url,
    update_rally,
)

EVENTS = f"{API}/team/events"


@pytest.fixture
def team(app, client, demo):
    """A team of the demo rally that started an hour ago: (token, team id, rally id)."""
    slug, rally_id = demo
    created = create_team(client, slug, "Batch").get_json()
    backdate_team(app, created["team"]["id"], 3600)
    return created["token"], created["team"]["id"], rally_id


def fix_at(stop, ago_s: float, **extra: Any) -> dict[str, Any]:
    """A check-in body right at a demo stop's marker, ``ago_s`` seconds ago."""
    return {
        "lat": stop.position.lat,
        "lon": stop.position.lon,
        "accuracy_m": 5,
        "recorded_at": iso(datetime.now(UTC) - timedelta(seconds=ago_s)),
        "client_event_id": new_event_id(),
        **extra,
    }


def far_fix(ago_s: float) -> dict[str, Any]:
    """A check-in far from every stop (still in Kaiserslautern)."""
    return {
        "lat": 49.4500,
        "lon": 7.7500,
        "accuracy_m": 5,
        "recorded_at": iso(datetime.now(UTC) - timedelta(seconds=ago_s)),
        "client_event_id": new_event_id(),
    }


def batch(client, token: str, *events: tuple[str, dict[str, Any]]):
    body = {"events": [{"kind": kind, "body": b} for kind, b in events]}
    return client.post(EVENTS, json=body, headers=bearer(token))


def ok(resp) -> dict[str, Any]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.get_json()


def test_events_apply_in_recorded_order_and_answer_in_the_order_sent(app, client, team):
    token, team_id, rally_id = team
    stops = demo_stops(app, rally_id)
    second = fix_at(stops[1], 60)
    first = fix_at(stops[0], 900)
    answer = ok(batch(client, token, ("checkin", second), ("checkin", first)))
    results = answer["results"]
    assert [r["client_event_id"] for r in results] == [
        second["client_event_id"],
        first["client_event_id"],
    ]
    assert [r["status"] for r in results] == [200, 200]
    # Sent in this order, stop 2 would not have been open yet (the demo's order is fixed).
    assert [r["body"]["result"] for r in results] == ["found", "found"]
    assert [f["stop"] for f in results[1]["body"]["found_now"]] == [1]
    assert [f["stop"] for f in results[0]["body"]["found_now"]] == [2]
    assert answer["team"]["progress"]["found"] == 2
    assert count_rows(app, "Discovery", team_id=team_id) == 2


def test_each_event_counts_once_across_the_single_and_the_batch_endpoint(app, client, team):
    token, team_id, rally_id = team
    stops = demo_stops(app, rally_id)
    single_body = fix_at(stops[0], 600)
    single = client.post(f"{API}/team/checkins", json=single_body, headers=bearer(token))
    assert single.status_code == 200 and single.get_json()["result"] == "found"
    later = fix_at(stops[1], 120)
    answer = ok(batch(client, token, ("checkin", single_body), ("checkin", later)))
    first, second = answer["results"]
    assert first["status"] == 200
    assert first["body"] == single.get_json(), "a resent event gets its first answer"
    assert second["body"]["result"] == "found"
    again = ok(batch(client, token, ("checkin", single_body), ("checkin", later)))
    assert [r["body"] for r in again["results"]] == [first["body"], second["body"]]
    resent = client.post(f"{API}/team/checkins", json=later, headers=bearer(token))
    assert resent.get_json() == second["body"]
    assert count_rows(app, "Discovery", team_id=team_id) == 2
    assert count_rows(app, "ClientEvent", team_id=team_id) == 2


def test_the_same_event_twice_in_one_batch_counts_once(app, client, team):
    token, team_id, rally_id = team
    body = fix_at(demo_stops(app, rally_id)[0], 300)
    answer = ok(batch(client, token, ("checkin", body), ("checkin", body)))
    assert answer["results"][0] == answer["results"][1]
    assert count_rows(app, "ClientEvent", team_id=team_id) == 1


def test_a_wrong_event_is_refused_in_its_result_and_the_others_count(app, client, team):
    token, team_id, rally_id = team
    stops = demo_stops(app, rally_id)
    good = fix_at(stops[0], 600)
    events = [
        ("checkin", {**far_fix(700), "lat": 100}),
        ("checkin", good),
        ("answer", {"stop": 99, "answer": 1, "client_event_id": new_event_id()}),
        ("scan", {"token": "<b>not a code</b>", "client_event_id": new_event_id()}),
        ("hint", {"stop": 1}),
        ("checkin", {**far_fix(500), "recorded_at": iso(datetime.now(UTC) + timedelta(hours=1))}),
        ("scan", {"token": qr_url(app, rally_id, stops[1].marker_id), "client_event_id": "x"}),
    ]
    results = ok(batch(client, token, *events))["results"]
    assert [r["status"] for r in results] == [422, 200, 422, 422, 422, 422, 422]
    codes = [r["body"].get("error", {}).get("code") for r in results]
    assert codes == [
        "invalid_field",
        None,
        "no_such_stop",
        "token_malformed",
        "invalid_field",
        "time_in_future",
        "invalid_field",
    ]
    assert [r["body"]["error"].get("field") for r in results if r["status"] != 200] == [
        "lat",
        "stop",
        "token",
        "client_event_id",
        "recorded_at",
        "client_event_id",
    ]
    assert results[4]["client_event_id"] is None
    assert results[1]["body"]["result"] == "found"
    assert count_rows(app, "Discovery", team_id=team_id) == 1
    assert count_rows(app, "ClientEvent", team_id=team_id) == 1


def test_a_closed_rally_refuses_new_events_and_keeps_first_answers(app, client, team):
    token, _, rally_id = team
    stops = demo_stops(app, rally_id)
    done = fix_at(stops[0], 600)
    first = ok(batch(client, token, ("checkin", done)))["results"][0]
    update_rally(app, rally_id, status=models.RallyStatus.CLOSED)
    results = ok(batch(client, token, ("checkin", done), ("checkin", fix_at(stops[1], 60))))[
        "results"
    ]
    assert results[0] == first
    assert results[1]["status"] == 409
    assert results[1]["body"]["error"]["code"] == "rally_closed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "events"),
        ({"events": []}, "events"),
        ({"events": [{"kind": "checkin", "body": {}}] * 51}, "events"),
        ({"events": [{"kind": "teleport", "body": {}}]}, "events.0.kind"),
        ({"events": [{"kind": "checkin", "body": []}]}, "events.0.body"),
        ({"events": [{"kind": "checkin"}]}, "events.0.body"),
        ({"events": [{"kind": "checkin\x00", "body": {}}]}, "events.0.kind"),
        ({"events": [{"kind": "checkin", "body": {}, "more": 1}]}, "events.0.more"),
        ({"events": [], "other": "<script>alert(1)</script>"}, "other"),
        ({"events": "all of them"}, "events"),
        ([], None),
    ],
)
def test_a_malformed_envelope_is_refused_whole(app, client, team, body, field):
    token, team_id, _ = team
    error = assert_error(client.post(EVENTS, json=body, headers=bearer(token)), 422)
    assert error.get("field") == field
    assert "<script>" not in error["message"]
    assert count_rows(app, "ClientEvent", team_id=team_id) == 0


def test_fifty_events_are_one_batch(app, client, team):
    token, team_id, _ = team
    events = [("checkin", far_fix(3000 - 50 * i)) for i in range(50)]
    results = ok(batch(client, token, *events))["results"]
    assert [r["status"] for r in results] == [200] * 50
    assert count_rows(app, "ClientEvent", team_id=team_id) == 50


def test_nul_and_html_in_an_event_stay_in_its_result(app, client, team):
    token, team_id, rally_id = team
    stops = demo_stops(app, rally_id)
    ok(batch(client, token, ("checkin", fix_at(stops[0], 600))))
    html = "<img src=x onerror=alert(1)>"
    events = [
        ("scan", {"token": "abc\x00def", "client_event_id": new_event_id()}),
        ("checkin", {**far_fix(300), "client_event_id": "\x00"}),
        ("answer", {"stop": 1, "answer": html, "client_event_id": new_event_id()}),
        ("hint", {"stop": 1, "client_event_id": new_event_id(), html: 1}),
    ]
    resp = batch(client, token, *events)
    assert resp.mimetype == "application/json"
    results = ok(resp)["results"]
    assert [r["status"] for r in results] == [422] * 4
    assert [(r["body"]["error"]["code"], r["body"]["error"].get("field")) for r in results] == [
        ("invalid_field", "token"),
        ("invalid_field", "client_event_id"),
        ("bad_answer", "answer"),
        ("invalid_field", html),
    ]
    assert all(html not in r["body"]["error"]["message"] for r in results[:3])
    assert results[1]["client_event_id"] == "\x00"
    assert count_rows(app, "ClientEvent", team_id=team_id) == 1


def test_no_token_no_batch(client, demo):
    assert_error(client.post(EVENTS, json={"events": []}), 401, "token_missing")
    assert_error(
        client.post(EVENTS, json={"events": []}, headers=bearer("made-up")), 401, "token_unknown"
    )


def test_not_json_is_refused(client, team):
    token = team[0]
    resp = client.post(
        EVENTS, data="{", headers={**bearer(token), "Content-Type": "application/json"}
    )
    assert_error(resp, 400, "invalid_json")
    assert_error(client.post(EVENTS, data="x", headers=bearer(token)), 415)


def test_a_batch_counts_once_against_the_rate_limit(make_app, demo):
    slug, _ = demo
    app = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_EVENTS="10 per minute", RATELIMIT_BATCHES="2 per minute"
    )
    client = app.test_client()
    token = new_team(client, slug, "Catching up")
    team_id = client.get(f"{API}/team", headers=bearer(token)).get_json()["id"]
    backdate_team(app, team_id, 3600)
    events = [("checkin", far_fix(3000 - 50 * i)) for i in range(50)]
    results = ok(batch(client, token, *events))["results"]
    assert [r["status"] for r in results] == [200] * 50
    ok(batch(client, token, ("checkin", far_fix(10))))
    assert_error(batch(client, token, ("checkin", far_fix(5))), 429, "rate_limited")
    singles = [checkin(client, token, 49.45, 7.75).status_code for _ in range(50)]
    assert singles == [200] * 10 + [429] * 40, "50 single calls run into the limit"
    assert count_rows(app, "ClientEvent", team_id=team_id) == 61
