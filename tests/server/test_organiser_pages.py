"""The organiser pages: who may open them, what they show, and that every text is translated."""

from __future__ import annotations

import json
import re

import pytest

from server.i18n import catalogue
from tests.conftest import ROOT
from tests.server.helpers import bearer
from tests.server.organiser_helpers import ORG, ORG_API, ZEBRAS, login

JS_KEY = r'\bt\("(organiser\.[\w.]*\w)"'
PAGES = [
    "/",
    "/{slug}/",
    "/{slug}/live",
    "/{slug}/results",
    "/{slug}/export/qr?format=pdf",
    "/{slug}/export/route?format=gpx",
    "/{slug}/export/results",
]


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_and_players_are_sent_to_the_login(client, demo, page):
    slug, _ = demo
    url = ORG + page.format(slug=slug)
    resp = client.get(url)
    assert resp.status_code == 302
    assert "/login?next=" in resp.headers["Location"]
    token = client.post(f"/api/v1/rallies/{slug}/teams", json={"name": "Spieler"}).get_json()
    resp = client.get(url, headers=bearer(token["token"]))
    assert resp.status_code == 302


def test_curators_get_403_on_every_page(app, client, demo):
    slug, _ = demo
    login(client, app, "curator")
    for page in PAGES:
        resp = client.get(ORG + page.format(slug=slug))
        assert resp.status_code == 403, page
        assert "text/html" in resp.content_type
        assert "Traceback" not in resp.get_data(as_text=True)


def test_index_lists_every_rally(app, client, played):
    login(client, app)
    html = client.get(f"{ORG}/?lang=en").get_data(as_text=True)
    assert f'data-rally="{played.slug}"' in html
    assert "Art Caching Kaiserslautern" in html
    assert re.search(r'<td class="num">10</td>\s*<td class="num">3</td>', html)
    assert 'href="/organiser/"' in html and "running" in html


def test_rally_page_offers_downloads_and_close(app, client, played):
    login(client, app)
    html = client.get(f"{ORG}/{played.slug}/?lang=en").get_data(as_text=True)
    for fmt in ("pdf", "labels", "zip"):
        assert f"/organiser/{played.slug}/export/qr?format={fmt}" in html
    for fmt in ("gpx", "geojson"):
        assert f"/organiser/{played.slug}/export/route?format={fmt}" in html
    assert f"/organiser/{played.slug}/export/results?sep=;" in html
    assert f'data-url="/api/v1/organiser/rallies/{played.slug}/close"' in html
    assert 'id="purge-form"' not in html and "Possible once the event is closed." in html
    texts = json.loads(
        re.search(r'id="staff-texts" type="application/json">(.*?)</script>', html).group(1)
    )
    assert texts["organiser.rally.confirm_close"].startswith("Close the event now?")

    client.post(f"{ORG_API}/rallies/{played.slug}/close")
    html = client.get(f"{ORG}/{played.slug}/?lang=de").get_data(as_text=True)
    assert 'id="close-button"' not in html and "Beendet am" in html
    assert 'id="purge-form"' in html and "„art-caching-kaiserslautern“" in html

    client.post(f"{ORG_API}/rallies/{played.slug}/purge", json={"confirm": played.slug})
    html = client.get(f"{ORG}/{played.slug}/?lang=en").get_data(as_text=True)
    assert 'id="purge-form"' not in html and "Personal data purged on" in html
    assert "data purged" in html


def test_live_page(app, client, played):
    login(client, app, "admin")
    html = client.get(f"{ORG}/{played.slug}/live?lang=en").get_data(as_text=True)
    assert f'data-url="/api/v1/organiser/rallies/{played.slug}/live"' in html
    assert 'data-interval="5.0"' in html
    assert "/vendor/leaflet/leaflet.js" in html and "/static/organiser/live.js" in html
    assert "rounded to about 100 m" in html and "last 15 minutes" in html
    assert 'id="assist-dialog"' in html and 'id="rename-dialog"' in html
    assert ZEBRAS not in html  # names arrive through the API, as text, not as markup


def test_every_organiser_text_exists_in_both_languages():
    entries = {
        k: v
        for k, v in catalogue().items()
        if k.startswith("organiser.") or k.startswith("errors.")
    }
    for key, entry in entries.items():
        assert entry.get("de") and entry.get("en"), key
        assert set(re.findall(r"\{(\w+)\}", entry["de"])) == set(
            re.findall(r"\{(\w+)\}", entry["en"])
        ), key
    used = set()
    for path in (ROOT / "server" / "templates" / "organiser").glob("*.html"):
        used |= set(re.findall(r"t\('((?:organiser|errors|staff)\.[\w.]*\w)'", path.read_text()))
    for path in (ROOT / "server" / "static" / "organiser").glob("*.js"):
        used |= set(re.findall(JS_KEY, path.read_text()))
    from server.organiser.routes import JS_TEXTS

    used |= set(JS_TEXTS)
    missing = sorted(k for k in used if k not in catalogue())
    assert not missing, missing
    js = {
        k
        for p in (ROOT / "server" / "static" / "organiser").glob("*.js")
        for k in re.findall(JS_KEY, p.read_text())
    }
    assert len(js) > 20
    assert js <= set(JS_TEXTS), sorted(js - set(JS_TEXTS))


def test_the_staff_navigation_leads_organisers_here(app, client):
    login(client, app)
    resp = client.get("/login")
    assert resp.status_code in (200, 302)
    html = client.get(f"{ORG}/?lang=en").get_data(as_text=True)
    assert '<a href="/organiser/" aria-current="page">Organise</a>' in html
