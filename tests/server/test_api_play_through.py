"""The demo rally played through the player API: by GPS walks and by QR codes, in fixed and in free
order; nothing is revealed before it is found; anti-cheat (teleports, mock locations, once only).

The walks use real recorded_at times. A walk of the demo takes about 40 minutes, and the server
refuses times before the team's start or in the future, so each walking team is moved to have
started two hours ago (``backdate_team``) and its fixes lie between then and now: the server's
time checks stay exactly as in production.
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from markers.geo import LatLon, destination, distance_m
from markers.geofence import tolerance_m
from routes.rallyfile import demo_rally
from tests.server.helpers import (
    API,
    DemoStop,
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
    rally_start,
    scan,
    update_rally,
    walk,
)

WORD = "BARBAROSSA"
ACCURACY = 8.0
AR_RADIUS_M = 150.0
FULL_SCORE = 10 * 100 + 200
DEMO = demo_rally()
WAITING = {i: s.task for i, s in enumerate(DEMO.stops) if s.task and s.task.letter_on == "answer"}
"""Stops whose letter waits for their task's answer (the demo's stop 1)."""
TASK_POINTS = sum(t.points for t in WAITING.values())


def letter_on_finding(i: int) -> str | None:
    return None if i in WAITING else WORD[i]


def answer_waiting_tasks(client, token: str) -> None:
    """Answer, right at once, each task whose stop's letter waits for it."""
    for i, task in WAITING.items():
        body = {"stop": i + 1, "answer": task.shown_answer, "client_event_id": new_event_id()}
        resp = client.post(f"{API}/team/answers", json=body, headers=bearer(token))
        assert resp.get_json()["correct"] is True, resp.get_json()


WALK_BETWEEN_STOPS = timedelta(minutes=10)
"""Room to walk between any two stops of the demo (they lie at most ~1.5 km apart)."""


@dataclass
class Walked:
    """A team's walk: its token and id, and every answer it got, in order, with the fix."""

    token: str
    team_id: int
    answers: list[tuple[str, LatLon | None, dict[str, Any]]]


def start_walking_team(client, app, slug: str, name: str, hours_ago: float = 2.0):
    resp = create_team(client, slug, name)
    assert resp.status_code == 201
    body = resp.get_json()
    started = backdate_team(app, body["team"]["id"], hours_ago * 3600)
    return body, started


def walk_rally(
    app,
    client,
    slug: str,
    rally_id: int,
    route: list[LatLon],
    name: str,
    with_team_views: bool = False,
) -> Walked:
    """A team walks the route at 1.3 m/s sending a fix every 25 s (and, if asked, looks at its
    team page after each)."""
    answers: list[tuple[str, LatLon | None, dict[str, Any]]] = [
        ("rally", None, client.get(f"{API}/rallies/{slug}").get_json()),
        ("rallies", None, client.get(f"{API}/rallies").get_json()),
    ]
    created, started = start_walking_team(client, app, slug, name)
    answers.append(("created", None, created))
    token = created["token"]
    for fix in walk(route, started + timedelta(seconds=60)):
        resp = checkin(client, token, fix.position.lat, fix.position.lon, ACCURACY, at=fix.at)
        assert resp.status_code == 200, resp.get_json()
        answers.append(("checkin", fix.position, resp.get_json()))
        if with_team_views:
            answers.append(("team", fix.position, get_team(client, token)))
    assert fix.at < datetime.now(UTC)
    answers.append(
        ("leaderboard", None, client.get(f"{API}/rallies/{slug}/leaderboard").get_json())
    )
    return Walked(token, created["team"]["id"], answers)


def in_reach(stop: DemoStop, p: LatLon) -> bool:
    return distance_m(stop.position, p) - stop.radius_m <= tolerance_m(ACCURACY)


def assert_complete(client, token: str, method: str) -> dict[str, Any]:
    """The team has found every stop; once the waiting tasks are answered it has every letter."""
    before = get_team(client, token)
    assert before["finished"] is True and before["score"] == FULL_SCORE
    assert [i for i, letter in enumerate(before["letters"]) if letter is None] == list(WAITING)
    answer_waiting_tasks(client, token)
    team = get_team(client, token)
    assert team["finished"] is True
    assert "".join(team["letters"]) == WORD
    assert team["solution"] == " ".join(WORD)
    assert team["score"] == FULL_SCORE + TASK_POINTS
    assert team["progress"] == {"found": 10, "total": 10}
    assert team["open"] == []
    assert {f["method"] for f in team["found"]} == {method}
    assert [f["stop"] for f in team["found"]] == list(range(1, 11))
    assert team["finished_at"] == max(f["found_at"] for f in team["found"])
    return team


def test_gps_walk_plays_the_whole_rally_in_fixed_order(app, client, demo):
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    route = [rally_start(app, rally_id)] + [s.position for s in stops]
    walked = walk_rally(app, client, slug, rally_id, route, "Walkers")

    next_stop = 0
    finds = []
    for kind, position, body in walked.answers:
        if kind != "checkin":
            continue
        expect_find = next_stop < len(stops) and in_reach(stops[next_stop], position)
        assert body["result"] == ("found" if expect_find else "outside"), (next_stop, body)
        assert body["flags"] == []
        if expect_find:
            (found,) = body["found_now"]
            assert found["marker_id"] == stops[next_stop].marker_id
            assert found["letter"] == letter_on_finding(next_stop)
            assert found["story"] == stops[next_stop].story["en"]
            assert (found["lat"], found["lon"]) == tuple(stops[next_stop].position)
            finds.append(found)
            next_stop += 1
        assert body["team"]["progress"]["found"] == next_stop
    assert next_stop == len(stops) == 10

    team = assert_complete(client, walked.token, "gps")
    assert team["finished_at"] == finds[-1]["found_at"]
    assert [f["found_at"] for f in team["found"]] == [f["found_at"] for f in finds]
    assert count_rows(app, "Discovery", team_id=walked.team_id) == 10
    assert count_rows(app, "TeamFlag", team_id=walked.team_id) == 0

    board = client.get(f"{API}/rallies/{slug}/leaderboard").get_json()
    (entry,) = board["entries"]
    assert entry["rank"] == 1 and entry["finished"] and entry["found"] == 10
    started = datetime.fromisoformat(team["started_at"])
    finished = datetime.fromisoformat(team["finished_at"])
    assert entry["duration_s"] == round((finished - started).total_seconds())


def test_qr_codes_play_the_whole_rally_in_fixed_order(app, client, demo):
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    urls = [qr_url(app, rally_id, s.marker_id) for s in stops]
    created, started = start_walking_team(client, app, slug, "Scanners")
    token = created["token"]

    ahead = scan(client, token, urls[3]).get_json()
    assert ahead["result"] == "not_open" and ahead["found_now"] == []
    assert stops[3].story["en"] not in json.dumps(ahead)

    for i, url in enumerate(urls):
        body = scan(client, token, url, at=started + (i + 1) * WALK_BETWEEN_STOPS).get_json()
        assert body["result"] == "found", body
        (found,) = body["found_now"]
        assert (found["stop"], found["letter"], found["method"]) == (
            i + 1,
            letter_on_finding(i),
            "qr",
        )
        assert body["team"]["letters"][: i + 1] == [letter_on_finding(j) for j in range(i + 1)]
        assert body["team"]["letters"][i + 1 :] == [None] * (9 - i)
        if i + 1 < len(stops):
            assert [o["marker_id"] for o in body["team"]["open"]] == [stops[i + 1].marker_id]
    assert_complete(client, token, "qr")


def test_qr_codes_in_free_order(app, client, demo):
    slug, rally_id = demo
    update_rally(app, rally_id, order_mode="free")
    stops = demo_stops(app, rally_id)
    created, started = start_walking_team(client, app, slug, "Free scanners")
    token = created["token"]
    team = get_team(client, token)
    assert team["order_mode"] == "free"
    assert sorted(o["marker_id"] for o in team["open"]) == sorted(s.marker_id for s in stops)

    order = random.Random(11).sample(range(10), 10)
    assert order != sorted(order)
    for n, i in enumerate(order, start=1):
        url = qr_url(app, rally_id, stops[i].marker_id)
        body = scan(client, token, url, at=started + n * WALK_BETWEEN_STOPS).get_json()
        assert body["result"] == "found", body
        assert body["found_now"][0]["letter"] == letter_on_finding(i)
        letters = body["team"]["letters"]
        shown = sorted(j for j in order[:n] if j not in WAITING)
        assert [j for j, letter in enumerate(letters) if letter] == shown
        assert len(body["team"]["open"]) == 10 - n
    assert_complete(client, token, "qr")


def test_gps_walk_in_free_order_backwards(app, client, demo):
    """In free order every stop is open: walking the route backwards finds them all."""
    slug, rally_id = demo
    update_rally(app, rally_id, order_mode="free")
    stops = demo_stops(app, rally_id)
    route = [s.position for s in reversed(stops)] + [rally_start(app, rally_id)]
    walked = walk_rally(app, client, slug, rally_id, route, "Backwards")
    found_order = [
        f["stop"]
        for _, _, b in walked.answers
        if b.get("result") == "found"
        for f in b["found_now"]
    ]
    assert sorted(found_order) == list(range(1, 11))
    assert found_order != list(range(1, 11))
    assert_complete(client, walked.token, "gps")


def _number_pattern(value: float) -> re.Pattern[str]:
    return re.compile(r"(?<![\d.])" + re.escape(repr(value)) + r"(?!\d)")


def _without_ar_marker(body: Any, marker_id: int) -> str:
    """The answer as JSON without the one place the stop may show before it is found: the
    ``marker`` (AR view) of its open stop; the caller checks that it shows only when near."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("marker_id") == marker_id and "search_area" in node:
                return {k: None if k == "marker" else strip(v) for k, v in node.items()}
            return {k: strip(v) for k, v in node.items()}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return json.dumps(strip(body), ensure_ascii=False)


def _teams_in(kind: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    if kind == "team":
        return [body]
    if kind in ("checkin", "created"):
        return [body["team"]]
    return []


def test_nothing_is_revealed_before_it_is_found(app, client, demo):
    """Before a find no answer holds the stop's story, letter or exact position; the position
    only in the AR view's ``marker`` of the open stop while the team is within 150 m."""
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    route = [rally_start(app, rally_id)] + [s.position for s in stops]
    walked = walk_rally(app, client, slug, rally_id, route, "Nosy", with_team_views=True)

    found_at = {}
    for n, (_, _, body) in enumerate(walked.answers):
        for f in body.get("found_now", []):
            found_at.setdefault(f["marker_id"], n)
    assert len(found_at) == 10

    for stop in stops:
        before = walked.answers[: found_at[stop.marker_id]]
        lat, lon = _number_pattern(stop.position.lat), _number_pattern(stop.position.lon)
        seen_near = False
        last_fix = None
        for kind, fix, body in before:
            last_fix = fix or last_fix
            if kind == "checkin":
                assert body["visible"] == [o for o in body["team"]["open"] if o["marker"]]
            for team in _teams_in(kind, body):
                assert team["letters"][stop.index] is None
                assert team["solution"].split(" ")[stop.index] == "_"
                assert stop.marker_id not in {f["marker_id"] for f in team["found"]}
                for open_stop in team["open"]:
                    if open_stop["marker_id"] != stop.marker_id:
                        continue
                    d = math.inf if last_fix is None else distance_m(last_fix, stop.position)
                    near = d - tolerance_m(ACCURACY) <= AR_RADIUS_M
                    assert (open_stop["marker"] is not None) == near, (stop.index, d)
                    if near:
                        assert (open_stop["marker"]["lat"], open_stop["marker"]["lon"]) == tuple(
                            stop.position
                        )
                        assert open_stop["marker"]["distance_m"] == pytest.approx(d, abs=0.2)
                        seen_near = True
                    area = open_stop["search_area"]
                    off = distance_m(LatLon(area["lat"], area["lon"]), stop.position)
                    assert 0.2 * area["radius_m"] - 1 <= off <= 0.6 * area["radius_m"] + 1
            text = _without_ar_marker(body, stop.marker_id)
            for lang in ("de", "en"):
                assert stop.story[lang] not in text, (stop.index, kind)
            assert not lat.search(text), (stop.index, kind, stop.position.lat)
            assert not lon.search(text), (stop.index, kind, stop.position.lon)
        assert seen_near, f"stop {stop.index + 1} was never shown in the AR view"

    after = walked.answers[found_at[stops[0].marker_id]][2]
    assert stops[0].story["en"] in json.dumps(after, ensure_ascii=False)


def test_a_teleport_is_flagged_but_not_banned(app, client, demo):
    slug, rally_id = demo
    first, second = demo_stops(app, rally_id)[:2]
    created, started = start_walking_team(client, app, slug, "Jumpers", hours_ago=1)
    token, team_id = created["token"], created["team"]["id"]
    t0 = started + timedelta(minutes=5)
    near = destination(first.position, 180, 300)
    assert checkin(client, token, near.lat, near.lon, at=t0).get_json()["result"] == "outside"

    jump = checkin(
        client, token, first.position.lat, first.position.lon, at=t0 + timedelta(seconds=5)
    )
    body = jump.get_json()
    assert jump.status_code == 200
    assert body["result"] == "teleport" and body["flags"] == ["teleport"]
    assert body["found_now"] == [] and body["team"]["progress"]["found"] == 0
    assert count_rows(app, "TeamFlag", team_id=team_id, kind="teleport") == 1
    assert count_rows(app, "Discovery", team_id=team_id) == 0

    walked_there = checkin(
        client, token, first.position.lat, first.position.lon, at=t0 + timedelta(minutes=5)
    ).get_json()
    assert walked_there["result"] == "found" and walked_there["flags"] == []
    assert walked_there["found_now"][0]["marker_id"] == first.marker_id

    from server import models
    from server.extensions import db

    with app.app_context():
        flag = db.session.query(models.TeamFlag).filter_by(team_id=team_id).one()
        assert flag.detail["speed_mps"] > 25
        assert flag.at == t0 + timedelta(seconds=5)
        team = db.session.get(models.Team, team_id)
        assert (team.last_lat, team.last_lon) == tuple(first.position)
    assert second.marker_id in {o["marker_id"] for o in walked_there["team"]["open"]}


def test_a_mock_location_is_flagged_and_finds_nothing(app, client, demo):
    slug, rally_id = demo
    first = demo_stops(app, rally_id)[0]
    created = create_team(client, slug, "Mockers").get_json()
    token, team_id = created["token"], created["team"]["id"]
    body = checkin(
        client, token, first.position.lat, first.position.lon, mock_location=True
    ).get_json()
    assert body["result"] == "mock_location" and body["flags"] == ["mock_location"]
    assert body["found_now"] == [] and body["visible"] == []
    assert count_rows(app, "TeamFlag", team_id=team_id, kind="mock_location") == 1
    assert count_rows(app, "Discovery", team_id=team_id) == 0
    honest = checkin(
        client, token, first.position.lat, first.position.lon, mock_location=False
    ).get_json()
    assert honest["result"] == "found"


def test_a_marker_counts_once_per_team(app, client, demo):
    slug, rally_id = demo
    first = demo_stops(app, rally_id)[0]
    created = create_team(client, slug, "Twice").get_json()
    token, team_id = created["token"], created["team"]["id"]
    assert (
        checkin(client, token, first.position.lat, first.position.lon).get_json()["result"]
        == "found"
    )
    again = scan(client, token, qr_url(app, rally_id, first.marker_id)).get_json()
    assert again["result"] == "already_found" and again["found_now"] == []
    assert again["team"]["score"] == 100
    gps_again = checkin(client, token, first.position.lat, first.position.lon).get_json()
    assert gps_again["result"] == "outside"
    assert count_rows(app, "Discovery", team_id=team_id) == 1
    team = get_team(client, token)
    assert team["score"] == 100 and team["found"][0]["method"] == "gps"
    assert team["progress"]["found"] == 1


def test_a_qr_scan_far_from_its_marker_counts_and_is_flagged(app, client, demo):
    slug, rally_id = demo
    first = demo_stops(app, rally_id)[0]
    created = create_team(client, slug, "Far away").get_json()
    token, team_id = created["token"], created["team"]["id"]
    body = scan(
        client,
        token,
        qr_url(app, rally_id, first.marker_id),
        at=datetime.now(UTC),
        lat=49.40,
        lon=7.70,
        accuracy_m=10,
    ).get_json()
    assert body["result"] == "found"
    assert body["flags"] == ["qr_far_from_marker"]
    assert count_rows(app, "TeamFlag", team_id=team_id, kind="qr_far_from_marker") == 1


def test_found_times_are_the_phones_times(app, client, demo):
    """An outbox delivers late: the find keeps the time the fix was taken."""
    slug, rally_id = demo
    first = demo_stops(app, rally_id)[0]
    created, started = start_walking_team(client, app, slug, "Late", hours_ago=1)
    taken = started + timedelta(minutes=20)
    body = checkin(
        client, created["token"], first.position.lat, first.position.lon, at=taken
    ).get_json()
    assert body["found_now"][0]["found_at"] == iso(taken)
