"""Every error of the player API: JSON with a stable code and a message, the right status, never
a 500; bad QR codes find nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from markers import tokens
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
    import_demo,
    iso,
    new_event_id,
    new_team,
    qr_token,
    qr_url,
    scan,
    serve,
    update_rally,
)

CHECKINS = f"{API}/team/checkins"


@pytest.fixture
def team(app, client, demo):
    """A team of the demo rally: (token, team id, rally id)."""
    slug, rally_id = demo
    created = create_team(client, slug, "Errors").get_json()
    return created["token"], created["team"]["id"], rally_id


def good_checkin(**changes) -> dict:
    body = {
        "lat": 49.4359,
        "lon": 7.7688,
        "accuracy_m": 8,
        "recorded_at": iso(datetime.now(UTC)),
        "client_event_id": new_event_id(),
    }
    body.update(changes)
    return body


def post_raw(
    client,
    token: str,
    data: str | bytes,
    content_type: str | None = "application/json",
    path: str = CHECKINS,
):
    return client.post(path, data=data, content_type=content_type, headers=bearer(token))


NOT_JSON = [
    "{",
    "",
    "lat=1",
    '{"lat": NaN}',
    '{"lat": Infinity}',
    '{"lat": -Infinity}',
    '{"lat": 1e999}',
    b'{"name": "\xff"}',
    '{"a": "\\ud800"}',
    "[" * 3000 + "]" * 3000,
]


def test_not_json_is_400(client, team, subtests):
    token, _, _ = team
    for data in NOT_JSON:
        with subtests.test(data=data[:20]):
            error = assert_error(post_raw(client, token, data), 400, "invalid_json")
            assert "JSON" in error["message"]


def test_wrong_content_type_is_415(client, team, subtests):
    token, _, _ = team
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
    ):
        with subtests.test(content_type=content_type):
            resp = post_raw(client, token, json.dumps(good_checkin()), content_type)
            assert_error(resp, 415, "unsupported_media_type")


BAD_FIELDS = [
    ({"lat": 91}, "lat", "at most 90"),
    ({"lat": -90.0001}, "lat", "at least -90"),
    ({"lon": -181}, "lon", "at least -180"),
    ({"lat": "49.44"}, "lat", "a number"),
    ({"lon": None}, "lon", "a number"),
    ({"lat": True}, "lat", "a number"),
    ({"accuracy_m": -1}, "accuracy_m", "at least 0"),
    ({"heading": 361}, "heading", "at most 360"),
    ({"mock_location": "yes"}, "mock_location", "true or false"),
    ({"recorded_at": "2026-05-01T12:00:00"}, "recorded_at", "time zone"),
    ({"recorded_at": "yesterday"}, "recorded_at", "RFC 3339"),
    ({"recorded_at": "0001-01-01T00:30:00+01:00"}, "recorded_at", "out of range"),
    ({"recorded_at": "9999-12-31T23:59:59-12:00"}, "recorded_at", "out of range"),
    ({"recorded_at": 1700000000}, "recorded_at", "a string"),
    ({"client_event_id": "not-a-uuid"}, "client_event_id", "wrong format"),
    ({"client_event_id": 12}, "client_event_id", "a string"),
    ({"speed": 3}, "speed", "unknown"),
]


def test_bad_fields_are_422_naming_the_field(app, client, team, subtests):
    token, team_id, _ = team
    for changes, field, fragment in BAD_FIELDS:
        with subtests.test(changes=changes):
            resp = client.post(
                CHECKINS,
                json=good_checkin(**changes),
                headers={**bearer(token), "Accept-Language": "en"},
            )
            error = assert_error(resp, 422, "invalid_field")
            assert error["field"] == field
            assert fragment in error["message"]
            assert field in error["message"]
    assert count_rows(app, "ClientEvent", team_id=team_id) == 0


def test_a_missing_field_is_422(client, team, subtests):
    token, _, _ = team
    for missing in ("lat", "lon", "accuracy_m", "recorded_at", "client_event_id"):
        with subtests.test(missing=missing):
            body = good_checkin()
            del body[missing]
            resp = client.post(CHECKINS, json=body, headers=bearer(token))
            assert assert_error(resp, 422, "invalid_field")["field"] == missing


def test_a_body_that_is_no_object_is_422(client, team, subtests):
    token, _, _ = team
    for body in ([], [1, 2], "text", 3, None):
        with subtests.test(body=body):
            error = assert_error(post_raw(client, token, json.dumps(body)), 422, "invalid_body")
            assert "field" not in error


def test_times_in_the_future_or_before_the_start_are_422(app, client, team):
    token, team_id, _ = team
    now = datetime.now(UTC)
    future = checkin(client, token, 49.4359, 7.7688, at=now + timedelta(minutes=10))
    assert assert_error(future, 422, "time_in_future")["field"] == "recorded_at"
    assert (
        checkin(client, token, 49.4359, 7.7688, at=now + timedelta(seconds=60)).status_code == 200
    )

    before = checkin(client, token, 49.4359, 7.7688, at=now - timedelta(minutes=10))
    assert assert_error(before, 422, "time_before_start")["field"] == "recorded_at"
    backdate_team(app, team_id, 3600)
    assert (
        checkin(client, token, 49.4359, 7.7688, at=now - timedelta(minutes=10)).status_code == 200
    )
    assert_error(
        checkin(client, token, 49.4359, 7.7688, at=now - timedelta(hours=2)),
        422,
        "time_before_start",
    )
    assert count_rows(app, "ClientEvent", team_id=team_id) == 2


def test_scan_fields_are_checked(client, team):
    token, _, _ = team
    partial = scan(client, token, "https://x.example/q/abc", lat=49.44)
    error = assert_error(partial, 422, "invalid_field")
    assert error["field"] in ("lon", "accuracy_m")
    assert_error(scan(client, token, ""), 422, "invalid_field")
    assert_error(scan(client, token, "x" * 301), 422, "invalid_field")
    assert_error(
        scan(client, token, "abc", at=datetime.now(UTC) + timedelta(hours=1)), 422, "time_in_future"
    )
    no_id = client.post(f"{API}/team/scans", json={"token": "abc"}, headers=bearer(token))
    assert assert_error(no_id, 422, "invalid_field")["field"] == "client_event_id"


def test_bad_team_names_are_422(app, client, demo, subtests):
    slug, _ = demo
    for name in (
        "",
        "   ",
        "\t\n",
        "x" * 41,
        "Team\x07",
        "Zero\u200bwidth",
        "\u202eevil",
        "Bell\x07\x07",
    ):
        with subtests.test(name=name):
            error = assert_error(create_team(client, slug, name), 422)
            assert error["code"] in ("invalid_field", "invalid_team_name")
            assert error["field"] == "name"
    assert count_rows(app, "Team") == 0


def test_team_creation_fields_are_checked(client, demo):
    slug, _ = demo
    url = f"{API}/rallies/{slug}/teams"
    assert_error(client.post(url, json={}), 422, "invalid_field")
    assert_error(client.post(url, json={"name": "A", "language": "fr"}), 422, "invalid_field")
    assert_error(client.post(url, json={"name": "A", "email": "a@b.c"}), 422, "invalid_field")
    assert_error(client.post(url, json={"name": 5}), 422, "invalid_field")
    join = f"{API}/rallies/{slug}/join"
    assert_error(client.post(join, json={"join_code": "AB"}), 422, "invalid_field")
    assert_error(client.post(join, json={}), 422, "invalid_field")


def test_no_or_malformed_token_is_401(client, team, subtests):
    for headers in (
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer    "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Token abc"},
    ):
        for method, path in (("get", "/team"), ("post", "/team/checkins"), ("post", "/team/scans")):
            with subtests.test(headers=headers, path=path):
                resp = getattr(client, method)(API + path, json=good_checkin(), headers=headers)
                assert_error(resp, 401, "token_missing")


def test_an_unknown_token_is_401(client, team):
    token, _, _ = team
    for bad in ("x" * 43, token[:-1], token + "x", token.upper()):
        assert_error(client.get(f"{API}/team", headers=bearer(bad)), 401, "token_unknown")
        assert_error(checkin(client, bad, 49.4, 7.7), 401, "token_unknown")


def test_the_token_is_checked_before_the_body(client, team):
    resp = client.post(CHECKINS, data="{", content_type="application/json")
    assert_error(resp, 401, "token_missing")


def test_unknown_paths_and_methods(client, team):
    token, _, _ = team
    assert_error(client.post(f"{API}/nope", json={"a": 1}), 404, "not_found")
    assert_error(client.get(f"{API}/team/nope", headers=bearer(token)), 404, "not_found")
    assert_error(client.get(f"{API}/rallies/nope"), 404, "rally_not_found")
    resp = client.get(CHECKINS, headers=bearer(token))
    assert_error(resp, 405, "method_not_allowed")
    assert "POST" in resp.headers["Allow"]
    assert_error(client.delete(f"{API}/team", headers=bearer(token)), 405)
    assert_error(client.put(f"{API}/rallies", json={}), 405)


def test_a_taken_team_name_is_409(client, demo):
    slug, _ = demo
    assert create_team(client, slug, "Kunstfreunde").status_code == 201
    error = assert_error(create_team(client, slug, " Kunstfreunde  "), 409, "team_name_taken")
    assert error["field"] == "name"


def test_a_closed_rally_is_409_for_play(app, client, team):
    token, team_id, rally_id = team
    slug = client.get(f"{API}/team", headers=bearer(token)).get_json()["rally"]
    code = client.get(f"{API}/team", headers=bearer(token)).get_json()
    update_rally(app, rally_id, status=models.RallyStatus.CLOSED)
    assert_error(checkin(client, token, 49.44, 7.76), 409, "rally_closed")
    stop = demo_stops(app, rally_id)[0]
    assert_error(scan(client, token, qr_url(app, rally_id, stop.marker_id)), 409, "rally_closed")
    assert_error(create_team(client, slug, "Latecomers"), 409, "rally_closed")
    join = client.post(f"{API}/rallies/{slug}/join", json={"join_code": "ABCDEFGH"})
    assert_error(join, 409, "rally_closed")
    assert count_rows(app, "Discovery") == 0 and code["id"] == team_id


def test_an_oversized_body_is_413(app, client, team):
    token, _, _ = team
    big = json.dumps(good_checkin(pad="x" * (app.config["API_MAX_BODY"] + 1)))
    assert_error(post_raw(client, token, big), 413, "body_too_large")
    slug = client.get(f"{API}/team", headers=bearer(token)).get_json()["rally"]
    big_name = json.dumps({"name": "n" * 70000})
    assert_error(
        client.post(f"{API}/rallies/{slug}/teams", data=big_name, content_type="application/json"),
        413,
        "body_too_large",
    )


def test_an_oversized_chunked_body_is_413(app, client, team):
    """Without Content-Length (chunked) the limit holds too, on a real server."""
    token, _, _ = team
    chunks = [b'{"pad": "', *[b"x" * 1000] * (app.config["API_MAX_BODY"] // 1000 + 1), b'"}']
    with serve(app) as base:
        request = urllib.request.Request(
            base + CHECKINS,
            data=iter(chunks),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Transfer-Encoding": "chunked",
                **bearer(token),
            },
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 413
    assert json.loads(caught.value.read())["error"]["code"] == "body_too_large"


def test_team_creation_is_rate_limited_with_retry_after(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_TEAM_CREATE="2 per minute")
    slug, _ = import_demo(app)
    client = app.test_client()
    assert create_team(client, slug, "One").status_code == 201
    assert create_team(client, slug, "Two").status_code == 201
    third = create_team(client, slug, "Three")
    assert_error(third, 429, "team_creation_limited")
    assert int(third.headers["Retry-After"]) > 0
    assert count_rows(app, "Team") == 2


def test_checkins_are_rate_limited_per_team(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_EVENTS="3 per minute")
    slug, _ = import_demo(app)
    client = app.test_client()
    a, b = new_team(client, slug, "A"), new_team(client, slug, "B")
    for _ in range(3):
        assert checkin(client, a, 49.4359, 7.7688).status_code == 200
    assert_error(checkin(client, a, 49.4359, 7.7688), 429, "rate_limited")
    assert checkin(client, b, 49.4359, 7.7688).status_code == 200


# QR codes that must find nothing


def _altered(token: str) -> list[str]:
    """The token with one character changed, at a few places."""
    out = []
    for i in (2, len(token) // 2, len(token) - 3):
        c = "A" if token[i] != "A" else "B"
        out.append(token[:i] + c + token[i + 1 :])
    return out


def _assert_finds_nothing(app, client, token: str, qr: str, team_id: int) -> dict:
    error = assert_error(scan(client, token, qr), 422)
    assert error["code"].startswith("token_"), error
    assert error["field"] == "token"
    assert count_rows(app, "Discovery", team_id=team_id) == 0
    return error


def test_a_forged_token_finds_nothing(app, client, team):
    token, team_id, rally_id = team
    marker_id = demo_stops(app, rally_id)[0].marker_id
    forged = tokens.KeyRing.generate(b"f" * 32).sign(rally_id, marker_id)
    error = _assert_finds_nothing(app, client, token, forged, team_id)
    assert error["code"] == "token_bad_signature"
    _assert_finds_nothing(app, client, token, f"https://artcaching.example.org/q/{forged}", team_id)


def test_an_altered_token_finds_nothing(app, client, team):
    token, team_id, rally_id = team
    genuine = qr_token(app, rally_id, demo_stops(app, rally_id)[0].marker_id)
    for altered in _altered(genuine):
        _assert_finds_nothing(app, client, token, altered, team_id)
    assert scan(client, token, genuine).get_json()["result"] == "found"


def test_another_rallys_token_finds_nothing(app, client, team):
    token, team_id, _ = team
    _, other_id = import_demo(app, "another-rally")
    other_marker = demo_stops(app, other_id)[0].marker_id
    error = _assert_finds_nothing(app, client, token, qr_url(app, other_id, other_marker), team_id)
    assert error["code"] == "token_wrong_rally"


def test_a_retired_keys_token_finds_nothing(app, client, team):
    token, team_id, rally_id = team
    first, second = demo_stops(app, rally_id)[:2]
    started = backdate_team(app, team_id, 3600)
    old_first = qr_token(app, rally_id, first.marker_id)
    old_second = qr_token(app, rally_id, second.marker_id)
    from server import game

    with app.app_context():
        game.save_keyring(game.keyring().rotate())
    at_first = started + timedelta(minutes=10)
    assert scan(client, token, old_first, at=at_first).get_json()["result"] == "found"
    with app.app_context():
        ring = game.keyring()
        game.save_keyring(ring.retire(min(k.id for k in ring.keys)))
    error = assert_error(scan(client, token, old_second), 422, "token_retired_key")
    assert count_rows(app, "Discovery", team_id=team_id) == 1
    assert "scan" in error["message"]
    new_second = qr_token(app, rally_id, second.marker_id)
    at_second = at_first + timedelta(minutes=10)
    assert scan(client, token, new_second, at=at_second).get_json()["result"] == "found"


def test_a_garbage_code_finds_nothing(app, client, team, subtests):
    token, team_id, _ = team
    for garbage in (
        "https://evil.example.org/x/y",
        "https://artcaching.example.org/q/",
        "hello world",
        "https://artcaching.example.org/q/!!!!",
        "AAAA",
        "q/" + "A" * 80,
        "../../etc/passwd",
        "javascript:alert(1)",
        "https://artcaching.example.org/q/AQEBAQ?x=1",
    ):
        with subtests.test(garbage=garbage):
            _assert_finds_nothing(app, client, token, garbage, team_id)


def test_qr_error_messages_are_in_the_teams_language(app, client, demo):
    slug, _ = demo
    de = new_team(client, slug, "Deutsch", language="de")
    en = new_team(client, slug, "English", language="en")
    assert (
        assert_error(scan(client, de, "nope"), 422)["message"] == "Das ist kein Art-Caching-Code."
    )
    assert (
        assert_error(scan(client, en, "nope"), 422)["message"] == "This is not an Art Caching code."
    )


# Never a 500

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _field_value(name: str):
    """Mostly a plausible value for the field, sometimes any JSON value."""
    recent = st.integers(-30, 300).map(lambda s: iso(datetime.now(UTC) - timedelta(seconds=s)))
    plausible = {
        "lat": st.floats(49.43, 49.45) | st.floats(-91, 91),
        "lon": st.floats(7.75, 7.78) | st.floats(-181, 181),
        "accuracy_m": st.floats(0, 50) | st.floats(-10, 1e6),
        "recorded_at": recent | st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
        "client_event_id": st.uuids().map(str),
        "token": st.text(max_size=80),
        "heading": st.floats(-10, 370),
        "mock_location": st.booleans(),
    }[name]
    return st.integers(0, 9).flatmap(lambda n: JSON_VALUES if n == 0 else plausible)


def _body(required: list[str], optional: list[str]):
    return st.fixed_dictionaries(
        {name: _field_value(name) for name in required},
        optional={name: _field_value(name) for name in optional},
    )


BODIES = {
    "/team/checkins": _body(
        ["lat", "lon", "accuracy_m", "recorded_at", "client_event_id"], ["heading", "mock_location"]
    ),
    "/team/scans": _body(
        ["token", "client_event_id"], ["recorded_at", "lat", "lon", "accuracy_m", "mock_location"]
    ),
}


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(sorted(BODIES)), data=st.data())
def test_random_bodies_never_cause_a_500(client, team, path, data):
    token, _, _ = team
    body = data.draw(st.one_of(BODIES[path], BODIES[path], JSON_VALUES), label="body")
    text = json.dumps(body, allow_nan=True)
    resp = post_raw(client, token, text, path=API + path)
    assert resp.status_code < 500, (text, resp.get_data(as_text=True))
    event(f"{path} {resp.status_code}")
    if resp.status_code != 200:
        assert_error(resp, resp.status_code)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_random_bytes_never_cause_a_500(client, team, data):
    token, _, _ = team
    resp = post_raw(client, token, data)
    assert resp.status_code < 500
    assert_error(resp, resp.status_code)
