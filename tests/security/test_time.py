"""Time that cannot be bent (issue 9, item 3): the attacks replayed against the player API.

Each test plays as a client would, through the test client, on SQLite and (with
TEST_DATABASE_URL) on PostgreSQL. The rule under test is in docs/rules.md ("Time").
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from markers.geo import LatLon, destination, distance_m
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
    qr_url,
    rally_start,
    scan,
    update_rally,
    walk,
)

MAX_SPEED_MPS = 25.0
ACCURACY_CAP_M = 25.0
AR_RADIUS_M = 150.0


def slack_m(stop: DemoStop, method: str = "gps") -> float:
    """How far from its marker a team that found the stop may have been (docs/rules.md)."""
    return stop.radius_m + (ACCURACY_CAP_M if method == "gps" else AR_RADIUS_M)


def assert_finds_no_faster_than_max_speed(stops: list[DemoStop], found: list[dict]) -> None:
    """Between consecutive finds (in found time), no faster than max speed, slack subtracted."""
    by_id = {s.marker_id: s for s in stops}
    ordered = sorted(found, key=lambda f: f["found_at"])
    for a, b in itertools.pairwise(ordered):
        sa, sb = by_id[a["marker_id"]], by_id[b["marker_id"]]
        seconds = max(
            (
                datetime.fromisoformat(b["found_at"]) - datetime.fromisoformat(a["found_at"])
            ).total_seconds(),
            1.0,
        )
        moved = distance_m(sa.position, sb.position)
        moved -= slack_m(sa, a["method"]) + slack_m(sb, b["method"])
        assert moved / seconds <= MAX_SPEED_MPS, (a, b)


def route_s(app, rally_id: int, stops: list[DemoStop], found: list[dict]) -> float:
    """Seconds the found stops' path from the start point takes at max speed."""
    by_id = {s.marker_id: s.position for s in stops}
    path = [rally_start(app, rally_id)] + [
        by_id[f["marker_id"]] for f in sorted(found, key=lambda f: f["found_at"])
    ]
    return sum(distance_m(a, b) for a, b in itertools.pairwise(path)) / MAX_SPEED_MPS


def test_the_one_spot_finish_finds_no_stop_faster_than_moving_allows(app, client, demo):
    """The attack: a fix at each published search-area centre (stamped a minute apart, which
    no single comparison calls a jump) gets the marker's position back; then a fix there,
    stamped a few seconds after the start, finds it. Now: flagged, and no such find counts."""
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    created = create_team(client, slug, "One spot").get_json()
    token, team_id = created["token"], created["team"]["id"]
    started = backdate_team(app, team_id, 15 * 60)
    answers = []
    for n, stop in enumerate(stops):
        team = get_team(client, token)
        area = next(o["search_area"] for o in team["open"] if o["marker_id"] == stop.marker_id)
        at_area = started + timedelta(minutes=n + 1)
        seen = checkin(client, token, area["lat"], area["lon"], accuracy=5, at=at_area).get_json()
        near = next(o for o in seen["visible"] if o["marker_id"] == stop.marker_id)
        target = LatLon(near["marker"]["lat"], near["marker"]["lon"])
        stamped = started + timedelta(seconds=5 + n)
        answers.append(
            checkin(client, token, target.lat, target.lon, accuracy=5, at=stamped).get_json()
        )
        if answers[-1]["result"] != "found":
            break
    team = get_team(client, token)
    assert team["finished"] is False
    assert team["progress"]["found"] <= 1
    assert_finds_no_faster_than_max_speed(stops, team["found"])
    assert answers[-1]["result"] == "teleport"
    assert count_rows(app, "TeamFlag", team_id=team_id, kind="teleport") >= 1
    entry = client.get(f"{API}/rallies/{slug}/leaderboard").get_json()["entries"][0]
    assert entry["finished"] is False


def test_the_finish_time_is_never_shorter_than_the_route_at_max_speed(app, client, demo):
    """Scans spaced at just under max speed (the accuracy slack used to the full): the rally
    completes, and the finish time is still the found path at max speed from the start."""
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    created = create_team(client, slug, "Racers").get_json()
    token, team_id = created["token"], created["team"]["id"]
    started = backdate_team(app, team_id, 3600)
    at = started
    previous = None
    for stop in stops:
        if previous is not None:
            gap = distance_m(previous.position, stop.position)
            gap -= slack_m(previous, "qr") + slack_m(stop, "qr")
            at += timedelta(seconds=max(gap, 0.0) / MAX_SPEED_MPS + 1)
        body = scan(client, token, qr_url(app, rally_id, stop.marker_id), at=at).get_json()
        assert body["result"] == "found", body
        previous = stop
    team = get_team(client, token)
    assert team["finished"] is True
    shortest = route_s(app, rally_id, stops, team["found"])
    finished = datetime.fromisoformat(team["finished_at"])
    assert (finished - started).total_seconds() >= shortest - 1
    last_find = max(datetime.fromisoformat(f["found_at"]) for f in team["found"])
    assert finished > last_find, "the floor must have moved the finish in this race"
    entry = client.get(f"{API}/rallies/{slug}/leaderboard").get_json()["entries"][0]
    assert entry["finished"] and entry["duration_s"] >= round(shortest) - 1


def test_two_codes_800_m_apart_scanned_5_s_apart_are_flagged(app, client, demo):
    slug, rally_id = demo
    update_rally(app, rally_id, order_mode="free")
    stops = demo_stops(app, rally_id)
    a, b = min(
        itertools.combinations(stops, 2),
        key=lambda p: abs(distance_m(p[0].position, p[1].position) - 800),
    )
    assert 600 < distance_m(a.position, b.position) < 1000
    created = create_team(client, slug, "Photo sharers").get_json()
    token, team_id = created["token"], created["team"]["id"]
    started = backdate_team(app, team_id, 3600)
    first = scan(
        client, token, qr_url(app, rally_id, a.marker_id), at=started + timedelta(minutes=10)
    )
    assert first.get_json()["result"] == "found"
    second = scan(
        client,
        token,
        qr_url(app, rally_id, b.marker_id),
        at=started + timedelta(minutes=10, seconds=5),
    ).get_json()
    assert second["result"] == "teleport" and second["flags"] == ["teleport"]
    assert count_rows(app, "Discovery", team_id=team_id) == 1
    assert count_rows(app, "TeamFlag", team_id=team_id, kind="teleport") == 1
    before = scan(
        client,
        token,
        qr_url(app, rally_id, b.marker_id),
        at=started + timedelta(minutes=9, seconds=55),
    ).get_json()
    assert before["result"] == "teleport", "a scan backdated before the first find is checked too"
    walked = scan(
        client, token, qr_url(app, rally_id, b.marker_id), at=started + timedelta(minutes=25)
    )
    assert walked.get_json()["result"] == "found", "flag, don't ban"


def test_backdated_stamps_from_one_device_count_at_its_latest_time_and_are_flagged(
    app, client, demo
):
    """Stamped 25 minutes before the device's last fix 300 m away, the fix at the marker would
    be a plausible find; it counts at the device's latest time instead, where it is a jump."""
    slug, rally_id = demo
    first = demo_stops(app, rally_id)[0]
    created = create_team(client, slug, "Time travellers").get_json()
    token, team_id = created["token"], created["team"]["id"]
    started = backdate_team(app, team_id, 3600)
    latest = started + timedelta(minutes=30)
    away = destination(first.position, 0, 300)
    assert checkin(client, token, away.lat, away.lon, at=latest).get_json()["result"] == "outside"
    back = checkin(
        client, token, first.position.lat, first.position.lon, at=started + timedelta(minutes=5)
    ).get_json()
    assert back["flags"] == ["backdated", "teleport"] and back["result"] == "teleport"
    assert back["found_now"] == [] and count_rows(app, "Discovery", team_id=team_id) == 0
    assert count_rows(app, "TeamFlag", team_id=team_id, kind="backdated") == 1
    equal = checkin(client, token, away.lat, away.lon, at=latest).get_json()
    assert equal["flags"] == [], "an equal time from the same device is fine"
    later = latest + timedelta(minutes=5)
    walked = checkin(client, token, first.position.lat, first.position.lon, at=later).get_json()
    assert walked["result"] == "found" and walked["flags"] == []
    assert datetime.fromisoformat(walked["found_now"][0]["found_at"]) == later


def test_a_recorded_at_long_before_the_start_is_refused_and_documented(app, client, demo):
    slug, rally_id = demo
    first = demo_stops(app, rally_id)[0]
    created = create_team(client, slug, "Early birds").get_json()
    token = created["token"]
    started = datetime.fromisoformat(created["team"]["started_at"])
    long_before = checkin(
        client, token, first.position.lat, first.position.lon, at=started - timedelta(hours=1)
    )
    assert long_before.status_code == 422
    error = long_before.get_json()["error"]
    assert error["code"] == "time_before_start" and error["field"] == "recorded_at"
    just_before = checkin(
        client, token, first.position.lat, first.position.lon, at=started - timedelta(seconds=30)
    ).get_json()
    assert just_before["result"] == "found"
    found_at = datetime.fromisoformat(just_before["found_now"][0]["found_at"])
    assert found_at == started - timedelta(seconds=30), "a little before the start keeps its time"
    spec = client.get(f"{API}/openapi.json").get_json()["components"]["schemas"]
    for schema in ("Checkin", "Scan"):
        text = spec[schema]["properties"]["recorded_at"]["description"]
        assert "before the team started" in text and "422" in text


def test_honest_outbox_and_two_phones_with_gps_noise_count_in_full(app, client, demo):
    """Two phones of one team walk together; phone B's clock is 40 s slow, each fix has GPS
    noise within its accuracy. Phone A is offline for the first half and sends its outbox late,
    in order, with its original times, after phone B sent its own; nothing is flagged."""
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    created = create_team(client, slug, "Two phones").get_json()
    token_a, team_id = created["token"], created["team"]["id"]
    started = backdate_team(app, team_id, 4 * 3600)
    joined = client.post(
        f"{API}/rallies/{slug}/join", json={"join_code": created["join_code"]}
    ).get_json()
    token_b = joined["token"]
    route = [rally_start(app, rally_id)] + [s.position for s in stops]
    rng = random.Random(9)
    fixes = list(walk(route, started + timedelta(minutes=5), interval_s=20))
    outbox_a, half = [], len(fixes) // 2
    for n, fix in enumerate(fixes):
        noisy = destination(fix.position, rng.uniform(0, 360), rng.uniform(0, 6))
        if n % 2:
            b = checkin(client, token_b, noisy.lat, noisy.lon, 8, at=fix.at - timedelta(seconds=40))
            assert b.status_code == 200 and b.get_json()["flags"] == [], b.get_json()
        elif n < half:
            outbox_a.append((noisy, fix.at))
        else:
            for p, at in outbox_a:
                late = checkin(client, token_a, p.lat, p.lon, 8, at=at).get_json()
                assert late["flags"] == [], late
            outbox_a = []
            a = checkin(client, token_a, noisy.lat, noisy.lon, 8, at=fix.at).get_json()
            assert a["flags"] == [], a
    team = get_team(client, token_a)
    assert team["finished"] is True and team["progress"]["found"] == len(stops)
    assert count_rows(app, "TeamFlag", team_id=team_id) == 0
    last_find = max(f["found_at"] for f in team["found"])
    assert team["finished_at"] == last_find, "an honest walk's finish is its last find"
    assert client.get(f"{API}/team", headers=bearer(token_b)).get_json()["finished"] is True
    assert iso(started) <= last_find
    assert datetime.fromisoformat(last_find) < datetime.now(UTC)
