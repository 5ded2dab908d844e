"""The start poster: the rally's join QR (its web join at /play/<slug>) with the title, intro and
short rules in German and English, from the command line and the organiser page; room for a
second code beside it."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from server import exports, models
from server.cli import export_qr
from server.exports import pdf
from server.extensions import db
from tests.server.organiser_helpers import decode_all, login, pdf_pages
from tests.server.test_exports_pdf import PT_PER_MM, pdf_text, qr_blocks

BASE = "https://artcaching.example.org"


def start_pdf(app, rally_id: int) -> exports.Download:
    with app.app_context():
        return exports.qr_download(db.session.get(models.Rally, rally_id), "start")


def page_text(data: bytes) -> str:
    """The page's text in the order it was written (the rules' columns one after the other)."""
    return " ".join(pdfium.PdfDocument(data)[0].get_textpage().get_text_range().split())


def test_the_start_poster_holds_the_join_code_title_intro_and_rules(app, demo, tmp_path):
    slug, rally_id = demo
    d = start_pdf(app, rally_id)
    assert d.mimetype == "application/pdf" and d.filename == f"{slug}-start-poster.pdf"
    (image,) = pdf_pages(d.data)
    assert [c[0] for c in decode_all(image)] == [f"{BASE}/play/{slug}"]
    (text,) = pdf_text(d.data, tmp_path)
    assert "Art Caching Kaiserslautern" in text
    flat = page_text(d.data)
    assert "Art Caching Kaiserslautern" in flat
    assert "Willkommen bei Art Caching Kaiserslautern!" in flat
    assert "Welcome to Art Caching Kaiserslautern!" in flat
    assert "So geht’s" in flat and "How to play" in flat
    assert "No app needed." in flat and "Eine App braucht ihr nicht." in flat
    assert "stops come one after another" in flat
    assert "Mitspielen · Join the game" in flat
    assert f"artcaching.example.org/play/{slug}" in flat
    ((_, modules),) = qr_blocks(pdfium.PdfDocument(d.data)[0])
    assert (modules[2] - modules[0]) / PT_PER_MM >= pdf.START_QR_MIN_MM


def test_free_order_rules_and_a_long_intro(app, demo):
    _, rally_id = demo
    with app.app_context():
        row = db.session.get(models.Rally, rally_id)
        row.order_mode = "free"
        row.set_text("intro", {"de": "Sehr lange Einführung. " * 80, "en": "Long intro. " * 90})
        db.session.commit()
    d = start_pdf(app, rally_id)
    flat = page_text(d.data)
    assert "in any order you like" in flat and "in beliebiger Reihenfolge" in flat
    assert "…" in flat
    (image,) = pdf_pages(d.data)
    assert len(decode_all(image)) == 1


def test_a_second_code_fits_beside_the_join_code(app, demo):
    """Room for issue 15's Wi-Fi code: the poster takes a list of (payload, caption)."""
    _, rally_id = demo
    wifi = "WIFI:T:WPA;S:Kulturnacht;P:kunst2026;;"
    with app.app_context():
        sheet = exports.start_sheet(
            db.session.get(models.Rally, rally_id),
            more=((wifi, "WLAN · Wi-Fi\nKulturnacht / kunst2026"),),
        )
        data = pdf.start_poster(sheet)
    (image,) = pdf_pages(data)
    codes = decode_all(image)
    assert [c[0] for c in codes] == [sheet.codes[0][0], wifi]
    text = pdfium.PdfDocument(data)[0].get_textpage().get_text_range()
    assert "Kulturnacht / kunst2026" in text


def test_a_draft_without_stops_still_gets_its_start_poster(app):
    with app.app_context():
        row = models.Rally(slug="leer", status=models.RallyStatus.DRAFT)
        row.set_text("title", {"de": "Leere Runde", "en": "Empty round"})
        db.session.add(row)
        db.session.commit()
        data = exports.qr_download(row, "start").data
    (image,) = pdf_pages(data)
    assert decode_all(image)[0][0] == f"{BASE}/play/leer"
    text = pdfium.PdfDocument(data)[0].get_textpage().get_text_range()
    assert "Leere Runde" in text and "Empty round" in text


def test_start_poster_from_the_command_line(app, runner, demo, tmp_path):
    slug, _ = demo
    out = tmp_path / "start.pdf"
    result = runner.invoke(export_qr, [slug, "--format", "start", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"start poster of '{slug}' written to {out}" in result.output
    (image,) = pdf_pages(out.read_bytes())
    assert decode_all(image)[0][0] == f"{BASE}/play/{slug}"


def test_start_poster_from_the_organiser_page(app, client, demo):
    slug, _ = demo
    url = f"/organiser/{slug}/export/qr?format=start"
    assert client.get(url).status_code == 302
    login(client, app)
    page = client.get(f"/organiser/{slug}/").get_data(as_text=True)
    assert f'href="{url}"' in page
    resp = client.get(url)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert f"filename={slug}-start-poster.pdf" in resp.headers["Content-Disposition"]
    (image,) = pdf_pages(resp.data)
    assert decode_all(image)[0][0] == f"{BASE}/play/{slug}"


@pytest.mark.parametrize("fmt", ["png", "START", "start\x00"])
def test_unknown_formats_are_refused_with_a_message(app, client, demo, fmt):
    slug, _ = demo
    login(client, app)
    resp = client.get(f"/organiser/{slug}/export/qr", query_string={"format": fmt})
    assert resp.status_code in (302, 400), resp.status_code
    assert resp.status_code != 500
