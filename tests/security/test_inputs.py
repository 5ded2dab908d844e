"""Every input, both databases: a NUL or another control character in a path, a query string, a
JSON body or a form is a clear 4xx (PostgreSQL refuses NUL in text and once answered 500), and
ids or page numbers past a column's range are 404 or clamped, never a 500."""

from __future__ import annotations

import pytest

from tests.server.helpers import API, assert_error, new_team
from tests.server.organiser_helpers import login

NUL = "\x00"
CONTROLS = [NUL, "\x01", "\x1b", "\x7f"]
HUGE_IDS = [2**31, 2**63, 10**30]


@pytest.mark.parametrize("char", CONTROLS)
def test_control_characters_in_a_slug_are_400_for_anyone(client, demo, char):
    slug = demo[0] + char
    assert_error(client.get(f"{API}/rallies/{slug}"), 400, "control_character")
    assert_error(
        client.post(f"{API}/rallies/{slug}/teams", json={"name": "Otter"}),
        400,
        "control_character",
    )
    page = client.get(f"/play/{slug}")
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "Steuerzeichen" in page.get_data(as_text=True)


@pytest.mark.parametrize("where", ["value", "name"])
def test_control_characters_in_a_query_are_400(client, demo, where):
    query = "lang=de%00" if where == "value" else "la%00ng=de"
    error = assert_error(client.get(f"{API}/rallies?{query}"), 400, "control_character")
    assert "Steuerzeichen" in error["message"]
    assert client.get(f"/play/{demo[0]}?{query}").status_code == 400


def test_a_nul_in_a_join_code_is_422_naming_the_field(client, demo):
    slug = demo[0]
    new_team(client, slug, "Otter")
    resp = client.post(f"{API}/rallies/{slug}/join", json={"join_code": "AB" + NUL + "CD"})
    error = assert_error(resp, 422, "invalid_field")
    assert error["field"] == "join_code"
    assert "Steuerzeichen" in error["message"]


def test_a_nul_in_a_web_form_is_400_with_a_page(client, demo):
    slug = demo[0]
    for form, data in (("join", {"name": "Ot" + NUL + "ter"}), ("code", {"code": "A" + NUL})):
        page = client.post(f"/play/{slug}/{form}", data=data)
        assert page.status_code == 400, (form, page.status_code)
        assert "Steuerzeichen" in page.get_data(as_text=True)


def test_a_control_character_in_a_json_key_or_nested_text_is_422(app, client):
    login(client, app, "curator")
    marker = {"lat": 49.44, "lon": 7.76, "title": {"de": "Tor", "en": "Ga" + NUL + "te"}}
    error = assert_error(client.post(f"{API}/curator/markers", json=marker), 422, "invalid_field")
    assert error["field"] == "title.en"
    resp = client.post(f"{API}/curator/markers", json={"lat": 1, "lon": 2, "x\x01": 1})
    assert_error(resp, 422, "invalid_body")


def test_tabs_and_line_breaks_stay_text(app, client):
    login(client, app, "curator")
    story = {"de": "Zeile eins\r\nZeile\tzwei", "en": "Line one\nline\ttwo"}
    marker = {"lat": 49.44, "lon": 7.76, "title": {"de": "Tor", "en": "Gate"}, "story": story}
    resp = client.post(f"{API}/curator/markers", json=marker)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["story"] == story


@pytest.mark.parametrize("number", HUGE_IDS)
def test_ids_past_the_column_range_are_404(app, client, demo, number):
    login(client, app, "admin")
    for path in (
        f"{API}/curator/markers/{number}",
        f"{API}/curator/rallies/{number}",
        f"/curator/rallies/{number}",
    ):
        assert client.get(path).status_code == 404, path
    resp = client.put(f"{API}/curator/rallies/{number}/status", json={"status": "draft"})
    assert_error(resp, 404)
    assert client.get(f"{API}/curator/markers/{2**31 - 1}").status_code == 404


@pytest.mark.parametrize("page", ["99999999999999999999999", str(2**31), "-5", "x"])
def test_huge_page_numbers_are_clamped(app, client, page):
    login(client, app, "admin")
    assert client.get(f"/curator/audit?page={page}").status_code == 200
    leaderboard = client.get(f"{API}/rallies/nowhere/leaderboard?limit={page}")
    assert leaderboard.status_code in (404, 422)
