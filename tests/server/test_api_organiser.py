"""The organiser API: role checks, the live view's data, assists, team management, close, purge."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests.server.helpers import (
    API,
    assert_error,
    bearer,
    checkin,
    count_rows,
    demo_stops,
    get_team,
    new_team,
    sql_queries,
    sql_sent,
    staff_client,
    update_rally,
)
from tests.server.organiser_helpers import (
    FUCHS,
    ORG_API,
    OTTER,
    STOP1_ANSWER,
    ZEBRAS,
    add_teams,
    login,
    make_user,
    play,
    play_tasks,
    post_answer,
)

ROUTES = [
    ("get", "/rallies"),
    ("get", "/rallies/{slug}/live"),
    ("get", "/rallies/{slug}/results"),
    ("patch", "/rallies/{slug}/teams/{team}"),
    ("delete", "/rallies/{slug}/teams/{team}"),
    ("post", "/rallies/{slug}/teams/{team}/assists"),
    ("post", "/rallies/{slug}/close"),
    ("post", "/rallies/{slug}/purge"),
]


@pytest.fixture
def organiser(app, client):
    return login(client, app, "organiser")


def call(client, method: str, path: str, **kwargs):
    return getattr(client, method)(ORG_API + path, **kwargs)


def spec_validator(client, path: str, method: str, status: int) -> Draft202012Validator:
    spec = client.get(f"{API}/openapi.json").get_json()
    schema = spec["paths"][path][method]["responses"][str(status)]["content"]["application/json"][
        "schema"
    ]
    return Draft202012Validator(
        {**schema, "components": spec["components"]}, format_checker=FormatChecker()
    )


def assert_matches_spec(client, path: str, method: str, resp) -> dict:
    body = resp.get_json()
    errors = [
        e.message
        for e in spec_validator(client, "/organiser" + path, method, resp.status_code).iter_errors(
            body
        )
    ]
    assert not errors, errors[:5]
    return body


# --- roles ------------------------------------------------------------------------------------


def _each_route(played):
    team = played.teams[OTTER]
    for method, path in ROUTES:
        yield method, path.format(slug=played.slug, team=team)


def test_without_login_every_route_answers_401(client, played):
    for method, path in _each_route(played):
        assert_error(call(client, method, path, json={}), 401, "login_required")


def test_a_player_token_is_no_organiser_login(client, played):
    headers = bearer(played.tokens[ZEBRAS])
    for method, path in _each_route(played):
        assert_error(call(client, method, path, json={}, headers=headers), 401, "login_required")


def test_curators_get_403_everywhere(app, client, played):
    login(client, app, "curator")
    for method, path in _each_route(played):
        assert_error(call(client, method, path, json={}), 403, "forbidden")
    assert count_rows(app, "Team") == 3
    assert count_rows(app, "AuditEntry") == 0


def test_organisers_and_admins_may(app, client, played):
    login(client, app, "admin")
    assert call(client, "get", "/rallies").status_code == 200
    client.post("/logout")
    login(client, app, "organiser")
    assert call(client, "get", f"/rallies/{played.slug}/live").status_code == 200


def test_unsafe_methods_need_the_csrf_token(make_app, demo):
    app = make_app(WTF_CSRF_ENABLED=True)
    slug, _ = demo
    user_id = make_user(app, "org", "organiser")
    client = staff_client(app, user_id)
    assert_error(client.post(f"{ORG_API}/rallies/{slug}/close"), 400, "csrf_failed")
    token = client.get(f"{API}/session").get_json()["csrf_token"]
    resp = client.post(f"{ORG_API}/rallies/{slug}/close", headers={"X-CSRFToken": token})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "closed"


# --- rallies and the live view ----------------------------------------------------------------


def test_rally_list_shows_every_status_with_team_counts(app, client, played, organiser):
    resp = call(client, "get", "/rallies")
    body = assert_matches_spec(client, "/rallies", "get", resp)
    (rally,) = body["rallies"]
    assert rally["slug"] == played.slug
    assert rally["status"] == "published"
    assert (rally["stops"], rally["teams"]) == (10, 3)


def test_live_view_content(app, client, played, organiser):
    resp = call(client, "get", f"/rallies/{played.slug}/live")
    body = assert_matches_spec(client, "/rallies/{slug}/live", "get", resp)
    assert body["rally"]["total_stops"] == 10
    teams = {t["name"]: t for t in body["teams"]}
    assert set(teams) == {ZEBRAS, FUCHS, OTTER}
    assert [t["name"] for t in body["teams"]] == [ZEBRAS, FUCHS, OTTER]
    assert [t["rank"] for t in body["teams"]] == [1, 2, 3]
    assert teams[ZEBRAS]["finds"] == {"1": "gps", "2": "gps", "3": "gps"}
    assert teams[ZEBRAS]["next_stop"] == 4
    assert teams[FUCHS]["finds"] == {"1": "qr", "2": "gps"}
    assert teams[OTTER]["finds"] == {} and teams[OTTER]["found"] == 0
    assert teams[ZEBRAS]["flags"] == {"teleport": 1}
    counts = body["counts"]
    assert (counts["teams"], counts["finds"], counts["finished"]) == (3, 5, 0)
    assert counts["methods"] == {"gps": 4, "qr": 1, "assist": 0}
    assert counts["flags"]["teleport"] == 1
    assert counts["active"] == 3  # each team was heard from just now (server time)
    assert [s["found"] for s in body["stops"]][:4] == [2, 2, 1, 0]
    (flag,) = body["flags"]
    assert (flag["team"], flag["kind"]) == (ZEBRAS, "teleport")
    assert flag["detail"]["speed_mps"] > 25


def test_live_view_shows_tasks_and_hints(app, client, played, organiser):
    before = call(client, "get", f"/rallies/{played.slug}/live").get_json()
    assert before["counts"]["tasks_solved"] == before["counts"]["hints"] == 0
    assert all(t["task_points"] == t["hints"] == 0 for t in before["teams"])
    play_tasks(client, played)
    resp = call(client, "get", f"/rallies/{played.slug}/live")
    body = assert_matches_spec(client, "/rallies/{slug}/live", "get", resp)
    teams = {t["name"]: t for t in body["teams"]}
    fields = ("score", "task_points", "tasks_solved", "tasks_answered", "hints", "hint_cost")
    assert [teams[ZEBRAS][f] for f in fields] == [303, 33, 1, 1, 2, 30]
    assert [teams[FUCHS][f] for f in fields] == [190, 0, 0, 1, 1, 10]
    assert [teams[OTTER][f] for f in fields] == [0, 0, 0, 0, 1, 10]
    assert (body["counts"]["tasks_solved"], body["counts"]["hints"]) == (1, 4)
    first, second, *_, last = body["stops"]
    assert (first["task"], first["hint_count"]) == (True, 2)
    assert (first["solved"], first["answered"], first["hinted"]) == (1, 2, 3)
    assert (second["task"], second["hint_count"], second["hinted"]) == (False, 0, 0)
    assert (last["task"], last["hint_count"], last["solved"]) == (True, 1, 0)

    resp = call(client, "get", f"/rallies/{played.slug}/results")
    results = assert_matches_spec(client, "/rallies/{slug}/results", "get", resp)
    rows = {r["team"]: r for r in results["results"]}
    assert [rows[ZEBRAS][f] for f in fields] == [303, 33, 1, 1, 2, 30]
    assert [rows[OTTER][f] for f in fields] == [0, 0, 0, 0, 1, 10]
    summary = results["summary"]
    assert (summary["tasks_solved"], summary["hints"]) == (1, 4)
    stop = summary["stops"][0]
    assert (stop["task"], stop["solved"], stop["answered"], stop["hinted"]) == (True, 1, 2, 3)


def test_live_positions_are_coarse_and_recent_only(app, client, played, organiser):
    body = call(client, "get", f"/rallies/{played.slug}/live").get_json()
    teams = {t["name"]: t for t in body["teams"]}
    assert body["positions"] == {"shown": True, "max_age_min": 15.0, "decimals": 3}
    for name in (FUCHS, OTTER):
        position = teams[name]["position"]
        exact = played.fixes[name]
        assert position["lat"] == round(exact.lat, 3) != exact.lat
        assert position["lon"] == round(exact.lon, 3) != exact.lon
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00Z", position["at"])
    # The Zebras' last trusted fix is 30 minutes old, and the teleport is never shown.
    assert teams[ZEBRAS]["position"] is None
    text = call(client, "get", f"/rallies/{played.slug}/live").get_data(as_text=True)
    for exact in played.fixes.values():
        assert repr(exact.lat) not in text and repr(exact.lon) not in text
    assert "48.137" not in text and "11.575" not in text


def test_position_age_is_a_setting(make_app, demo):
    app = make_app(LIVE_POSITION_MAX_AGE_MIN=0.5)
    slug, rally_id = demo
    client = app.test_client()
    played = play(app, client, slug, rally_id)
    login(client, app)
    body = call(client, "get", f"/rallies/{played.slug}/live").get_json()
    assert all(t["position"] is None for t in body["teams"])
    assert body["positions"]["max_age_min"] == 0.5


def test_nothing_of_positions_after_close(app, client, played, organiser):
    assert call(client, "post", f"/rallies/{played.slug}/close").status_code == 200
    body = call(client, "get", f"/rallies/{played.slug}/live").get_json()
    assert body["rally"]["status"] == "closed"
    assert body["positions"]["shown"] is False
    assert all(t["position"] is None for t in body["teams"])
    assert len(body["teams"]) == 3


def test_live_view_answers_304_when_nothing_changed(app, client, played, organiser):
    first = call(client, "get", f"/rallies/{played.slug}/live")
    etag = first.headers["ETag"]
    assert "no-cache" in first.headers["Cache-Control"]
    again = call(client, "get", f"/rallies/{played.slug}/live", headers={"If-None-Match": etag})
    assert again.status_code == 304
    checkin(client, played.tokens[OTTER], 49.4431, 7.7701)
    changed = call(client, "get", f"/rallies/{played.slug}/live", headers={"If-None-Match": etag})
    assert changed.status_code == 200


def test_unknown_rally_is_404(client, organiser):
    assert_error(call(client, "get", "/rallies/nope/live"), 404, "rally_unknown")


@pytest.mark.parametrize("teams", [50, 500])
def test_live_view_queries_do_not_grow_with_teams(app, client, demo, organiser, teams):
    slug, rally_id = demo
    add_teams(app, rally_id, teams)
    call(client, "get", f"/rallies/{slug}/live")
    with sql_sent(app) as sent:
        resp = call(client, "get", f"/rallies/{slug}/live")
    queries = sql_queries(sent)
    assert resp.status_code == 200
    body = resp.get_json()
    assert len(body["teams"]) == teams
    assert body["counts"]["finds"] == sum(i % 11 for i in range(teams))
    assert sum(t["position"] is not None for t in body["teams"]) == sum(
        1 for i in range(teams) if i % 20 <= 15
    )
    with_progress = [i for i in range(teams) if i % 11]
    assert body["counts"]["hints"] == sum(i % 3 for i in with_progress)
    assert body["counts"]["tasks_solved"] == sum(i % 3 == 0 for i in with_progress)
    assert body["stops"][0]["hinted"] == sum(i % 3 > 0 for i in with_progress)
    assert len(queries) <= 8, queries


# --- assists ----------------------------------------------------------------------------------


def test_assist_marks_a_stop_found_with_the_reason(app, client, played, organiser):
    stops = demo_stops(app, played.rally_id)
    team_id = played.teams[OTTER]
    reason = "QR-Code an der Marienkirche abgerissen"
    resp = call(
        client,
        "post",
        f"/rallies/{played.slug}/teams/{team_id}/assists",
        json={"marker_id": stops[0].marker_id, "reason": reason},
    )
    assert resp.status_code == 201, resp.get_json()
    body = assert_matches_spec(client, "/rallies/{slug}/teams/{team_id}/assists", "post", resp)
    assert body["found"] == [1]
    assert body["team"] == {
        "id": team_id,
        "name": OTTER,
        "found": 1,
        "score": 25,
        "finished": False,
    }
    team = get_team(client, played.tokens[OTTER])
    assert [(f["stop"], f["method"]) for f in team["found"]] == [(1, "assist")]
    assert team["open"][0]["stop"] == 2

    from server import models
    from server.extensions import db

    with app.app_context():
        flag = db.session.scalar(db.select(models.TeamFlag).filter_by(team_id=team_id))
        assert (flag.kind, flag.marker_id, flag.detail) == (
            "assisted",
            stops[0].marker_id,
            {"reason": reason},
        )
        entry = db.session.scalar(db.select(models.AuditEntry).filter_by(action="team.assist"))
        assert entry.object_id == team_id
        assert entry.user.username == "organiser-user"
        assert entry.detail["reason"] == reason and entry.detail["stop"] == 1

    live = call(client, "get", f"/rallies/{played.slug}/live").get_json()
    assert live["flags"][0]["kind"] == "assisted"
    assert live["flags"][0]["detail"]["reason"] == reason
    assert live["flags"][0]["stop"] == 1


def test_assist_refusals(app, client, played, organiser):
    stops = demo_stops(app, played.rally_id)
    url = f"/rallies/{played.slug}/teams/{played.teams[ZEBRAS]}/assists"
    assert_error(
        call(client, "post", url, json={"marker_id": stops[0].marker_id, "reason": "again"}),
        409,
        "stop_already_found",
    )
    assert_error(
        call(client, "post", url, json={"marker_id": 99999, "reason": "nope"}), 422, "stop_unknown"
    )
    error = assert_error(
        call(client, "post", url, json={"marker_id": stops[5].marker_id, "reason": "   x  "}),
        422,
        "assist_reason",
    )
    assert error["field"] == "reason"
    error = assert_error(
        call(client, "post", url, json={"marker_id": stops[5].marker_id}), 422, "invalid_field"
    )
    assert error["field"] == "reason"
    assert_error(
        call(
            client,
            "post",
            f"/rallies/{played.slug}/teams/999999/assists",
            json={"marker_id": stops[5].marker_id, "reason": "stuck team"},
        ),
        404,
        "team_unknown",
    )
    assert count_rows(app, "TeamFlag", kind="assisted") == 0
    assert count_rows(app, "AuditEntry") == 0


def test_assist_may_open_a_later_stop_and_completes_a_rally(app, client, played, organiser):
    stops = demo_stops(app, played.rally_id)
    url = f"/rallies/{played.slug}/teams/{played.teams[ZEBRAS]}/assists"
    for stop in stops[3:]:
        resp = call(
            client,
            "post",
            url,
            json={"marker_id": stop.marker_id, "reason": "Akku leer, Fotos gezeigt"},
        )
        assert resp.status_code == 201
    team = get_team(client, played.tokens[ZEBRAS])
    assert team["finished"] is True
    assert team["letters"][0] is None, "stop 1 shows its letter once its task is answered"
    post_answer(client, played.tokens[ZEBRAS], 1, STOP1_ANSWER)
    team = get_team(client, played.tokens[ZEBRAS])
    assert "".join(team["letters"]) == "BARBAROSSA"
    assert team["score"] == 3 * 100 + 7 * 25 + 200 + 50  # the task at stop 1 right at once


# --- team management --------------------------------------------------------------------------


def test_rename_a_team(app, client, played, organiser):
    url = f"/rallies/{played.slug}/teams/{played.teams[FUCHS]}"
    resp = call(client, "patch", url, json={"name": "  Die   Füchse "})
    body = assert_matches_spec(client, "/rallies/{slug}/teams/{team_id}", "patch", resp)
    assert body["name"] == "Die Füchse"
    assert get_team(client, played.tokens[FUCHS])["name"] == "Die Füchse"
    assert_error(call(client, "patch", url, json={"name": ZEBRAS}), 409, "team_name_taken")
    assert_error(call(client, "patch", url, json={"name": "a\u0007b"}), 422, "invalid_field")
    assert_error(call(client, "patch", url, json={}), 422, "invalid_field")
    assert count_rows(app, "AuditEntry", action="team.rename") == 1


def test_remove_a_team(app, client, played, organiser):
    play_tasks(client, played)
    assert count_rows(app, "StopProgress", team_id=played.teams[ZEBRAS]) == 1
    url = f"/rallies/{played.slug}/teams/{played.teams[ZEBRAS]}"
    resp = call(client, "delete", url)
    assert resp.status_code == 204
    assert count_rows(app, "Team") == 2
    assert count_rows(app, "Discovery") == 2
    assert count_rows(app, "StopProgress") == 2
    assert count_rows(app, "StopProgress", team_id=played.teams[ZEBRAS]) == 0
    assert count_rows(app, "TeamFlag") == 0
    assert count_rows(app, "TeamToken", team_id=played.teams[ZEBRAS]) == 0
    assert count_rows(app, "ClientEvent", team_id=played.teams[ZEBRAS]) == 0
    assert_error(client.get(f"{API}/team", headers=bearer(played.tokens[ZEBRAS])), 401)
    assert_error(call(client, "delete", url), 404, "team_unknown")
    assert count_rows(app, "AuditEntry", action="team.remove") == 1


def test_a_team_of_another_rally_is_not_found(app, client, played, organiser):
    from server import models
    from server.extensions import db

    with app.app_context():
        other = models.Rally(slug="andere-rallye", status=models.RallyStatus.PUBLISHED)
        db.session.add(other)
        db.session.commit()
    url = f"/rallies/andere-rallye/teams/{played.teams[ZEBRAS]}"
    assert_error(call(client, "delete", url), 404, "team_unknown")
    assert_error(call(client, "patch", url, json={"name": "x"}), 404, "team_unknown")


# --- close and purge --------------------------------------------------------------------------


def test_close_stops_play(app, client, played, organiser):
    resp = call(client, "post", f"/rallies/{played.slug}/close")
    body = assert_matches_spec(client, "/rallies/{slug}/close", "post", resp)
    assert body["status"] == "closed" and body["closed_at"]
    assert_error(checkin(client, played.tokens[OTTER], 49.44, 7.77), 409, "rally_closed")
    assert_error(
        client.post(f"{API}/rallies/{played.slug}/teams", json={"name": "Spät"}),
        409,
        "rally_closed",
    )
    assert_error(call(client, "post", f"/rallies/{played.slug}/close"), 409, "rally_already_closed")
    assert count_rows(app, "AuditEntry", action="rally.close") == 1


def test_a_draft_cannot_be_closed(app, client, demo, organiser):
    slug, rally_id = demo
    from server.models import RallyStatus

    update_rally(app, rally_id, status=RallyStatus.DRAFT)
    assert_error(call(client, "post", f"/rallies/{slug}/close"), 409, "rally_not_running")


def test_purge_needs_a_closed_rally_and_the_slug(app, client, played, organiser):
    url = f"/rallies/{played.slug}/purge"
    assert_error(call(client, "post", url, json={"confirm": played.slug}), 409, "rally_not_closed")
    call(client, "post", f"/rallies/{played.slug}/close")
    error = assert_error(
        call(client, "post", url, json={"confirm": "yes"}), 422, "purge_confirmation"
    )
    assert error["field"] == "confirm"
    assert_error(call(client, "post", url, json={}), 422, "invalid_field")
    assert count_rows(app, "TeamToken") == 3


def _all_rows_text(app) -> str:
    """Every value of every row of every table, as text."""
    from server.extensions import db

    parts = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(table.select()):
                parts.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(parts)


def test_purge_leaves_no_personal_data_behind(app, client, played, organiser):
    play_tasks(client, played)
    stops = demo_stops(app, played.rally_id)
    reason = f"{FUCHS} rief an: Handy von {OTTER} leer"
    call(
        client,
        "post",
        f"/rallies/{played.slug}/teams/{played.teams[OTTER]}/assists",
        json={"marker_id": stops[0].marker_id, "reason": reason},
    )
    checkin(client, played.tokens[OTTER], 49.4477777, 7.7788888, mock_location=True)
    call(client, "post", f"/rallies/{played.slug}/close")
    names = [ZEBRAS, FUCHS, OTTER, reason[:20]]
    positions = [repr(c) for fix in (*played.fixes.values(), played.teleport) for c in fix]
    positions += ["49.4477777", "7.7788888"]
    before = _all_rows_text(app)
    assert all(name in before for name in names[:3])
    assert any(p in before for p in positions)

    resp = call(client, "post", f"/rallies/{played.slug}/purge", json={"confirm": played.slug})
    body = assert_matches_spec(client, "/rallies/{slug}/purge", "post", resp)
    assert body["purged"]["teams"] == 3
    assert body["purged"]["tokens"] == 3
    assert body["purged"]["client_events"] > 0
    assert body["rally"]["purged_at"]

    after = _all_rows_text(app)
    for text in (*names, *positions, "reason"):
        assert text not in after, text
    for token in played.tokens.values():
        assert_error(client.get(f"{API}/team", headers=bearer(token)), 401, "token_unknown")

    # Anonymous counts stay.
    assert count_rows(app, "Team") == 3
    assert count_rows(app, "Discovery") == 6
    assert count_rows(app, "StopProgress") == 3  # anonymous like the finds: no answer kept
    results = call(client, "get", f"/rallies/{played.slug}/results").get_json()
    assert [r["found"] for r in results["results"]] == [3, 2, 1]
    assert [(r["task_points"], r["hints"], r["hint_cost"]) for r in results["results"]] == [
        (33, 2, 30),
        (0, 1, 10),
        (0, 1, 10),
    ]
    assert results["summary"]["stops"][0]["hinted"] == 3
    assert all(r["anonymous"] for r in results["results"])
    assert results["summary"]["methods"] == {"gps": 4, "qr": 1, "assist": 1}
    assert results["summary"]["flags"]["teleport"] == 1
    assert results["summary"]["flags"]["mock_location"] == 1
    live = call(client, "get", f"/rallies/{played.slug}/live").get_json()
    assert all(t["name"] is None and t["position"] is None for t in live["teams"])
    assert all(f["team"] is None and "reason" not in f["detail"] for f in live["flags"])
    board = client.get(f"{API}/rallies/{played.slug}/leaderboard").get_json()
    assert [e["team"] for e in board["entries"]] == [None, None, None]

    assert_error(
        call(
            client,
            "patch",
            f"/rallies/{played.slug}/teams/{played.teams[OTTER]}",
            json={"name": "Wieder da"},
        ),
        409,
        "rally_purged",
    )
    again = call(client, "post", f"/rallies/{played.slug}/purge", json={"confirm": played.slug})
    assert again.status_code == 200
    assert again.get_json()["purged"]["tokens"] == 0


def test_results_json(app, client, played, organiser):
    resp = call(client, "get", f"/rallies/{played.slug}/results")
    body = assert_matches_spec(client, "/rallies/{slug}/results", "get", resp)
    assert [r["team"] for r in body["results"]] == [ZEBRAS, FUCHS, OTTER]
    assert body["results"][0]["methods"] == {"gps": 3}
    assert body["results"][0]["flags"] == {"teleport": 1}
    assert body["summary"]["stops"][0]["methods"] == {"gps": 1, "qr": 1}
    assert body["summary"]["finished"] == 0 and body["summary"]["fastest_s"] is None


def test_a_new_team_appears_after_a_poll(app, client, played, organiser):
    before = call(client, "get", f"/rallies/{played.slug}/live").get_json()
    token = new_team(client, played.slug, "Nachzügler")
    stop = demo_stops(app, played.rally_id)[0]
    checkin(client, token, *stop.position, at=datetime.now(UTC) - timedelta(seconds=5))
    after = call(client, "get", f"/rallies/{played.slug}/live").get_json()
    assert len(after["teams"]) == len(before["teams"]) + 1
    late = next(t for t in after["teams"] if t["name"] == "Nachzügler")
    assert late["finds"] == {"1": "gps"}
    assert late["position"] == {
        "lat": round(stop.position.lat, 3),
        "lon": round(stop.position.lon, 3),
        "at": late["position"]["at"],
    }
