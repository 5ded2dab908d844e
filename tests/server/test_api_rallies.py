"""Rallies, teams and tokens through the player API: the list, a rally's public face, team
creation, a second phone joining, tokens per team, and the leaderboard."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

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
    get_team,
    import_demo,
    let_time_pass,
    new_team,
    qr_url,
    scan,
    update_rally,
)


def _positions_in(text: str, stops) -> list[float]:
    """Marker coordinates (as JSON writes them) that occur in the text."""
    return [
        v
        for s in stops
        for v in s.position
        if re.search(r"(?<![\d.])" + re.escape(repr(v)) + r"(?!\d)", text)
    ]


def test_rally_list_holds_published_rallies_only(app, client, demo):
    slug, _ = demo
    import_demo(app, "draft-rally", status="draft")
    import_demo(app, "closed-rally", status="closed")
    body = client.get(f"{API}/rallies").get_json()
    (rally,) = body["rallies"]
    assert rally["slug"] == slug
    assert rally["stops"] == 10
    assert rally["order_mode"] == "fixed"
    assert 2000 < rally["length_m"] < 4000
    assert 30 < rally["duration_min"] < 180
    assert rally["title_i18n"]["de"] and rally["title_i18n"]["en"]


def test_rally_list_in_the_requested_language(app, client, demo):
    _, rally_id = demo
    update_rally(app, rally_id, title={"de": "Kunstsuche", "en": "Art hunt"})
    assert client.get(f"{API}/rallies?lang=en").get_json()["rallies"][0]["title"] == "Art hunt"
    de = app.test_client().get(f"{API}/rallies", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert de.get_json()["rallies"][0]["title"] == "Kunstsuche"
    assert de.headers["Content-Language"] == "de"


def test_public_face_gives_the_first_clue_but_no_marker(app, client, demo):
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    resp = client.get(f"{API}/rallies/{slug}?lang=en")
    body = resp.get_json()
    assert body["start"]["lat"] == pytest.approx(49.4359, abs=1e-3)
    assert body["start"]["name"]
    assert body["solution_length"] == 10
    assert "north-west" in body["first_clue"]
    assert body["intro"].startswith("Welcome")
    text = resp.get_data(as_text=True)
    assert _positions_in(text, stops) == []
    for stop in stops:
        assert stop.story["en"] not in text and stop.story["de"] not in text
    assert "BARBAROSSA" not in text.upper()


def test_public_face_of_a_free_rally_has_no_first_clue(app, client, demo):
    slug, rally_id = demo
    update_rally(app, rally_id, order_mode="free")
    body = client.get(f"{API}/rallies/{slug}").get_json()
    assert body["order_mode"] == "free" and body["first_clue"] is None


def test_draft_and_unknown_rallies_are_not_found(app, client, demo):
    draft, _ = import_demo(app, "still-a-draft", status="draft")
    for path in (f"/rallies/{draft}", "/rallies/nope", f"/rallies/{draft}/leaderboard"):
        assert_error(client.get(API + path), 404, "rally_not_found")
    assert_error(create_team(client, draft, "Early birds"), 404, "rally_not_found")


def test_a_new_team_gets_a_token_shown_once_and_stored_as_hash(app, client, demo):
    slug, _ = demo
    resp = create_team(client, slug, "  Die   Kunstdetektive ", language="de")
    assert resp.status_code == 201
    body = resp.get_json()
    token, team = body["token"], body["team"]
    assert len(token) >= 40
    assert re.fullmatch(r"[A-Z2-9]{8}", body["join_code"])
    assert team["name"] == "Die Kunstdetektive"
    assert team["language"] == "de"
    assert team["found"] == [] and team["score"] == 0 and not team["finished"]
    assert [o["stop"] for o in team["open"]] == [1]
    assert team["letters"] == [None] * 10
    assert team["solution"] == " ".join("_" * 10)

    from server.extensions import db

    with app.app_context():
        rows = db.session.query(models.TeamToken).all()
        assert [r.token_hash for r in rows] == [models.hash_token(token)]
        assert token not in json.dumps([r.token_hash for r in rows])
    assert get_team(client, token)["id"] == team["id"]
    assert "token" not in get_team(client, token)


def test_the_teams_language_is_used_for_its_answers(app, client, demo):
    slug, _ = demo
    de = new_team(client, slug, "Deutsch", language="de")
    en = new_team(client, slug, "English", language="en")
    assert get_team(client, de)["open"][0]["clue"].startswith("Dreht euch")
    assert get_team(client, en)["open"][0]["clue"].startswith("From the station")
    english_browser = {**bearer(de), "Accept-Language": "en"}
    resp = client.post(f"{API}/team/checkins", json={"lat": 91}, headers=english_browser)
    assert assert_error(resp, 422)["message"].startswith("Feld")
    german_browser = {**bearer(en), "Accept-Language": "de"}
    resp = client.post(f"{API}/team/checkins", json={"lat": 91}, headers=german_browser)
    assert assert_error(resp, 422)["message"].startswith("Field")
    override = client.get(f"{API}/team?lang=en", headers=bearer(de)).get_json()
    assert override["open"][0]["clue"].startswith("From the station")


def test_a_team_may_play_in_leichte_sprache(app, client, demo):
    """Team.language holds "de-x-ls" (String(10): needs the migration on PostgreSQL)."""
    slug, _ = demo
    resp = create_team(client, slug, "Einfach", language="de-x-ls")
    assert resp.status_code == 201, resp.get_json()
    token = resp.get_json()["token"]
    assert resp.get_json()["team"]["language"] == "de-x-ls"
    team = get_team(client, token)
    assert team["language"] == "de-x-ls"
    assert team["open"][0]["clue"].startswith("Ihr startet am Bahnhof.")
    english_browser = {**bearer(token), "Accept-Language": "en"}
    resp = client.post(f"{API}/team/checkins", json={"lat": 91}, headers=english_browser)
    message = assert_error(resp, 422)["message"]
    assert message.startswith("Das Feld") and "fehlt" in message
    assert_error(create_team(client, slug, "Französisch", language="fr"), 422, "invalid_field")


def test_a_second_phone_joins_with_the_join_code(app, client, demo):
    slug, rally_id = demo
    first_stop, second_stop = demo_stops(app, rally_id)[:2]
    created = create_team(client, slug, "Two phones").get_json()
    phone1 = created["token"]
    assert checkin(client, phone1, *first_stop.position).get_json()["result"] == "found"

    code = " " + created["join_code"].lower() + " "
    resp = client.post(f"{API}/rallies/{slug}/join", json={"join_code": code})
    assert resp.status_code == 201
    joined = resp.get_json()
    phone2 = joined["token"]
    assert phone2 != phone1
    assert joined["join_code"] == created["join_code"]
    assert joined["team"]["id"] == created["team"]["id"]
    assert joined["team"]["found"] == get_team(client, phone1)["found"]
    assert count_rows(app, "TeamToken", team_id=created["team"]["id"]) == 2

    let_time_pass(app, created["team"]["id"], 600)  # the walk to the second stop
    body = scan(client, phone2, qr_url(app, rally_id, second_stop.marker_id)).get_json()
    assert body["result"] == "found"
    assert get_team(client, phone1) == get_team(client, phone2)
    assert get_team(client, phone1)["progress"]["found"] == 2
    assert count_rows(app, "Team") == 1


def test_a_join_code_belongs_to_its_rally(app, client, demo):
    slug, _ = demo
    other, _ = import_demo(app, "other-rally")
    code = create_team(client, slug, "Here").get_json()["join_code"]
    assert_error(
        client.post(f"{API}/rallies/{other}/join", json={"join_code": code}),
        404,
        "join_code_unknown",
    )
    assert_error(
        client.post(f"{API}/rallies/nope/join", json={"join_code": code}), 404, "rally_not_found"
    )


def test_tokens_are_per_team(app, client, demo):
    slug, rally_id = demo
    stop = demo_stops(app, rally_id)[0]
    token_a = new_team(client, slug, "Team A")
    token_b = new_team(client, slug, "Team B")
    assert checkin(client, token_a, *stop.position).get_json()["result"] == "found"
    team_a, team_b = get_team(client, token_a), get_team(client, token_b)
    assert (team_a["name"], team_b["name"]) == ("Team A", "Team B")
    assert team_a["progress"]["found"] == 1 and team_b["progress"]["found"] == 0
    assert stop.story["en"] not in json.dumps(team_b)
    assert checkin(client, token_b, *stop.position).get_json()["result"] == "found"
    assert count_rows(app, "Discovery") == 2


def test_a_team_of_one_rally_cannot_use_another_rallys_code(app, client, demo):
    slug, rally_id = demo
    other_slug, other_id = import_demo(app, "second-rally")
    token_a = new_team(client, slug, "Rally A")
    token_b = new_team(client, other_slug, "Rally B")
    b_first = demo_stops(app, other_id)[0]
    a_first = demo_stops(app, rally_id)[0]
    assert b_first.marker_id != a_first.marker_id

    error = assert_error(
        scan(client, token_a, qr_url(app, other_id, b_first.marker_id)), 422, "token_wrong_rally"
    )
    assert error["field"] == "token"
    assert count_rows(app, "Discovery") == 0
    assert (
        scan(client, token_b, qr_url(app, other_id, b_first.marker_id)).get_json()["result"]
        == "found"
    )
    assert get_team(client, token_a)["progress"]["found"] == 0
    assert get_team(client, token_b)["rally"] == other_slug


def test_the_leaderboard_ranks_finished_teams_first_then_score_then_time(app, client, demo):
    slug, rally_id = demo
    urls = [qr_url(app, rally_id, s.marker_id) for s in demo_stops(app, rally_id)]
    teams = {}
    for name, finds, hours in [
        ("Slow", 10, 3),
        ("Partial", 4, 1),
        ("Fast", 10, 1),
        ("Idle", 0, 0),
        ("Some", 2, 1),
    ]:
        created = create_team(client, slug, name).get_json()
        teams[name] = created["token"]
        if hours:
            backdate_team(app, created["team"]["id"], hours * 3600)
        now = datetime.now(UTC)
        for i, url in enumerate(urls[:finds]):
            at = now - timedelta(minutes=finds - i)
            assert scan(client, created["token"], url, at=at).get_json()["result"] == "found"

    board = client.get(f"{API}/rallies/{slug}/leaderboard").get_json()
    assert board["rally"] == slug and board["total_stops"] == 10
    names = [e["team"] for e in board["entries"]]
    assert names == ["Fast", "Slow", "Partial", "Some", "Idle"]
    assert [e["rank"] for e in board["entries"]] == [1, 2, 3, 4, 5]
    fast, slow, partial = board["entries"][:3]
    assert fast["score"] == slow["score"] == 1200
    assert fast["finished"] and slow["finished"] and not partial["finished"]
    assert fast["duration_s"] < slow["duration_s"]
    assert slow["duration_s"] == pytest.approx(3 * 3600 - 60, abs=5)
    assert (partial["score"], partial["found"], partial["duration_s"]) == (400, 4, None)

    top = client.get(f"{API}/rallies/{slug}/leaderboard?limit=2").get_json()
    assert [e["team"] for e in top["entries"]] == ["Fast", "Slow"]
    assert_error(client.get(f"{API}/rallies/{slug}/leaderboard?limit=two"), 422, "invalid_field")


def test_a_closed_rally_keeps_its_leaderboard_and_team_pages(app, client, demo):
    slug, rally_id = demo
    token = new_team(client, slug, "Done")
    update_rally(app, rally_id, status=models.RallyStatus.CLOSED)
    assert client.get(f"{API}/rallies").get_json()["rallies"] == []
    assert client.get(f"{API}/rallies/{slug}").get_json()["status"] == "closed"
    assert (
        client.get(f"{API}/rallies/{slug}/leaderboard").get_json()["entries"][0]["team"] == "Done"
    )
    assert get_team(client, token)["name"] == "Done"
