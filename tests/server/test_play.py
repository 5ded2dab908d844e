"""The QR web fallback: a printed code opened in any phone browser, without app or JavaScript."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from markers import tokens
from server import game, models
from server.extensions import db
from server.i18n import t
from tests.server.helpers import let_time_pass

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
SCRIPT = re.compile(r"<script[^>]*>", re.IGNORECASE)
SPEAK_SCRIPT = '<script src="/static/js/speak.js" defer>'
"""Read aloud (static/js/speak.js): the one script of most player pages, which work without it."""
MAP_SCRIPTS = {
    '<script src="/vendor/leaflet/leaflet.js">',
    '<script id="map-settings" type="application/json">',
    '<script src="/static/js/map.js">',
    '<script type="application/json" id="play-map-data">',
    '<script src="/static/js/play-map.js" defer>',
}
"""The team page's map and check-in (static/js/play-map.js): the app's own files and JSON data."""
XSS_NAME = "<script>alert(1)</script>"
WALK_S = 600.0
"""Time to walk from one stop of the demo to the next, with room to spare."""


def foreign_scripts(raw: str) -> list[str]:
    """The page's script tags other than read aloud's and the map's."""
    return [tag for tag in SCRIPT.findall(raw) if tag != SPEAK_SCRIPT and tag not in MAP_SCRIPTS]


@pytest.fixture
def app(make_app):
    """Forms as a browser sends them: CSRF protection on."""
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def rally(app, demo):
    """The demo rally as the server keeps it, plus a QR path per stop."""
    slug, rally_id = demo
    with app.app_context():
        domain = game.domain_rally(db.session.get(models.Rally, rally_id))
        ring = game.keyring()
        paths = [f"/q/{ring.sign(rally_id, s.marker.id)}" for s in domain.stops]
    return slug, rally_id, domain, paths


def page(response) -> str:
    """The page's text as a reader sees it (entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


def csrf_token(response) -> str:
    match = CSRF.search(response.get_data(as_text=True))
    assert match, "no CSRF token in the form"
    return match.group(1)


def join(client, slug: str, qr_path: str, name: str = "Die Spürnasen", lang: str = "de"):
    """Open a code without a team, fill in the join form, send it; the redirect response."""
    form = client.get(qr_path, headers={"Accept-Language": lang})
    assert form.status_code == 200
    return client.post(
        f"/play/{slug}/join",
        data={
            "csrf_token": csrf_token(form),
            "name": name,
            "next": qr_path,
        },
        headers={"Accept-Language": lang},
    )


EVENT = re.compile(r'<input name="event" type="hidden" value="([0-9a-f-]{36})">')


def answer_stop(client, slug: str, number: int, value: str, form_page):
    """Send the answer form of stop ``number`` shown on ``form_page``; the redirect response."""
    raw = form_page.get_data(as_text=True)
    form = raw.split(f'action="/play/{slug}/stops/{number}/answer"', 1)[1]
    event = EVENT.search(form)
    assert event, "no event id in the answer form"
    return client.post(
        f"/play/{slug}/stops/{number}/answer",
        data={"csrf_token": csrf_token(form_page), "event": event.group(1), "answer": value},
    )


def discoveries(app) -> list[models.Discovery]:
    with app.app_context():
        return list(db.session.scalars(select(models.Discovery)))


def team_row(app) -> models.Team:
    with app.app_context():
        return db.session.scalars(select(models.Team)).one()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_scan_without_team_shows_rally_and_join_form_in_browser_language(client, rally, lang):
    slug, _id, domain, paths = rally
    response = client.get(paths[0], headers={"Accept-Language": f"{lang},fr;q=0.5"})
    assert response.status_code == 200
    text = page(response)
    assert f'<html lang="{lang}">' in text
    assert domain.title[lang] in text
    assert t("play.scanned_join", lang) in text
    assert t("play.new_team", lang) in text
    assert t("play.have_code", lang) in text
    assert f'action="/play/{slug}/join"' in text
    assert f'action="/play/{slug}/code"' in text
    other = "en" if lang == "de" else "de"
    assert t("play.new_team", other) not in text
    first = domain.stops[0].marker
    for language in ("de", "en"):
        assert first.story[language] not in text
    assert not any(c.startswith("team_") for c in _set_cookies(response))


def test_lang_parameter_switches_language_and_is_remembered(client, rally):
    _slug, _id, domain, paths = rally
    response = client.get(paths[0] + "?lang=en", headers={"Accept-Language": "de"})
    assert response.status_code == 200
    assert t("play.new_team", "en") in page(response)
    assert domain.title["en"] in page(response)
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en"
    again = client.get(paths[0], headers={"Accept-Language": "de"})
    assert t("play.new_team", "en") in page(again)
    assert '<html lang="en">' in page(again)
    back = client.get(paths[0] + "?lang=de", headers={"Accept-Language": "en"})
    assert t("play.new_team", "de") in page(back)
    assert client.get_cookie("lang").value == "de"


def test_switch_link_keeps_the_page(client, rally):
    _slug, _id, _domain, paths = rally
    text = client.get(paths[0], headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert f'href="{paths[0]}?lang=en"' in text


def test_a_player_plays_in_leichte_sprache(app, client, rally):
    """The web pages in Leichte Sprache, HTML lang "de"; the team keeps its language (String(10):
    needs the migration on PostgreSQL)."""
    slug, _id, domain, paths = rally
    easy = "de-x-ls"
    form = client.get(paths[0] + f"?lang={easy}", headers={"Accept-Language": "en"})
    text = page(form)
    assert '<html lang="de">' in text
    assert t("play.scanned_join", easy) in text and t("play.new_team", "en") not in text
    assert domain.title["de"] in text  # a rally text without de-x-ls: German
    assert join(client, slug, paths[0], lang="en").status_code == 302
    assert team_row(app).language == easy
    client.delete_cookie("lang")
    found = page(client.get(paths[0], headers={"Accept-Language": "en"}))
    assert '<html lang="de">' in found
    assert t("play.found_now", easy) in found and t("play.to_team", easy) in found


def test_join_sets_team_cookie_and_returns_to_the_code(app, client, rally):
    slug, rally_id, _domain, paths = rally
    response = join(client, slug, paths[0])
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == paths[0]
    header = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"team_{rally_id}=")
    )
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/" in header
    team = team_row(app)
    assert team.name == "Die Spürnasen"
    assert team.language == "de"
    assert discoveries(app) == []


@pytest.mark.parametrize("lang", ["de", "en"])
def test_scan_after_join_shows_story_letter_and_next_clue(app, client, rally, lang):
    slug, _id, domain, paths = rally
    join(client, slug, paths[0], lang=lang)
    response = client.get(paths[0], headers={"Accept-Language": lang})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = page(response)
    first, second = domain.stops[0], domain.stops[1]
    assert t("play.found_now", lang) in text
    assert first.marker.title[lang] in text
    assert first.marker.story[lang] in text
    assert "<strong>B</strong>" not in text, "stop 1's letter waits for its answer"
    assert t("play.letter_waits", lang) in text
    assert second.effective_clue[lang] in text
    assert t("play.stop_n", lang, n=2, total=10) in text
    assert second.marker.story[lang] not in text
    found = discoveries(app)
    assert [(d.marker_id, d.method) for d in found] == [(first.marker.id, "qr")]
    assert team_row(app).score == 100
    assert answer_stop(client, slug, 1, "1892", response).status_code == 303
    again = page(client.get(paths[0], headers={"Accept-Language": lang}))
    assert f"{t('play.your_letter', lang)} <strong>B</strong>" in again
    assert t("play.letter_waits", lang) not in again


@pytest.mark.parametrize(("lang", "voice"), [("de", "de-DE"), ("en", "en-GB")])
def test_story_clues_and_intro_carry_their_language_and_a_hidden_read_aloud_button(
    app, client, rally, lang, voice
):
    slug, _id, domain, paths = rally
    intro = html.unescape(client.get(f"/play/{slug}?lang={lang}").get_data(as_text=True))
    join(client, slug, paths[0], lang=lang)
    found = html.unescape(client.get(f"{paths[0]}?lang={lang}").get_data(as_text=True))
    team = html.unescape(client.get(f"/play/{slug}/team?lang={lang}").get_data(as_text=True))
    first, second = domain.stops[0], domain.stops[1]
    button = (
        f'<button type="button" class="speak" hidden aria-pressed="false" '
        f'data-stop="{t("play.stop_reading", lang)}">{t("play.read_aloud", lang)}</button>'
    )
    for raw, css, text in (
        (intro, "", domain.intro[lang]),
        (found, ' class="story"', first.marker.story[lang]),
        (found, ' class="clue-text"', second.effective_clue[lang]),
        (team, ' class="clue-text"', second.effective_clue[lang]),
        (team, "", first.marker.story[lang]),
    ):
        spoken = f'<p{css} lang="{lang}" data-speak="{voice}">{text}</p>\n    {button}'
        assert spoken in raw


def test_reload_does_not_count_twice(app, client, rally):
    slug, _id, domain, paths = rally
    join(client, slug, paths[0])
    client.get(paths[0])
    score = team_row(app).score
    for _ in range(3):
        again = client.get(paths[0])
        assert again.status_code == 200
        assert domain.stops[0].marker.story["de"] in page(again)
        assert t("play.found_before", "de") in page(again)
    assert len(discoveries(app)) == 1
    assert team_row(app).score == score == 100
    assert team_row(app).found_count == 1


def test_out_of_order_scan_says_not_yet_and_reveals_nothing(app, client, rally):
    slug, _id, domain, paths = rally
    response = join(client, slug, paths[2])
    assert response.status_code == 302
    response = client.get(paths[2])
    assert response.status_code == 200
    text = page(response)
    assert t("play.not_yet_title", "de") in text
    assert t("play.not_yet", "de", n=3) in text
    third = domain.stops[2].marker
    for lang in ("de", "en"):
        assert third.story[lang] not in text
        assert third.title[lang] not in text
    assert t("play.your_letter", "de") not in text
    assert f"{third.position.lat:.5f}" not in text
    assert domain.stops[0].effective_clue["de"] in text
    assert discoveries(app) == []


def test_stop_scanned_too_early_counts_when_scanned_again_in_turn(app, client, rally):
    slug, _id, domain, paths = rally
    join(client, slug, paths[2])
    assert t("play.not_yet_title", "de") in page(client.get(paths[2]))
    team_id = team_row(app).id
    for path in paths[:2]:
        let_time_pass(app, team_id, WALK_S)
        client.get(path)
    answer_stop(client, slug, 1, "1892", client.get(f"/play/{slug}/team"))
    let_time_pass(app, team_id, WALK_S)
    response = client.get(paths[2])
    assert t("play.found_now", "de") in page(response)
    assert domain.stops[2].marker.story["de"] in page(response)
    assert "BAR" in page(response).replace("<span>", "").replace("</span>", "")
    assert [d.marker_id for d in discoveries(app)] == [s.marker.id for s in domain.stops[:3]]


def test_whole_rally_by_scanning_every_code(app, client, rally):
    slug, _id, _domain, paths = rally
    join(client, slug, paths[0])
    team_id = team_row(app).id
    for path in paths:
        let_time_pass(app, team_id, WALK_S)
        reveal = client.get(path)
        assert reveal.status_code == 200
        if path == paths[0]:
            answer_stop(client, slug, 1, "1892", reveal)  # its letter waits for the answer
    final = client.get(f"/play/{slug}/team")
    assert final.status_code == 200
    assert t("play.complete", "de") in page(final)
    assert "BARBAROSSA" in page(final)
    team = team_row(app)
    assert team.finished_at is not None
    assert team.found_count == 10


def _forged_token(rally_id: int, marker_id: int) -> str:
    return tokens.KeyRing.generate(b"not the server's secret key!!!!!").sign(rally_id, marker_id)


def _altered_token(token: str) -> str:
    last = "A" if token[-2] != "A" else "B"
    return token[:-2] + last + token[-1]


@pytest.mark.parametrize(
    "kind",
    [
        "garbage",
        "punctuation",
        "too_short",
        "too_long",
        "forged",
        "altered",
        "unknown_rally",
        "draft_rally",
        "not_base64",
    ],
)
@pytest.mark.parametrize("lang", ["de", "en"])
def test_invalid_code_gets_a_friendly_page(app, client, rally, kind, lang):
    _slug, rally_id, domain, paths = rally
    marker_id = domain.stops[0].marker.id
    good = paths[0].removeprefix("/q/")
    with app.app_context():
        draft = models.Rally(slug="entwurf", status=models.RallyStatus.DRAFT)
        db.session.add(draft)
        db.session.commit()
        ring = game.keyring()
        token = {
            "garbage": "garbage",
            "punctuation": "%3Cscript%3E!!",
            "too_short": "AQE",
            "too_long": "A" * 200,
            "forged": _forged_token(rally_id, marker_id),
            "altered": _altered_token(good),
            "unknown_rally": ring.sign(rally_id + 1000, marker_id),
            "draft_rally": ring.sign(draft.id, marker_id),
            "not_base64": "AQEB====",
        }[kind]
    response = client.get(f"/q/{token}", headers={"Accept-Language": lang})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    text = page(response)
    assert t("play.invalid_title", lang) in text
    assert t("play.invalid_help", lang) in text
    assert f'<html lang="{lang}">' in text
    assert "Traceback" not in text
    assert "TokenError" not in text
    assert domain.stops[0].marker.story[lang] not in text
    assert not foreign_scripts(response.get_data(as_text=True))


def test_invalid_code_with_a_team_finds_nothing(app, client, rally):
    slug, rally_id, domain, paths = rally
    join(client, slug, paths[0])
    forged = _forged_token(rally_id, domain.stops[0].marker.id)
    response = client.get(f"/q/{forged}")
    assert response.status_code == 404
    assert domain.stops[0].marker.story["de"] not in page(response)
    assert discoveries(app) == []


def test_code_of_a_marker_not_in_the_rally(app, client, rally):
    slug, rally_id, _domain, paths = rally
    join(client, slug, paths[0])
    with app.app_context():
        stray = game.keyring().sign(rally_id, 987654)
    response = client.get(f"/q/{stray}")
    assert response.status_code == 200
    assert t("play.not_in_rally", "de") in page(response)
    assert discoveries(app) == []


def test_join_code_lets_a_second_browser_continue_the_team(app, client, rally):
    slug, _id, domain, paths = rally
    join(client, slug, paths[0], name="Team Barbarossa")
    client.get(paths[0])
    team = team_row(app)
    hint = page(client.get(f"/play/{slug}/team"))
    assert t("play.join_code_hint", "de", code=team.join_code) in hint

    second = app.test_client()
    form = second.get(paths[1])
    assert t("play.have_code", "de") in page(form)
    response = second.post(
        f"/play/{slug}/code",
        data={
            "csrf_token": csrf_token(form),
            "join_code": team.join_code.lower(),
            "next": paths[1],
        },
    )
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == paths[1]
    let_time_pass(app, team.id, WALK_S)
    found = second.get(paths[1])
    text = page(found)
    assert t("play.found_now", "de") in text
    assert "Team Barbarossa" in text
    assert domain.stops[1].marker.story["de"] in text
    assert len(discoveries(app)) == 2
    with app.app_context():
        assert db.session.scalar(select(func.count(models.Team.id))) == 1
        assert db.session.scalar(select(func.count(models.TeamToken.id))) == 2
    first_view = page(client.get(f"/play/{slug}/team"))
    assert domain.stops[1].marker.story["de"] in first_view


def test_unknown_join_code_is_refused(app, client, rally):
    slug, _id, _domain, paths = rally
    form = client.get(paths[0])
    response = client.post(
        f"/play/{slug}/code",
        data={
            "csrf_token": csrf_token(form),
            "join_code": "ZZZZZZZZ",
            "next": paths[0],
        },
    )
    assert response.status_code == 422
    assert t("errors.join_code_unknown", "de") in page(response)
    assert not any(c.startswith("team_") for c in _set_cookies(response))


@pytest.mark.parametrize("form", ["join", "code"])
def test_post_without_csrf_token_is_rejected(app, client, rally, form):
    slug, _id, _domain, paths = rally
    client.get(paths[0])
    data = {"name": "Ohne Token", "join_code": "ABCDEFGH", "next": paths[0]}
    response = client.post(f"/play/{slug}/{form}", data=data)
    assert response.status_code == 400
    assert "Traceback" not in page(response)
    assert t("error.title_400", "de") in page(response)
    wrong = client.post(f"/play/{slug}/{form}", data={**data, "csrf_token": "forged"})
    assert wrong.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(models.Team.id))) == 0


def test_team_name_is_escaped(app, client, rally):
    slug, _id, _domain, paths = rally
    join(client, slug, paths[0], name=XSS_NAME)
    assert team_row(app).name == XSS_NAME
    for path in (paths[0], f"/play/{slug}/team"):
        raw = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
        assert not foreign_scripts(raw)


def test_the_flow_needs_no_javascript(app, client, rally):
    """Every page of the flow is plain HTML with forms that post; the scripts, read aloud
    (static/js/speak.js) and the team page's map, only add what stays hidden without them."""
    slug, _id, _domain, paths = rally
    pages = [client.get("/"), client.get(f"/play/{slug}"), client.get(paths[0])]
    form = pages[-1].get_data(as_text=True)
    assert re.search(r'<form method="post" action="/play/[^"]+/join">', form)
    assert 'type="submit"' in form
    pages.append(client.post(f"/play/{slug}/join", data={"name": "x", "next": paths[0]}))
    join(client, slug, paths[0])
    pages += [
        client.get(paths[0]),
        client.get(paths[3]),
        client.get(f"/play/{slug}/team"),
        client.get(f"/play/{slug}"),
        client.get("/q/nonsense"),
    ]
    for response in pages:
        raw = response.get_data(as_text=True)
        assert raw.lstrip().startswith("<!doctype html>")
        assert not foreign_scripts(raw), response.request.path
        assert not re.search(r"<[^>]+\son[a-z]+=", raw), response.request.path
        assert not re.search(r"<button[^>]*class=\"speak\"(?![^>]*\bhidden\b)", raw)


def test_rally_page_redirects_a_team_to_its_page(app, client, rally):
    slug, _id, _domain, paths = rally
    assert client.get(f"/play/{slug}/team").headers["Location"].endswith(f"/play/{slug}")
    join(client, slug, paths[0])
    response = client.get(f"/play/{slug}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/play/{slug}/team")


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
def test_join_never_redirects_off_site(app, client, rally, target):
    slug, _id, _domain, paths = rally
    form = client.get(paths[0])
    response = client.post(
        f"/play/{slug}/join",
        data={
            "csrf_token": csrf_token(form),
            "name": "Umleitung",
            "next": target,
        },
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost")
    assert location.path == f"/play/{slug}/team"


def test_join_with_bad_name_shows_the_form_again(app, client, rally):
    slug, _id, _domain, paths = rally
    form = client.get(paths[0], headers={"Accept-Language": "en"})
    token = csrf_token(form)
    blank = client.post(
        f"/play/{slug}/join",
        data={"csrf_token": token, "name": "   "},
        headers={"Accept-Language": "en"},
    )
    assert blank.status_code == 422
    assert 'role="alert"' in blank.get_data(as_text=True)
    control = client.post(
        f"/play/{slug}/join",
        data={"csrf_token": token, "name": "a\x07b"},
        headers={"Accept-Language": "en"},
    )
    assert control.status_code == 422
    assert t("errors.invalid_team_name", "en", max=40) in page(control)
    join(client, slug, paths[0], name="Zweimal")
    other = app.test_client()
    taken = join(other, slug, paths[0], name="Zweimal", lang="en")
    assert taken.status_code == 422
    assert t("errors.team_name_taken", "en") in page(taken)


def test_closed_rally_shows_no_join_form_and_takes_no_scans(app, client, rally):
    slug, rally_id, domain, paths = rally
    join(client, slug, paths[0])
    with app.app_context():
        db.session.get(models.Rally, rally_id).status = models.RallyStatus.CLOSED
        db.session.commit()
    response = client.get(paths[0])
    assert response.status_code == 409
    assert t("errors.rally_closed", "de") in page(response)
    assert domain.stops[0].marker.story["de"] not in page(response)
    stranger = app.test_client().get(paths[0])
    assert stranger.status_code == 200
    assert t("errors.rally_closed", "de") in page(stranger)
    assert 'action="/play/' not in stranger.get_data(as_text=True)
    assert discoveries(app) == []


def test_team_cookie_of_another_rally_is_ignored(app, client, rally):
    slug, rally_id, _domain, paths = rally
    join(client, slug, paths[0])
    cookie = client.get_cookie(f"team_{rally_id}")
    other = app.test_client()
    other.set_cookie(f"team_{rally_id}", "not-a-token")
    response = other.get(paths[0])
    assert t("play.new_team", "de") in page(response)
    assert cookie is not None and cookie.value != "not-a-token"
    assert discoveries(app) == []


def _set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_element_ids_are_unique(client, rally):
    """Two forms on one page: each hidden field has its own id, so labels point at one thing."""
    _slug, _id, _domain, paths = rally
    raw = client.get(paths[0]).get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', raw)
    assert "join_csrf_token" in ids and "code_csrf_token" in ids
    assert len(ids) == len(set(ids)), ids
    for target in re.findall(r'<label for="([^"]+)"', raw):
        assert ids.count(target) == 1


def test_media_serves_only_plain_names(app, client):
    media = app.config["MEDIA_DIR"]
    from pathlib import Path

    Path(media).mkdir(parents=True, exist_ok=True)
    (Path(media) / "abcdef12.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (Path(media).parent / "secret.jpg").write_bytes(b"TOP-SECRET-CONTENT")
    ok = client.get("/media/abcdef12.jpg")
    assert ok.status_code == 200
    assert ok.headers["X-Content-Type-Options"] == "nosniff"
    assert ok.mimetype == "image/jpeg"
    for name in ("..%2Fsecret.jpg", "missing0.jpg", "abcdef12.jpg.html", "abc.jpg", "%2e%2e"):
        response = client.get(f"/media/{name}")
        assert response.status_code == 404, name
        assert b"TOP-SECRET-CONTENT" not in response.data
