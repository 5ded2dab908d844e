"""Printed QR fallbacks as PDF: an A4 poster per stop and label sheets of 3 x 4 stickers.

Codes are vector rectangles (one per run of dark modules), so they stay sharp at any size; the
quiet zone of four modules stays white. Text uses the embedded DejaVu fonts (assets/fonts), so
umlauts and typographic quotes print as written.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
from importlib import resources
from pathlib import Path

from fpdf import FPDF

import assets
from markers import qr
from routes.model import Text, pick
from server.exports.base import ExportError, Progress, QrItem, QrSheet
from server.i18n import t

FONTS = {
    ("Sans", ""): "DejaVuSans.ttf",
    ("Sans", "B"): "DejaVuSans-Bold.ttf",
    ("Mono", ""): "DejaVuSansMono.ttf",
}
PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 15.0
PT_MM = 25.4 / 72
POSTER_QR_MAX_MM = 120.0
POSTER_QR_MIN_MM = 80.0
LABEL_COLUMNS, LABEL_ROWS = 3, 4
LABEL_QR_MAX_MM = 42.0
LABEL_QR_MIN_MM = 40.0
GREY = 85
BLACK = 0


_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


@functools.cache
def font_file(name: str) -> Path:
    """A font of assets/fonts as a file on disk, as fpdf2 reads it lazily for a document's life."""
    return _extracted.enter_context(resources.as_file(assets.files() / "fonts" / name))


def new_document(title: str) -> FPDF:
    """An A4 document with the fonts embedded and no automatic page breaks."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    for (family, style), name in FONTS.items():
        pdf.add_font(family, style, font_file(name))
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_title(title)
    pdf.set_author("Art Caching")
    pdf.set_creator("Art Caching")
    pdf.set_lang("de")
    return pdf


def qr_block_size(data: str, modules_mm: float) -> tuple[list[list[bool]], float]:
    """The code's matrix and the side of the whole block (modules plus quiet zone) in mm."""
    matrix = qr.matrix(data)
    return matrix, modules_mm * (len(matrix) + 2 * qr.QUIET_ZONE) / len(matrix)


def draw_qr(pdf: FPDF, matrix: list[list[bool]], x: float, y: float, side_mm: float) -> None:
    """Draw the code with its quiet zone as a white square of side side_mm at (x, y)."""
    units = len(matrix) + 2 * qr.QUIET_ZONE
    module = side_mm / units
    pdf.set_fill_color(255)
    pdf.rect(x, y, side_mm, side_mm, style="F")
    pdf.set_fill_color(BLACK)
    origin_x = x + qr.QUIET_ZONE * module
    origin_y = y + qr.QUIET_ZONE * module
    for mx, my, w, h in qr.rectangles(matrix):
        pdf.rect(origin_x + mx * module, origin_y + my * module, w * module, h * module, style="F")


def _line_height(size: float) -> float:
    return size * PT_MM * 1.25


def _fit(
    pdf: FPDF,
    text: str,
    width: float,
    max_lines: int,
    size: float,
    min_size: float,
    family: str = "Sans",
    style: str = "",
) -> tuple[list[str], float]:
    """The lines of text at the largest size from size down to min_size that needs at most
    max_lines; still too long at min_size, the last line ends in an ellipsis."""
    while True:
        pdf.set_font(family, style, size)
        lines = pdf.multi_cell(width, text=text, dry_run=True, output="LINES")
        if len(lines) <= max_lines or size <= min_size:
            break
        size -= 1
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1].rstrip()
        while last and pdf.get_string_width(last + "…") > width:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
    return lines, size


def _write(
    pdf: FPDF,
    lines: list[str],
    x: float,
    y: float,
    width: float,
    size: float,
    family: str = "Sans",
    style: str = "",
    grey: int = BLACK,
) -> float:
    """Write the lines centred; the y below them."""
    pdf.set_font(family, style, size)
    pdf.set_text_color(grey)
    for line in lines:
        pdf.set_xy(x, y)
        pdf.cell(width, _line_height(size), line, align="C")
        y += _line_height(size)
    return y


def _text(
    pdf: FPDF,
    text: str,
    y: float,
    size: float,
    *,
    max_lines: int = 1,
    min_size: float | None = None,
    style: str = "",
    family: str = "Sans",
    grey: int = BLACK,
    x: float = MARGIN,
    width: float = PAGE_W - 2 * MARGIN,
) -> float:
    if not text:
        return y
    lines, size = _fit(pdf, text, width, max_lines, size, min_size or size, family, style)
    return _write(pdf, lines, x, y, width, size, family, style, grey)


def _both(text: Text) -> tuple[str, str]:
    """German and English of a Text, English empty when it says the same."""
    de, en = pick(text, "de"), pick(text, "en")
    return de, "" if en == de else en


def _display_url(url: str) -> str:
    return url.split("://", 1)[-1]


def posters(sheet: QrSheet, progress: Progress | None = None) -> bytes:
    """One A4 page per stop: rally title, stop number and name, the code, how to scan it (German
    and English), the address to type, and a footer with the key and the print date."""
    pdf = new_document(pick(sheet.title, "de"))
    pdf.set_creation_date(sheet.printed_at)
    for item in sheet.items:
        _poster(pdf, sheet, item)
        if progress:
            progress(1)
    return bytes(pdf.output())


def _poster(pdf: FPDF, sheet: QrSheet, item: QrItem) -> None:
    pdf.add_page()
    title_de, title_en = _both(sheet.title)
    y = _text(pdf, title_de, MARGIN, 24, max_lines=2, min_size=16, style="B")
    y = _text(pdf, title_en, y, 14, min_size=10, grey=GREY)
    y += 5
    stop = (
        f"{t('organiser.pdf.stop', 'de', n=item.number)} · "
        f"{t('organiser.pdf.stop', 'en', n=item.number)}"
    )
    y = _text(pdf, stop, y, 30, style="B")
    name_de, name_en = _both(item.title)
    name_de = name_de or item.venue or ""
    y = _text(pdf, name_de, y + 1, 20, max_lines=2, min_size=13, style="B")
    y = _text(pdf, name_en, y, 14, min_size=10, grey=GREY)
    if item.venue and item.venue not in (name_de, name_en):
        y = _text(pdf, item.venue, y, 12, min_size=9, grey=GREY)

    footer_y = PAGE_H - 12
    url_y = footer_y - 12
    hint_y = url_y - 2 * _line_height(10) - 2
    scan_y = hint_y - 4 * _line_height(14) - 4
    available = scan_y - 5 - (y + 5)
    matrix, side = qr_block_size(item.url, POSTER_QR_MAX_MM)
    if side > available:
        side = available
    modules_mm = side * len(matrix) / (len(matrix) + 2 * qr.QUIET_ZONE)
    if modules_mm < POSTER_QR_MIN_MM:
        raise ExportError("poster_too_full", stop=item.number)
    draw_qr(pdf, matrix, (PAGE_W - side) / 2, y + 5 + (available - side) / 2, side)

    y = _text(pdf, t("organiser.pdf.scan", "de"), scan_y, 14, max_lines=2, min_size=11, style="B")
    _text(pdf, t("organiser.pdf.scan", "en"), y, 14, max_lines=2, min_size=11)
    y = _text(pdf, t("organiser.pdf.type", "de"), hint_y, 10, min_size=8, grey=GREY)
    _text(pdf, t("organiser.pdf.type", "en"), y, 10, min_size=8, grey=GREY)
    _text(pdf, _display_url(item.url), url_y, 14, min_size=7, family="Mono")
    footer = (
        f"{sheet.slug} · {item.number}/{len(sheet.items)} · "
        f"{t('organiser.pdf.key', 'de')}/{t('organiser.pdf.key', 'en')} {sheet.key_id} · "
        f"{sheet.printed_at:%Y-%m-%d}"
    )
    _text(pdf, footer, footer_y, 8, min_size=6, grey=GREY)


def labels(sheet: QrSheet, progress: Progress | None = None) -> bytes:
    """Sheets of 3 x 4 stickers (70 x 74.25 mm, no page margin) with cut guides: the stop number
    and name, the code (at least 40 mm) and the address without its scheme."""
    pdf = new_document(pick(sheet.title, "de"))
    pdf.set_creation_date(sheet.printed_at)
    per_page = LABEL_COLUMNS * LABEL_ROWS
    cell_w, cell_h = PAGE_W / LABEL_COLUMNS, PAGE_H / LABEL_ROWS
    for i, item in enumerate(sheet.items):
        if i % per_page == 0:
            pdf.add_page()
            _cut_guides(pdf, cell_w, cell_h)
        col, row = i % LABEL_COLUMNS, (i % per_page) // LABEL_COLUMNS
        _label(pdf, item, col * cell_w, row * cell_h, cell_w, cell_h)
        if progress:
            progress(1)
    return bytes(pdf.output())


def _cut_guides(pdf: FPDF, cell_w: float, cell_h: float) -> None:
    pdf.set_draw_color(190)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=1.5, gap=1.5)
    for c in range(1, LABEL_COLUMNS):
        pdf.line(c * cell_w, 0, c * cell_w, PAGE_H)
    for r in range(1, LABEL_ROWS):
        pdf.line(0, r * cell_h, PAGE_W, r * cell_h)
    pdf.set_dash_pattern()


def _label(pdf: FPDF, item: QrItem, x: float, y: float, w: float, h: float) -> None:
    inner = w - 8
    top = y + 3.5
    text = f"{item.number} · {item.name('de')}"
    _text(pdf, text, top, 9, min_size=7, style="B", x=x + 4, width=inner)
    qr_top = top + _line_height(9) + 1.5
    pdf.set_font("Mono", "", 6)
    url_lines = pdf.multi_cell(
        inner, text=_display_url(item.url), dry_run=True, output="LINES", wrapmode="CHAR"
    )
    available = y + h - 2 - len(url_lines) * _line_height(6) - 0.5 - qr_top
    matrix, side = qr_block_size(item.url, LABEL_QR_MAX_MM)
    side = min(side, available, inner)
    modules_mm = side * len(matrix) / (len(matrix) + 2 * qr.QUIET_ZONE)
    if modules_mm < LABEL_QR_MIN_MM:
        raise ExportError("label_too_small", stop=item.number)
    draw_qr(pdf, matrix, x + (w - side) / 2, qr_top, side)
    _write(pdf, url_lines, x + 4, qr_top + side + 0.5, inner, 6, family="Mono")
