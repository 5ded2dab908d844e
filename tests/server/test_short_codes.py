"""Short codes typed instead of a scan (issue 11): through the API (``{"code": "KM7-4QX"}`` in
place of ``token``), on the web page (a form leading where the stop's QR code leads), guessing
limited per address; and a start of 300 teams from one address, through the API and the web."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from markers import shortcodes
from server import models
from server.extensions import db
from server.i18n import t
from tests.server.helpers import (
    API,
    assert_error,
    bearer,
    create_team,
    demo_stops,
    import_demo,
    new_event_id,
    new_team,
    qr_token,
    rally_start,
)

LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def codes_of(app, rally_id: int) -> list[str]:
    """The stored short codes of the rally's stops, in stop order."""
    with app.app_context():
        rally = db.session.get(models.Rally, rally_id)
        return [s.code for s in rally.stops]


def typed_scan(client, token: str, code: str, **extra):
    body = {"code": code, "client_event_id": new_event_id(), **extra}
    return client.post(f"{API}/team/scans", json=body, headers=bearer(token))


def messy(code: str) -> str:
    """The code as a hurried player types it: lower case, a space for the dash, O for 0."""
    shown = shortcodes.display(code).lower().replace("-", " ")
    return shown.replace("0", "o").replace("1", "l")


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def send_code(client, code: str, rally: str = "", **environ):
    """The code form as an English browser sends it (CSRF off in these apps)."""
    return client.post(
        "/stop-code", data={"code": code, "rally": rally}, environ_base={**ENGLISH, **environ}
    )


ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def web_join(client, slug: str, name: str, lang: str = "en", **environ):
    """The web join as a browser does it: the rally page, the form; the redirect response."""
    environ = {"HTTP_ACCEPT_LANGUAGE": lang, **environ}
    form = client.get(f"/play/{slug}", environ_base=environ)
    assert form.status_code == 200, form.status_code
    match = CSRF.search(form.get_data(as_text=True))
    data = {"name": name, **({"csrf_token": match.group(1)} if match else {})}
    return client.post(f"/play/{slug}/join", data=data, environ_base=environ)


# -- the API -------------------------------------------------------------------------------


def test_a_typed_code_finds_its_stop_as_the_qr_code_would(app, demo):
    slug, rally_id = demo
    client = app.test_client()
    token = new_team(client, slug, "Tipper")
    first = codes_of(app, rally_id)[0]
    resp = typed_scan(client, token, messy(first))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["result"] == "found"
    assert [f["stop"] for f in body["found_now"]] == [1]
    with app.app_context():
        found = db.session.scalars(select(models.Discovery)).all()
        assert [d.method for d in found] == ["qr"]
    again = typed_scan(client, token, shortcodes.display(first))
    assert again.status_code == 200 and again.get_json()["result"] == "already_found"


def test_a_typed_code_with_a_position_and_a_time_is_an_event_like_a_scan(app, demo):
    slug, rally_id = demo
    client = app.test_client()
    token = new_team(client, slug, "Mit Ort")
    start = rally_start(app, rally_id)
    event_id = new_event_id()
    body = {
        "code": codes_of(app, rally_id)[0],
        "client_event_id": event_id,
        "lat": start.lat,
        "lon": start.lon,
        "accuracy_m": 10,
    }
    first = client.post(f"{API}/team/scans", json=body, headers=bearer(token))
    repeat = client.post(f"{API}/team/scans", json=body, headers=bearer(token))
    assert first.status_code == repeat.status_code == 200
    assert first.get_json() == repeat.get_json(), "one event id counts once"


def test_exactly_one_of_token_and_code(app, demo):
    slug, rally_id = demo
    client = app.test_client()
    token = new_team(client, slug, "Beides")
    code = codes_of(app, rally_id)[0]
    both = {"code": code, "token": qr_token(app, rally_id, demo_stops(app, rally_id)[0].marker_id)}
    for body in ({}, both):
        resp = client.post(
            f"{API}/team/scans",
            json={**body, "client_event_id": new_event_id()},
            headers=bearer(token),
        )
        error = assert_error(resp, 422, "scan_token_or_code")
        assert "token" in error["message"] and "code" in error["message"]
    german = client.post(
        f"{API}/team/scans",
        json={"client_event_id": new_event_id()},
        headers=bearer(new_team(client, slug, "Beides auf Deutsch", language="de")),
    )
    assert "genau eines" in german.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "typed",
    [
        "<b>KM7-4QX</b>",
        "<script>alert(1)</script>",
        "ZZZ-ZZZ",
        "KM7-4Q",
        "UUUUUU",
        "x" * 32,
        " ",
    ],
)
def test_a_code_no_stop_has_is_a_clear_422(app, demo, typed):
    slug, _ = demo
    client = app.test_client()
    token = new_team(client, slug, "Falsch")
    error = assert_error(typed_scan(client, token, typed), 422)
    assert error["code"] in ("short_code_unknown", "invalid_field")
    assert error["field"] == "code"
    assert "<" not in error["message"]


@pytest.mark.parametrize("typed", ["KM7\x004QX", "KM7\u00004QX", "K\x07M74QX", "x" * 33, ""])
def test_control_characters_and_oversize_codes_are_refused_by_the_schema(app, demo, typed):
    slug, _ = demo
    client = app.test_client()
    token = new_team(client, slug, "Steuerzeichen")
    error = assert_error(typed_scan(client, token, typed), 422, "invalid_field")
    assert error["field"] == "code"


def test_a_code_of_a_draft_rally_is_unknown_and_of_another_rally_is_the_wrong_rally(app, demo):
    slug, _ = demo
    _, draft_id = import_demo(app, "entwurf", status="draft")
    _, other_id = import_demo(app, "andere")
    client = app.test_client()
    token = new_team(client, slug, "Fremd")
    assert_error(typed_scan(client, token, codes_of(app, draft_id)[0]), 422, "short_code_unknown")
    error = assert_error(typed_scan(client, token, codes_of(app, other_id)[0]), 422)
    other_qr = client.post(
        f"{API}/team/scans",
        json={
            "token": qr_token(app, other_id, demo_stops(app, other_id)[0].marker_id),
            "client_event_id": new_event_id(),
        },
        headers=bearer(token),
    )
    assert error["code"] == other_qr.get_json()["error"]["code"] == "token_wrong_rally"
    assert error["message"] == other_qr.get_json()["error"]["message"]


def test_a_batch_carries_typed_codes_like_scans(app, demo):
    slug, rally_id = demo
    client = app.test_client()
    token = new_team(client, slug, "Stapel")
    code = codes_of(app, rally_id)[0]
    events = [
        {"kind": "scan", "body": {"code": code, "client_event_id": new_event_id()}},
        {"kind": "scan", "body": {"code": "ZZZ-ZZZ", "client_event_id": new_event_id()}},
    ]
    resp = client.post(f"{API}/team/events", json={"events": events}, headers=bearer(token))
    assert resp.status_code == 200
    results = resp.get_json()["results"]
    assert results[0]["status"] == 200 and results[0]["body"]["result"] == "found"
    assert results[1]["status"] == 422
    assert results[1]["body"]["error"]["code"] == "short_code_unknown"


def test_guessing_codes_meets_a_429_with_retry_after_per_address(make_app, demo):
    app = make_app(**LIMITED, RATELIMIT_SHORT_CODE_FAILURES="5 per 10 minutes")
    slug, rally_id = demo
    client = app.test_client()
    token = new_team(client, slug, "Rater")
    right = codes_of(app, rally_id)[0]
    statuses = [typed_scan(client, token, f"ZZZ-ZZ{c}").status_code for c in "ABCDE"]
    assert statuses == [422] * 5
    locked = typed_scan(client, token, right)
    error = assert_error(locked, 429, "short_code_locked")
    assert 0 < int(locked.headers["Retry-After"]) <= 600
    assert "10 minutes" in error["message"] and "scan the QR code" in error["message"]
    web = send_code(client, right)
    assert web.status_code == 429 and "Too many wrong stop codes" in page(web)
    assert int(web.headers["Retry-After"]) > 0
    batch = client.post(
        f"{API}/team/events",
        json={
            "events": [{"kind": "scan", "body": {"code": right, "client_event_id": new_event_id()}}]
        },
        headers=bearer(token),
    )
    assert batch.get_json()["results"][0]["status"] == 429
    qr = client.post(
        f"{API}/team/scans",
        json={
            "token": qr_token(app, rally_id, demo_stops(app, rally_id)[0].marker_id),
            "client_event_id": new_event_id(),
        },
        headers=bearer(token),
    )
    assert qr.status_code == 200, "a scanned QR code still works"
    elsewhere = send_code(client, right, REMOTE_ADDR="10.7.7.7")
    assert elsewhere.status_code == 303, "another address is not locked"


def test_a_typo_per_team_of_a_300_team_start_is_not_locked_out(make_app, demo):
    app = make_app(**LIMITED)
    assert app.config["RATELIMIT_SHORT_CODE_FAILURES"] == "300 per 10 minutes"
    client = app.test_client()
    right = codes_of(app, demo[1])[0]
    assert all(send_code(client, f"ZZZ-{i:03d}").status_code == 422 for i in range(300))
    assert send_code(client, right).status_code == 429


def test_right_codes_do_not_count_against_the_guessing_limit(make_app, demo):
    app = make_app(**LIMITED, RATELIMIT_SHORT_CODE_FAILURES="3 per 10 minutes")
    rally_id = demo[1]
    client = app.test_client()
    codes = codes_of(app, rally_id)
    for i in range(6):
        assert send_code(client, codes[i % len(codes)]).status_code == 303


def test_batches_cannot_guess_past_the_limit(make_app, demo):
    app = make_app(**LIMITED, RATELIMIT_SHORT_CODE_FAILURES="4 per 10 minutes")
    slug, _ = demo
    client = app.test_client()
    token = new_team(client, slug, "Stapelrater")
    events = [
        {"kind": "scan", "body": {"code": f"ZZZ-Z{i:02d}", "client_event_id": new_event_id()}}
        for i in range(10)
    ]
    resp = client.post(f"{API}/team/events", json={"events": events}, headers=bearer(token))
    statuses = [r["status"] for r in resp.get_json()["results"]]
    assert statuses == [422] * 4 + [429] * 6


# -- the web page --------------------------------------------------------------------------


def test_the_rally_page_and_the_team_page_offer_the_code_form(app, demo):
    slug, _ = demo
    client = app.test_client()
    rally_page = client.get(f"/play/{slug}", headers={"Accept-Language": "en"})
    assert 'action="/stop-code"' in rally_page.get_data(as_text=True)
    assert "Type the stop's code" in page(rally_page)
    assert web_join(client, slug, "Formular", lang="de").status_code == 302
    text = page(client.get(f"/play/{slug}/team"))
    assert (
        "Code der Station eintippen" in text
        and f'name="rally" type="hidden" value="{slug}"' in text
    )
    easy = app.test_client()
    assert web_join(easy, slug, "Leicht", lang="de-x-ls").status_code == 302
    assert "Den Code von der Station eintippen" in page(easy.get(f"/play/{slug}/team"))


def test_a_typed_code_leads_where_the_qr_code_leads(app, demo):
    slug, rally_id = demo
    client = app.test_client()
    assert web_join(client, slug, "Webtipper").status_code == 302
    code = codes_of(app, rally_id)[0]
    resp = send_code(client, messy(code), rally=slug)
    assert resp.status_code == 303
    assert resp.headers["Location"].startswith("/q/")
    scanned = client.get(resp.headers["Location"])
    assert scanned.status_code == 200
    assert t("play.found_now", "en") in page(scanned)
    with app.app_context():
        found = db.session.scalars(select(models.Discovery)).all()
        assert [d.method for d in found] == ["qr"]


def test_a_typed_code_without_a_team_asks_to_join_first_then_finds(app, demo):
    slug, rally_id = demo
    client = app.test_client()
    resp = send_code(client, codes_of(app, rally_id)[0])
    target = resp.headers["Location"]
    join_page = client.get(target)
    assert join_page.status_code == 200 and f'value="{target}"' in join_page.get_data(as_text=True)
    joined = client.post(f"/play/{slug}/join", data={"name": "Erst beitreten", "next": target})
    assert joined.status_code == 302 and joined.headers["Location"] == target
    assert client.get(target).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(models.Discovery.method)) == "qr"


@pytest.mark.parametrize(
    "typed",
    ["ZZZ-ZZZ", "<script>alert(1)</script>", "KM7-4QX\u202e", "x" * 5000, "   ", "\x07"],
)
def test_a_wrong_code_on_the_web_shows_the_form_again_with_a_message(app, demo, typed):
    slug, _ = demo
    client = app.test_client()
    resp = send_code(client, typed, rally=slug)
    assert resp.status_code == 422
    raw = resp.get_data(as_text=True)
    assert "<script>alert" not in raw and "\x00" not in raw
    assert 'role="alert"' in raw and 'aria-invalid="true"' in raw
    text = page(resp)
    assert "There is no stop with this code" in text or "Please type the code" in text
    assert f'href="/play/{slug}"' in raw, "a way back to the rally"
    assert len(raw) < 20000


def test_a_nul_in_the_web_form_is_a_400_page(app, demo):
    resp = send_code(app.test_client(), "KM7\x004QX")
    assert resp.status_code == 400 and "\x00" not in resp.get_data(as_text=True)


def test_a_code_of_a_draft_rally_is_refused_on_the_web_like_its_qr_code(app, demo):
    _, draft_id = import_demo(app, "entwurf", status="draft")
    client = app.test_client()
    resp = send_code(client, codes_of(app, draft_id)[0])
    assert resp.status_code == 422 and "There is no stop with this code" in page(resp)
    qr = client.get(f"/q/{qr_token(app, draft_id, demo_stops(app, draft_id)[0].marker_id)}")
    assert qr.status_code == 404


def test_a_code_of_another_rally_while_in_a_team_is_that_rallys_scan(app, demo):
    slug, _ = demo
    _, other_id = import_demo(app, "andere")
    client = app.test_client()
    assert web_join(client, slug, "Zweite Rallye").status_code == 302
    resp = send_code(client, codes_of(app, other_id)[0], rally=slug)
    assert resp.status_code == 303
    typed = client.get(resp.headers["Location"])
    scanned = client.get(f"/q/{qr_token(app, other_id, demo_stops(app, other_id)[0].marker_id)}")
    assert typed.status_code == scanned.status_code == 200
    assert 'action="/play/andere/join"' in typed.get_data(as_text=True)


def test_the_code_page_alone_and_a_forged_rally_field(app, demo):
    client = app.test_client()
    alone = client.get("/stop-code", headers={"Accept-Language": "de"})
    assert alone.status_code == 200 and "Code unter dem QR-Code" in page(alone)
    forged = send_code(client, "ZZZ-ZZZ", rally="<x>" * 100)
    assert forged.status_code == 422 and "<x>" not in forged.get_data(as_text=True)


def test_the_web_form_needs_its_csrf_token(make_app, demo):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    resp = client.post("/stop-code", data={"code": codes_of(app, demo[1])[0]})
    assert resp.status_code == 400 and "Location" not in resp.headers


# -- a start of 300 teams from one address -------------------------------------------------


def test_three_hundred_teams_start_through_the_api_from_one_address(make_app, demo):
    app = make_app(**LIMITED)
    slug, _ = demo
    client = app.test_client()
    tokens = []
    for i in range(300):
        resp = create_team(client, slug, f"App {i}")
        assert resp.status_code == 201, (i, resp.get_json())
        tokens.append(resp.get_json()["token"])
        assert client.get(f"{API}/rallies/{slug}").status_code == 200
    for token in tokens:
        assert client.get(f"{API}/team", headers=bearer(token)).status_code == 200
    assert_error(create_team(client, slug, "App 301"), 429, "team_creation_limited")


def test_three_hundred_teams_start_on_the_web_from_one_address(make_app, demo):
    app = make_app(**LIMITED, WTF_CSRF_ENABLED=True)
    slug, _ = demo
    browsers = []
    for i in range(300):
        browser = app.test_client()
        joined = web_join(browser, slug, f"Web {i}")
        assert joined.status_code == 302, (i, joined.status_code)
        assert browser.get(joined.headers["Location"]).status_code == 200
        browsers.append(browser)
    for browser in browsers:
        for _ in range(2):
            assert browser.get(f"/play/{slug}/team").status_code == 200
    late = web_join(app.test_client(), slug, "Web 301")
    assert late.status_code == 429 and "Very many teams" in page(late)
    assert int(late.headers["Retry-After"]) > 0


def test_web_players_count_by_their_team_and_forged_cookies_by_their_address(make_app, demo):
    app = make_app(**LIMITED, RATELIMIT_DEFAULT="5 per minute")
    slug, rally_id = demo
    player = app.test_client()
    assert web_join(player, slug, "Keks").status_code == 302
    forger = app.test_client()
    forger.set_cookie(f"team_{rally_id}", "made-up-token")
    for n in range(4):
        forger.set_cookie(f"team_{n + 100}", "x" * 300)
    codes = [forger.get(f"/play/{slug}/team").status_code for _ in range(6)]
    assert codes == [302] * 5 + [429], "a made-up team cookie counts as its address"
    assert [player.get(f"/play/{slug}/team").status_code for _ in range(5)] == [200] * 5
    assert player.get(f"/play/{slug}/team").status_code == 429, "and a team by its own count"
