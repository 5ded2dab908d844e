"""The whole game in the browser, server side: "I am here" check-ins under the app's rules, the
way to the search area, marker pictures, the leaderboard and finish pages, the closed state, and
the organiser's "what now" text from the curator editor."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from markers.geo import LatLon, destination
from server import formats, game, models
from server.extensions import db
from server.i18n import t
from tests.server.helpers import API, demo_stops, let_time_pass, new_team, staff_client
from tests.server.helpers import checkin as api_checkin
from tests.server.test_play import csrf_token, join, page, team_row

EVENT = re.compile(r'<input name="event" type="hidden" value="([0-9a-f-]{36})">')
MAP_DATA = re.compile(r'<script type="application/json" id="play-map-data">(.*?)</script>', re.S)
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f6c7a90000000049454e44ae426082"
)


@pytest.fixture
def app(make_app):
    """Forms as a browser sends them: CSRF protection on."""
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def rally(app, demo):
    """The demo rally: slug, id, its stops and a QR path per stop."""
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    with app.app_context():
        ring = game.keyring()
        paths = [f"/q/{ring.sign(rally_id, s.marker_id)}" for s in stops]
    return slug, rally_id, stops, paths


def joined(client, slug: str, paths: list[str], lang: str = "en") -> None:
    """A team of this browser, joined on the rally page (nothing found yet)."""
    form = client.get(f"/play/{slug}", headers={"Accept-Language": lang})
    response = client.post(
        f"/play/{slug}/join",
        data={"csrf_token": csrf_token(form), "name": "Web Walkers", "next": ""},
        headers={"Accept-Language": lang},
    )
    assert response.status_code == 302


def check_in(client, slug: str, lat: object, lon: object, accuracy: object = 8, **extra: str):
    """Send the team page's check-in form as play-map.js fills it; the response."""
    form = client.get(f"/play/{slug}/team")
    raw = form.get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(form),
        "event": EVENT.search(raw).group(1),
        "lat": str(lat),
        "lon": str(lon),
        "accuracy_m": str(accuracy),
        **extra,
    }
    return client.post(f"/play/{slug}/checkin", data=data)


def followed(client, response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return page(client.get(response.headers["Location"]))


def discoveries(app) -> list[tuple[int, str]]:
    with app.app_context():
        rows = db.session.scalars(select(models.Discovery).order_by(models.Discovery.id))
        return [(d.marker_id, d.method) for d in rows]


def test_i_am_here_at_the_marker_finds_the_stop_by_gps(app, client, rally):
    slug, _id, stops, _paths = rally
    joined(client, slug, _paths)
    team = client.get(f"/play/{slug}/team").get_data(as_text=True)
    assert 'id="checkin-form"' in team and 'id="play-map"' in team
    assert 'action="/play/' + slug + '/checkin"' in team

    response = check_in(client, slug, *stops[0].position, accuracy=6)
    location = urlsplit(response.headers["Location"])
    assert location.path == f"/play/{slug}/team"
    assert location.fragment == "checkin" and location.query.startswith("done=")
    text = followed(client, response)
    assert t("play.checkin_found", "en", stops="1") in text
    assert stops[0].story["en"] in text
    assert discoveries(app) == [(stops[0].marker_id, "gps")]
    assert t("play.last_position", "en", time=_clock(app), acc="6") in text


def _clock(app) -> str:
    with app.app_context():
        team = db.session.scalars(select(models.Team)).one()
        return formats.clock(team.last_fix_at, "en")


def test_a_resent_check_in_form_counts_once(app, client, rally):
    slug, _id, stops, paths = rally
    joined(client, slug, paths)
    form = client.get(f"/play/{slug}/team")
    data = {
        "csrf_token": csrf_token(form),
        "event": EVENT.search(form.get_data(as_text=True)).group(1),
        "lat": str(stops[0].position.lat),
        "lon": str(stops[0].position.lon),
        "accuracy_m": "5",
    }
    first = client.post(f"/play/{slug}/checkin", data=data)
    second = client.post(f"/play/{slug}/checkin", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(discoveries(app)) == 1


def test_away_from_the_area_the_page_says_how_far_and_which_way(app, client, rally):
    slug, _id, _stops, paths = rally
    joined(client, slug, paths)
    raw = client.get(f"/play/{slug}/team").get_data(as_text=True)
    area = _area(raw)
    here = destination(LatLon(area["lat"], area["lon"]), 0.0, area["radius_m"] + 500)
    text = followed(client, check_in(client, slug, *here, accuracy=12))
    assert t("play.checkin_outside", "en", acc="12") in text
    way = t("play.area_way", "en", distance="500 m", direction=t("play.dir.s", "en"))
    assert way in text
    assert discoveries(app) == []

    german = page(client.get(f"/play/{slug}/team?lang=de"))
    assert "Das Suchgebiet ist 500 m entfernt, Richtung Süden." in german
    easy = page(client.get(f"/play/{slug}/team?lang=de-x-ls"))
    assert "Das Such-Gebiet ist 500 m weit weg. Geht nach Süden." in easy

    let_time_pass(app, team_row(app).id, 1200)
    response = check_in(client, slug, area["lat"], area["lon"], accuracy=3000)
    assert response.status_code == 303
    done = urlsplit(response.headers["Location"])
    inside = page(client.get(f"{done.path}?{done.query}&lang=en"))
    assert t("play.area_inside", "en") in inside
    assert t("play.checkin_imprecise", "en", acc="3,000") in inside


def _area(raw: str) -> dict:
    import json

    data = json.loads(MAP_DATA.search(raw).group(1))
    assert data["position"] is None or isinstance(data["position"], dict)
    return data["areas"][0]


def test_web_and_app_check_ins_get_the_same_verdicts_and_flags(app, client, rally):
    """One walk sent through the web page and through the API: the same finds, rejections and
    flags (a jump of a kilometre within seconds is a teleport both ways)."""
    slug, _id, stops, paths = rally
    walk = [stops[0].position, stops[2].position, stops[0].position]
    joined(client, slug, paths)
    web = []
    for position in walk:
        response = check_in(client, slug, *position)
        web.append(_done_result(app, response))
    api = app.test_client()
    token = new_team(api, slug, "App Walkers")
    app_results = [api_checkin(api, token, *p).get_json()["result"] for p in walk]
    assert web == app_results == ["found", "teleport", "outside"]
    with app.app_context():
        flags = {
            team.name: sorted(f.kind for f in team.flags)
            for team in db.session.scalars(select(models.Team))
        }
    assert flags["Web Walkers"] == flags["App Walkers"] == ["teleport"]


def _done_result(app, response) -> str:
    event_id = urlsplit(response.headers["Location"]).query.removeprefix("done=")
    with app.app_context():
        row = db.session.scalar(select(models.ClientEvent).filter_by(client_event_id=event_id))
        assert row.kind == "checkin"
        assert set(row.response) == {"result", "stop", "found", "accuracy_m"}  # no position kept
        return row.response["result"]


@pytest.mark.parametrize(
    ("lat", "lon", "accuracy"),
    [
        ("nan", "7.7", "5"),
        ("inf", "7.7", "5"),
        ("49.4", "-inf", "5"),
        ("91", "7.7", "5"),
        ("49.4", "-181", "5"),
        ("49.4", "7.7", "-1"),
        ("49.4", "7.7", "1e309"),
        ("49.4", "7.7", "100001"),
        ("", "", ""),
        ("<b>49</b>", "7.7", "5"),
        ("4" * 5000, "7.7", "5"),
        ("49.4", "7.7", "0x10"),
    ],
)
def test_a_position_that_is_none_is_a_form_error(app, client, rally, lat, lon, accuracy):
    slug, _id, _stops, paths = rally
    joined(client, slug, paths)
    response = check_in(client, slug, lat, lon, accuracy)
    assert response.status_code == 422
    text = page(response)
    assert t("play.bad_position", "en") in text
    assert "<b>49</b>" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(models.ClientEvent)).all() == []


def test_hostile_check_in_requests(app, client, rally):
    slug, _id, stops, paths = rally
    lat, lon = stops[0].position
    stranger = app.test_client()
    form = stranger.get(f"/play/{slug}")
    data = {"csrf_token": csrf_token(form), "event": "0" * 8 + "-0000-4000-8000-" + "0" * 12}
    no_team = stranger.post(f"/play/{slug}/checkin", data={**data, "lat": lat, "lon": lon})
    assert no_team.status_code == 303
    assert urlsplit(no_team.headers["Location"]).path == f"/play/{slug}"

    joined(client, slug, paths)
    no_csrf = client.post(
        f"/play/{slug}/checkin",
        data={"event": data["event"], "lat": lat, "lon": lon, "accuracy_m": 5},
    )
    assert no_csrf.status_code == 400
    nul = check_in(client, slug, f"{lat}\x00", lon)
    assert nul.status_code == 400
    bad_event = check_in(client, slug, lat, lon, event="<script>")
    assert bad_event.status_code == 400
    assert "<script>" not in bad_event.get_data(as_text=True)
    form = client.get(f"/play/{slug}/team")
    data = {"csrf_token": csrf_token(form), "event": data["event"], "lat": lat, "lon": lon}
    other = client.post("/play/no-such-rally/checkin", data=data)
    assert other.status_code == 404
    assert discoveries(app) == []


def test_a_closed_rally_shows_its_end_without_clue_or_check_in(app, client, rally):
    slug, rally_id, stops, paths = rally
    joined(client, slug, paths)
    followed(client, check_in(client, slug, *stops[0].position))
    form = client.get(f"/play/{slug}/team")
    late = {
        "csrf_token": csrf_token(form),
        "event": EVENT.search(form.get_data(as_text=True)).group(1),
        "lat": stops[1].position.lat,
        "lon": stops[1].position.lon,
        "accuracy_m": 5,
    }
    with app.app_context():
        db.session.get(models.Rally, rally_id).status = models.RallyStatus.CLOSED
        db.session.commit()
    for lang in ("de", "en", "de-x-ls"):
        response = client.get(f"/play/{slug}/team?lang={lang}")
        text = page(response)
        assert t("play.closed_title", lang) in text
        assert t("play.closed_text", lang) in text
        assert stops[1].story[lang if lang != "de-x-ls" else "de"] not in text
        raw = response.get_data(as_text=True)
        assert 'id="checkin-form"' not in raw
        assert "play-map.js" not in raw
        assert f'href="/play/{slug}/leaderboard"' in raw
        assert f'href="/play/{slug}/finish"' in raw
        assert 'class="answer-form"' not in raw
    clue = page(client.get(f"/play/{slug}/team?lang=en"))
    with app.app_context():
        second_clue = game.domain_rally(db.session.get(models.Rally, rally_id)).stops[1]
    assert second_clue.marker.clue["en"] not in clue
    assert client.post(f"/play/{slug}/checkin", data=late).status_code == 409
    assert len(discoveries(app)) == 1
    result = page(client.get(f"/play/{slug}/finish?lang=en"))
    assert t("play.finish_partial", "en", name="Web Walkers", found=1, total=len(stops)) in result
    assert t("play.finish_rank_of", "en", rank=1, teams=1) in result


def finish_all(app, team_id: int, stops, minutes: int = 20) -> None:
    """The team found these stops by GPS, ``minutes`` apart, starting 4 hours ago."""
    from routes import rules

    let_time_pass(app, team_id, 4 * 3600)
    with app.app_context():
        start = db.session.get(models.Team, team_id).started_at
        for i, stop in enumerate(stops):
            fix = rules.Fix(stop.position, 5.0, start + timedelta(minutes=minutes * (i + 1)))
            game.apply_event(
                db.session.get(models.Team, team_id),
                None,
                "checkin",
                lambda t_, r, f=fix: rules.GpsEvent(f),
                lambda *_: {},
            )


def test_the_finish_page_shows_rank_time_score_word_and_what_now(app, client, rally):
    slug, rally_id, stops, paths = rally
    joined(client, slug, paths)
    assert urlsplit(client.get(f"/play/{slug}/finish").headers["Location"]).path == (
        f"/play/{slug}/team"
    )
    other = app.test_client()
    new_team(other, slug, "Faster")
    with app.app_context():
        rally_row = db.session.get(models.Rally, rally_id)
        for stop in rally_row.stops:
            stop.task = None  # every letter comes with its find
        rally_row.set_text(
            "finish_text",
            {
                "de": "Holt euren Preis am Stand in der Fruchthalle ab, bis 23 Uhr.",
                "en": "Collect your prize at the <stand> in the Fruchthalle, until 11 pm.",
            },
        )
        db.session.commit()
        ids = {t_.name: t_.id for t_ in db.session.scalars(select(models.Team))}
    finish_all(app, ids["Faster"], stops, minutes=18)
    finish_all(app, ids["Web Walkers"], stops)

    team = page(client.get(f"/play/{slug}/team?lang=en"))
    assert t("play.to_finish", "en") in team
    response = client.get(f"/play/{slug}/finish?lang=en")
    assert response.status_code == 200
    text = page(response)
    with app.app_context():
        row = db.session.get(models.Team, ids["Web Walkers"])
        taken = formats.duration((row.finished_at - row.started_at).total_seconds(), "en")
        score = row.score
        word = db.session.get(models.Rally, rally_id).solution_word
    assert t("play.finish_title", "en") in text
    assert t("play.finish_rank_of", "en", rank=2, teams=2) in text
    assert taken in text and taken.startswith("3 hr")
    assert t("play.score", "en", score=score) in text
    assert word and "".join(re.findall(r"<span>(\w)</span>", response.get_data(as_text=True))) == (
        word
    )
    assert "Collect your prize at the <stand> in the Fruchthalle" in text
    assert "&lt;stand&gt;" in response.get_data(as_text=True)
    easy = page(client.get(f"/play/{slug}/finish?lang=de-x-ls"))
    assert "Holt euren Preis am Stand" in easy  # Leichte Sprache falls back to German
    assert t("play.finish_what_now", "de-x-ls") in easy


def test_the_leaderboard_page_ranks_the_teams_as_the_api_does(app, client, rally):
    slug, _id, stops, paths = rally
    api = app.test_client()
    new_team(api, slug, "<i>Slow</i>")
    new_team(api, slug, "Empty")
    joined(client, slug, paths)
    with app.app_context():
        ids = {t_.name: t_.id for t_ in db.session.scalars(select(models.Team))}
    finish_all(app, ids["<i>Slow</i>"], stops)
    finish_all(app, ids["Web Walkers"], stops[:2])
    response = client.get(f"/play/{slug}/leaderboard?lang=en")
    assert response.status_code == 200
    raw = response.get_data(as_text=True)
    assert "&lt;i&gt;Slow&lt;/i&gt;" in raw and "<i>Slow</i>" not in raw
    names = [page_name for page_name in re.findall(r'<span class="who">([^<]+)', raw)]
    board = api.get(f"{API}/rallies/{slug}/leaderboard").get_json()
    api_order = [e["team"] for e in board["entries"]]
    assert [html_name.strip() for html_name in map(_unescape, names)] == api_order
    assert api_order == ["<i>Slow</i>", "Web Walkers", "Empty"]
    assert 'aria-current="true"' in raw
    assert t("play.board_you", "en") in raw
    stranger = page(app.test_client().get(f"/play/{slug}/leaderboard"))
    assert t("play.board_you", "de") not in stranger
    empty = app.test_client().get("/play/no-such-rally/leaderboard")
    assert empty.status_code == 404


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_the_reveal_and_found_stops_show_the_marker_picture(app, client, rally):
    slug, _rally_id, stops, paths = rally
    name = "abcdefgh1234.png"
    with app.app_context():
        marker = db.session.get(models.Marker, stops[0].marker_id)
        marker.image = name
        db.session.commit()
        folder = app.config["MEDIA_DIR"]
    import os

    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(PNG_1X1)
    join(client, slug, paths[0], lang="en")
    reveal = client.get(paths[0], headers={"Accept-Language": "en"})
    alt = t("play.image_alt", "en", title=stops[0].story and _title(app, stops[0].marker_id))
    img = f'<img class="marker-image" src="/media/{name}" alt="{alt}">'
    assert img in page(reveal)
    assert img in page(client.get(f"/play/{slug}/team"))
    served = client.get(f"/media/{name}")
    assert served.status_code == 200 and served.data == PNG_1X1


def _title(app, marker_id: int) -> str:
    with app.app_context():
        return db.session.get(models.Marker, marker_id).text("title")["en"]


def test_curators_write_the_finish_text_with_an_audit_entry(make_app, demo):
    from server.auth import create_user

    app = make_app()
    _slug, rally_id = demo
    with app.app_context():
        anna = create_user("anna", "correct horse battery", models.Role.ADMIN)
        user_id = anna.id
    curator = staff_client(app, user_id)
    text = {
        "de": "Preis am Stand",
        "en": "Prize at the stand",
        "de-x-ls": "Der Preis ist am Stand.",
    }
    response = curator.patch(f"{API}/curator/rallies/{rally_id}", json={"finish_text": text})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["finish_text"] == text
    with app.app_context():
        assert db.session.get(models.Rally, rally_id).text("finish_text") == text
        entry = db.session.scalars(
            select(models.AuditEntry).filter_by(action="rally.update")
        ).all()[-1]
        assert "finish_text" in str(entry.detail)
    bad = curator.patch(
        f"{API}/curator/rallies/{rally_id}", json={"finish_text": {"de": "x\x00", "en": "y"}}
    )
    assert bad.status_code in (400, 422)
    huge = curator.patch(
        f"{API}/curator/rallies/{rally_id}", json={"finish_text": {"de": "x" * 10001, "en": "y"}}
    )
    assert huge.status_code == 422


def test_a_rally_file_carries_the_finish_text_into_the_database(app):
    from routes import rallyfile
    from server import seed
    from tests.routes.test_rallyfile import minimal

    data = {**minimal(), "slug": "mit-ziel"}
    data["finish_text"] = {"de": "Preis an der Kasse.", "en": "Prize at the till."}
    loaded = rallyfile.read_rally_file(data)
    assert loaded.rally.finish_text == data["finish_text"]
    assert rallyfile.dump_rally(loaded)["finish_text"] == data["finish_text"]
    assert rallyfile.read_rally_file(rallyfile.dump_rally(loaded)) == loaded
    with app.app_context():
        row = seed.import_rally(loaded, status=models.RallyStatus.PUBLISHED)
        db.session.commit()
        assert row.text("finish_text") == data["finish_text"]
        assert game.domain_rally(row).finish_text == data["finish_text"]
    with pytest.raises(rallyfile.RallyFileError, match="finish_text"):
        rallyfile.read_rally_file({**data, "finish_text": {"fr": "Prix"}})
