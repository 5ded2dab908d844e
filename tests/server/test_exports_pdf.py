"""Printed QR fallbacks as PDF: posters and label sheets decode with a real decoder, name the
right stops, draw the code as vectors at the promised size, and embed the font."""

from __future__ import annotations

import ctypes
import functools
import re

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from fpdf.errors import FPDFException
from hypothesis import given, settings
from hypothesis import strategies as st

from markers import qr
from server import exports, game, models
from server.cli import export_qr
from server.exports import pdf
from server.extensions import db
from tests.server.organiser_helpers import (
    decode_all,
    login,
    pdf_pages,
    stop_order,
    verified_stops,
)

TITLE = "„Lange Nacht der Kultur“ – ‚Kunst‘ für Groß & Klein …"
STOP_TITLE = "Fruchthalle – „Gute Stube“ der Stadt"
PT_PER_MM = 72 / 25.4


@pytest.fixture
def rally(app, demo):
    """The demo rally with typographic quotes and umlauts in its title and in a stop's."""
    slug, rally_id = demo
    with app.app_context():
        row = db.session.get(models.Rally, rally_id)
        row.set_text("title", {"de": TITLE})
        row.stops[5].marker.set_text("title", {"de": STOP_TITLE})
        db.session.commit()
    return slug, rally_id


def download(app, rally_id: int, fmt: str) -> exports.Download:
    with app.app_context():
        return exports.qr_download(db.session.get(models.Rally, rally_id), fmt)


def fill_grey(obj) -> int:
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    pdfium_c.FPDFPageObj_GetFillColor(obj.raw, r, g, b, a)
    return r.value


def qr_blocks(page) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    """(white block incl. quiet zone, bounds of the dark modules) of each code on a page, in PDF
    points (left, bottom, right, top)."""
    paths = [
        (o.get_bounds(), fill_grey(o))
        for o in page.get_objects()
        if o.type == pdfium_c.FPDF_PAGEOBJ_PATH
    ]
    blocks = [
        b
        for b, grey in paths
        if grey == 255 and abs((b[2] - b[0]) - (b[3] - b[1])) < 0.5 and b[2] - b[0] > 50
    ]
    found = []
    for block in blocks:
        inside = [
            b
            for b, grey in paths
            if grey == 0
            and b[0] >= block[0] - 0.01
            and b[2] <= block[2] + 0.01
            and b[1] >= block[1] - 0.01
            and b[3] <= block[3] + 0.01
        ]
        modules = (
            min(b[0] for b in inside),
            min(b[1] for b in inside),
            max(b[2] for b in inside),
            max(b[3] for b in inside),
        )
        found.append((block, modules))
    return found


def test_posters_round_trip_through_a_real_decoder(app, rally):
    slug, rally_id = rally
    d = download(app, rally_id, "pdf")
    assert d.mimetype == "application/pdf" and d.filename == f"{slug}-qr-posters.pdf"
    pages = pdf_pages(d.data)
    assert len(pages) == 10
    urls = []
    for image in pages:
        codes = decode_all(image)
        assert len(codes) == 1, codes
        urls.append(codes[0][0])
    assert verified_stops(app, urls) == stop_order(app, rally_id)


def test_posters_draw_vector_codes_of_at_least_80_mm_with_a_white_quiet_zone(app, rally):
    _, rally_id = rally
    d = download(app, rally_id, "pdf")
    doc = pdfium.PdfDocument(d.data)
    with app.app_context():
        urls = [game.qr_url_for(rally_id, m) for _, m in stop_order(app, rally_id)]
    for i, page in enumerate(doc):
        kinds = {o.type for o in page.get_objects()}
        assert pdfium_c.FPDF_PAGEOBJ_IMAGE not in kinds
        assert pdfium_c.FPDF_PAGEOBJ_PATH in kinds
        ((block, modules),) = qr_blocks(page)
        size_mm = (modules[2] - modules[0]) / PT_PER_MM
        assert 80 <= size_mm <= 125, size_mm
        assert modules[3] - modules[1] == pytest.approx(modules[2] - modules[0], abs=0.1)
        n = len(qr.matrix(urls[i]))
        module = (modules[2] - modules[0]) / n
        for margin in (
            modules[0] - block[0],
            block[2] - modules[2],
            modules[1] - block[1],
            block[3] - modules[3],
        ):
            assert margin == pytest.approx(qr.QUIET_ZONE * module, rel=0.01)
        # Rendered, the quiet zone is white paper: nothing else is drawn into it.
        scale = 2.0
        image = page.render(scale=scale).to_pil().convert("L")
        height = page.get_height()
        box = [round(v * scale) for v in (block[0], height - block[3], block[2], height - block[1])]
        inner = [
            round(v * scale)
            for v in (modules[0], height - modules[3], modules[2], height - modules[1])
        ]
        ring = image.crop((box[0] + 2, box[1] + 2, box[2] - 2, inner[1] - 2))
        assert ring.getextrema()[0] >= 250
        ring = image.crop((box[0] + 2, inner[3] + 2, box[2] - 2, box[3] - 2))
        assert ring.getextrema()[0] >= 250
        ring = image.crop((box[0] + 2, box[1] + 2, inner[0] - 2, box[3] - 2))
        assert ring.getextrema()[0] >= 250


def test_posters_embed_the_font_and_print_german_text_and_quotes(app, rally):
    _, rally_id = rally
    data = download(app, rally_id, "pdf").data
    assert data.count(b"/FontFile2") == 3
    fonts = set(re.findall(rb"/BaseFont\s*/[A-Z]{6}\+(\S+)", data))
    assert fonts == {b"DejaVuSansBook", b"DejaVuSansBold", b"DejaVuSansMonoBook"}
    doc = pdfium.PdfDocument(data)
    texts = [" ".join(page.get_textpage().get_text_range().split()) for page in doc]
    assert all(TITLE in text for text in texts)
    assert STOP_TITLE in texts[5]
    assert "Station 6 · Stop 6" in texts[5]
    assert "Handykamera" in texts[0] and "phone’s camera" in texts[0]
    assert "artcaching.example.org/play/art-caching-kaiserslautern" in texts[0]
    assert "/q/" not in texts[0]
    assert "Schlüssel/key 1" in texts[0]


def test_label_sheet_round_trip(app, rally):
    slug, rally_id = rally
    d = download(app, rally_id, "labels")
    assert d.filename == f"{slug}-qr-labels.pdf"
    (image,) = pdf_pages(d.data)
    codes = decode_all(image)
    assert len(codes) == 10
    assert verified_stops(app, [c[0] for c in codes]) == stop_order(app, rally_id)
    page = pdfium.PdfDocument(d.data)[0]
    assert pdfium_c.FPDF_PAGEOBJ_IMAGE not in {o.type for o in page.get_objects()}
    blocks = qr_blocks(page)
    assert len(blocks) == 10
    for _, modules in blocks:
        assert (modules[2] - modules[0]) / PT_PER_MM >= 40
    text = " ".join(page.get_textpage().get_text_range().split())
    assert "6 · Fruchthalle – „Gute Stube“" in text


def _more_stops(app, rally_id: int, extra: int) -> None:
    with app.app_context():
        row = db.session.get(models.Rally, rally_id)
        last = row.stops[-1].marker
        for k in range(extra):
            marker = models.Marker(
                lat=last.lat + 0.001 * (k + 1),
                lon=last.lon,
                radius_m=20,
                title={"de": f"Zusatz {k + 1}", "en": f"Extra {k + 1}"},
            )
            row.stops.append(models.RallyStop(marker=marker, position=len(row.stops)))
        db.session.commit()


def test_label_sheets_continue_on_the_next_page(app, rally):
    _, rally_id = rally
    _more_stops(app, rally_id, 4)
    pages = pdf_pages(download(app, rally_id, "labels").data)
    assert len(pages) == 2
    codes = [decode_all(image) for image in pages]
    assert [len(c) for c in codes] == [12, 2]
    urls = [c[0] for page in codes for c in page]
    assert verified_stops(app, urls) == stop_order(app, rally_id)


def test_codes_are_signed_with_the_current_key(app, rally):
    _, rally_id = rally
    with app.app_context():
        game.save_keyring(game.keyring().rotate())
    (image, *_) = pdf_pages(download(app, rally_id, "pdf").data)
    ((text, *_),) = decode_all(image)
    assert verified_stops(app, [text]) == stop_order(app, rally_id)[:1]
    page = pdfium.PdfDocument(download(app, rally_id, "pdf").data)[0]
    assert "Schlüssel/key 2" in page.get_textpage().get_text_range()


def test_a_rally_without_stops_has_no_codes(app):
    with app.app_context():
        row = models.Rally(slug="leer", status=models.RallyStatus.DRAFT)
        db.session.add(row)
        db.session.commit()
        with pytest.raises(exports.ExportError) as caught:
            exports.qr_download(row, "pdf")
        assert caught.value.code == "rally_has_no_stops"
        with pytest.raises(exports.ExportError):
            exports.qr_download(row, "png")


def test_web_download_for_organisers(app, client, rally):
    slug, _rally_id = rally
    url = f"/organiser/{slug}/export/qr?format=labels"
    assert client.get(url).status_code == 302
    login(client, app)
    resp = client.get(url)
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"] == f"attachment; filename={slug}-qr-labels.pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    (image,) = pdf_pages(resp.data)
    assert len(decode_all(image)) == 10


def test_cli_writes_posters_with_a_progress_bar(app, runner, rally, tmp_path):
    slug, rally_id = rally
    out = tmp_path / "plakate.pdf"
    result = runner.invoke(export_qr, [slug, "--format", "pdf", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"10 codes of '{slug}' written to {out}" in result.output
    assert f"pdf: {slug}" in result.output
    pages = pdf_pages(out.read_bytes(), scale=1.5)
    assert verified_stops(app, [decode_all(p)[0][0] for p in pages]) == stop_order(app, rally_id)
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_writes_to_standard_output(runner, rally):
    slug, _ = rally
    result = runner.invoke(export_qr, [slug, "--format", "labels", "-o", "-"])
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "-o", "{tmp}/x.pdf"], "no rally 'nope' (there are: art-caching-kaiserslautern)"),
        (["{slug}", "-o", "{tmp}/missing/x.pdf"], "the folder"),
        (["{slug}", "-o", "{tmp}"], "it is a folder"),
        (["{slug}", "--format", "png", "-o", "{tmp}/x.png"], "'png' is not one of"),
        (["{slug}"], "Missing option '-o'"),
    ],
)
def test_cli_errors_are_clear(runner, rally, tmp_path, args, message):
    slug, _ = rally
    args = [a.format(slug=slug, tmp=tmp_path) for a in args]
    result = runner.invoke(export_qr, args)
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    assert message in result.output
    assert not list(tmp_path.glob("*.pdf"))


def test_long_titles_and_a_long_base_url_shrink_the_text_not_the_code(make_app, demo):
    base = "https://rallye.kulturnacht-kaiserslautern.example.org/art-caching"
    app = make_app(PUBLIC_BASE_URL=base)
    _, rally_id = demo
    long_title = "Überlange Überschrift „mit Anführungszeichen“ – " * 4
    with app.app_context():
        row = db.session.get(models.Rally, rally_id)
        row.set_text("title", {"de": long_title[:200]})
        row.stops[0].marker.set_text("title", {"de": long_title[:200]})
        db.session.commit()
        url = game.qr_url_for(rally_id, row.stops[0].marker_id)
    assert qr.version(url) >= 5
    posters = download(app, rally_id, "pdf").data
    page = pdfium.PdfDocument(posters)[0]
    ((_, modules),) = qr_blocks(page)
    assert (modules[2] - modules[0]) / PT_PER_MM >= 80
    text = page.get_textpage().get_text_range()
    assert "…" in text
    (image, *_) = pdf_pages(posters)
    assert verified_stops(app, [decode_all(image)[0][0]]) == stop_order(app, rally_id)[:1]
    labels = download(app, rally_id, "labels").data
    (image,) = pdf_pages(labels)
    codes = decode_all(image)
    assert verified_stops(app, [c[0] for c in codes]) == stop_order(app, rally_id)
    for _, modules in qr_blocks(pdfium.PdfDocument(labels)[0]):
        assert (modules[2] - modules[0]) / PT_PER_MM >= 40


def pdf_text(data: bytes, tmp_path) -> list[str]:
    """The text of each page as poppler's pdftotext reads it (what a copy from a viewer gives)."""
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("poppler's pdftotext is not installed (make test installs it as root)")
    source = tmp_path / "in.pdf"
    source.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", "-layout", str(source), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return out.split("\f")[:-1]


def short_codes(app, rally_id: int) -> list[str]:
    """The printed short codes (KM7-4QX) in stop order."""
    from markers import shortcodes

    with app.app_context():
        return [shortcodes.display(s.code) for s in db.session.get(models.Rally, rally_id).stops]


def test_posters_print_the_short_code_unbroken_under_the_code(app, rally, tmp_path):
    _, rally_id = rally
    data = download(app, rally_id, "pdf").data
    codes = short_codes(app, rally_id)
    pages = pdf_text(data, tmp_path)
    assert len(pages) == len(codes)
    for text, code in zip(pages, codes, strict=True):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        assert code in lines, (code, lines)
        assert sum(code in line for line in lines) == 1
    doc = pdfium.PdfDocument(data)
    for page, code in zip(doc, codes, strict=True):
        ((block, _),) = qr_blocks(page)
        found = page.get_textpage().search(code).get_next()
        assert found is not None, code
        _, _, _, top = page.get_textpage().get_charbox(found[0])
        assert top <= block[1] + 1, "the short code stands under the QR code"
        assert top > block[1] - 30 * PT_PER_MM, "and close to it"


def test_posters_carry_one_title_and_technical_data_small_at_the_bottom(app, rally, tmp_path):
    slug, rally_id = rally
    data = download(app, rally_id, "pdf").data
    text = pdf_text(data, tmp_path)[5]
    assert text.count("Lange Nacht der Kultur") == 1
    assert text.count("Fruchthalle") == 2  # the stop and its venue, which names it differently
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[-1] == f"{slug} · 6/10 · Schlüssel/key 1 · {lines[-1][-10:]}"
    page = pdfium.PdfDocument(data)[5]
    tp = page.get_textpage()
    found = tp.search(f"{slug} · 6/10").get_next()
    _, bottom, _, top = tp.get_charbox(found[0])
    assert top < 12 * PT_PER_MM
    assert top - bottom < 5  # glyphs of a 6.5 pt font


def test_label_sheets_print_each_short_code_on_one_line(app, rally, tmp_path):
    _, rally_id = rally
    _more_stops(app, rally_id, 4)
    codes = short_codes(app, rally_id)
    pages = pdf_text(download(app, rally_id, "labels").data, tmp_path)
    assert len(pages) == 2
    words = {w for text in pages for w in text.split()}
    assert set(codes) <= words
    raw = pdf_text(download(app, rally_id, "labels").data, tmp_path)
    assert all("/q/" not in text for text in raw)
    for code in codes:
        assert re.fullmatch(r"[0-9A-Z]{3}-[0-9A-Z]{3}", code)


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        st.sampled_from([*"abcdefghij ÄÖÜß„“–…-.,0123", " ", "\n", "\u00ad", "\u00a0", "\t"]),
        max_size=80,
    ),
    st.floats(4, 180),
    st.sampled_from(sorted(pdf.FONTS)),
    st.sampled_from([6.5, 9, 12, 14, 22, 40]),
)
def test_text_breaks_as_fpdf2s_multi_cell_breaks_it(text, width, font, size):
    """The posters fit text on cached widths, without multi_cell's dry runs: the same lines."""
    document = _document()
    try:
        ours: list[str] | str = document.wrap(text, width, *font, size)
    except ValueError:
        ours = "no room for one character"
    document.set_font(*font, size)
    try:
        theirs = document.multi_cell(width, text=text, dry_run=True, output="LINES")
    except FPDFException:
        theirs = "no room for one character"
    assert ours == theirs


@functools.cache
def _document() -> pdf.Document:
    document = pdf.new_document("wrap")
    document.add_page()
    return document
