"""Printed QR fallbacks as PDF: an A4 poster per stop, label sheets of 3 x 4 stickers, and the
start poster with the rally's join code.

Codes are vector rectangles (runs of dark modules, one filled path per code), so they stay sharp
at any size; the quiet zone of four modules stays white. Text uses the embedded DejaVu fonts
(assets/fonts), so umlauts and typographic quotes print as written; it is fitted by fpdf2's line
breaking rules on widths measured once per character (Document), without multi_cell dry runs.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
from importlib import resources
from pathlib import Path

from fpdf import FPDF
from fpdf.line_break import BREAKING_SPACE_SYMBOLS_STR, NBSP, SOFT_HYPHEN
from fpdf.util import FloatTolerance
from PIL import Image

import assets
from markers import qr
from routes.model import Text, pick
from server.exports.base import ExportError, Look, Progress, QrItem, QrSheet, StartSheet
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
WHITE = 255
BAND_MM = 24.0
LOGO_MAX_MM = (40.0, 16.0)
START_QR_MIN_MM = 45.0
START_QR_MAX_MM = 95.0
START_QR_MAX_VERSION = 11
"""Holds the longest Wi-Fi code (a 32-byte name and a 63-character password, all escaped)."""
Colour = tuple[int, int, int]
LABEL_CODE_PT = 12.0
RULE_KEYS = (
    "organiser.start.rule_join",
    "organiser.start.rule_walk_{mode}",
    "organiser.start.rule_stop",
    "organiser.start.rule_finish",
)
RULE_PT = 10.5
WIFI_RULE_KEY = "box.start.rule_wifi"


BREAKING_SPACES = frozenset(BREAKING_SPACE_SYMBOLS_STR)
"""Where fpdf2 breaks a line."""

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


@functools.cache
def font_file(name: str) -> Path:
    """A font of assets/fonts as a file on disk, as fpdf2 reads it lazily for a document's life."""
    return _extracted.enter_context(resources.as_file(assets.files() / "fonts" / name))


class Document(FPDF):
    """An FPDF that measures text with a table of character widths, each character measured
    once per font, and breaks lines as fpdf2's multi_cell does without its dry runs."""

    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._units: dict[tuple[str, str], dict[str, float]] = {}
        self._wrapped: dict[tuple[str, float, str, str, float], list[str]] = {}

    def _unit_widths(self, text: str, family: str, style: str) -> dict[str, float]:
        """The widths (mm at 1 pt) of text's characters and of every one measured before in
        this font; selects the font."""
        units = self._units.setdefault((family, style), {})
        new = set(text).difference(units)
        if new:
            self.set_font(family, style, 1)
            for ch in new:
                units[ch] = self.get_string_width(ch)
        return units

    def text_width(self, text: str, family: str, style: str, size: float) -> float:
        """The width of text in mm at size pt (get_string_width's answer)."""
        units = self._unit_widths(text, family, style)
        return sum(units[ch] for ch in text) * size

    def wrap(self, text: str, width: float, family: str, style: str, size: float) -> list[str]:
        """The lines multi_cell(width) prints: broken at every newline, else at the last space
        (or soft hyphen) that fits, inside a word only when it fills a line alone."""
        key = (text, width, family, style, size)
        lines = self._wrapped.get(key)
        if lines is None:
            text = text.replace("\r", "")
            units = self._unit_widths(text + "-", family, style)
            widths = {ch: w * size for ch, w in units.items()}
            lines = self._wrapped[key] = [
                line.replace(SOFT_HYPHEN, "").replace(NBSP, " ")
                for line in _break(text, widths, width - 2 * self.c_margin)
            ]
        return lines


def _break(text: str, widths: dict[str, float], limit: float) -> list[str]:
    """The lines of text no wider than limit, as fpdf2's MultiLineBreak breaks them."""
    lines: list[str] = []
    start = i = 0
    used = 0.0
    space: tuple[int, float] | None = None  # (index, width before it) of the last space
    hyphen: tuple[int, float] | None = None  # the same of the last soft hyphen
    forced: int | None = None
    while i < len(text):
        ch = text[i]
        if ch in "\n\f":
            lines.append(text[start:i])
            i, forced = i + 1, None
        else:
            width = widths["-" if ch == SOFT_HYPHEN else ch]
            if used + width <= limit + FloatTolerance.TOLERANCE:
                if ch in BREAKING_SPACES:
                    space = (i, used)
                elif ch == SOFT_HYPHEN:
                    hyphen, width = (i, used), 0.0
                used += width
                i += 1
                continue
            last_forced, forced = forced, None
            if ch in BREAKING_SPACES:
                lines.append(text[start:i])
                i += 1
            elif hyphen is not None and (space is None or hyphen[1] > space[1]):
                lines.append(text[start : hyphen[0]] + "-")
                i = hyphen[0] + 1
            elif space is not None:
                lines.append(text[start : space[0]])
                i = space[0] + 1
            elif last_forced == i:
                raise ValueError("not enough horizontal space to print a single character")
            else:
                lines.append(text[start:i])
                forced = i
        start, used, space, hyphen = i, 0.0, None, None
    if used:
        lines.append(text[start:])
    return lines or [""]


def new_document(title: str) -> Document:
    """An A4 document with the fonts embedded and no automatic page breaks."""
    pdf = Document()
    for (family, style), name in FONTS.items():
        pdf.add_font(family, style, font_file(name))
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_title(title)
    pdf.set_author("Art Caching")
    pdf.set_creator("Art Caching")
    pdf.set_lang("de")
    return pdf


def qr_block_size(
    data: str, modules_mm: float, max_version: int = 6
) -> tuple[list[list[bool]], float]:
    """The code's matrix and the side of the whole block (modules plus quiet zone) in mm."""
    matrix = qr.matrix(data, max_version)
    return matrix, modules_mm * (len(matrix) + 2 * qr.QUIET_ZONE) / len(matrix)


def draw_qr(pdf: FPDF, matrix: list[list[bool]], x: float, y: float, side_mm: float) -> None:
    """Draw the code with its quiet zone as a white square of side side_mm at (x, y): the dark
    modules as one filled path of rectangles (runs along the rows, merged down the columns)."""
    units = len(matrix) + 2 * qr.QUIET_ZONE
    module = side_mm / units
    pdf.set_fill_color(255)
    pdf.rect(x, y, side_mm, side_mm, style="F")
    pdf.set_fill_color(BLACK)
    k = pdf.k  # points per mm; PDF's y axis points up from the page's bottom edge
    step = module * k
    left = (x + qr.QUIET_ZONE * module) * k
    top = (pdf.h - y - qr.QUIET_ZONE * module) * k
    path = " ".join(
        f"{left + mx * step:.2f} {top - my * step:.2f} {w * step:.2f} {-h * step:.2f} re"
        for mx, my, w, h in qr.rectangles(matrix)
    )
    pdf._out(f"{path} f")  # fpdf2's rect() writes one path per rectangle; this, one per code


def _line_height(size: float) -> float:
    return size * PT_MM * 1.25


def _fit(
    pdf: Document,
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
        lines = pdf.wrap(text, width, family, style, size)
        if len(lines) <= max_lines or size <= min_size:
            break
        size -= 1
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1].rstrip()
        while last and pdf.text_width(last + "…", family, style, size) > width:
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
    grey: int | Colour = BLACK,
    align: str = "C",
) -> float:
    """Write the lines centred, or as align says (grey: a grey level or an RGB colour); the y
    below them."""
    pdf.set_font(family, style, size)
    if isinstance(grey, tuple):
        pdf.set_text_color(*grey)
    else:
        pdf.set_text_color(grey)
    for line in lines:
        pdf.set_xy(x, y)
        pdf.cell(width, _line_height(size), line, align=align)
        y += _line_height(size)
    return y


def _text(
    pdf: Document,
    text: str,
    y: float,
    size: float,
    *,
    max_lines: int = 1,
    min_size: float | None = None,
    style: str = "",
    family: str = "Sans",
    grey: int | Colour = BLACK,
    x: float = MARGIN,
    width: float = PAGE_W - 2 * MARGIN,
    align: str = "C",
) -> float:
    if not text:
        return y
    lines, size = _fit(pdf, text, width, max_lines, size, min_size or size, family, style)
    return _write(pdf, lines, x, y, width, size, family, style, grey, align)


def _both(text: Text) -> tuple[str, str]:
    """German and English of a Text, English empty when it says the same."""
    de, en = pick(text, "de"), pick(text, "en")
    return de, "" if en == de else en


def _rgb(colour: str | None) -> Colour | None:
    """'#1f6feb' -> (31, 111, 235); None for no colour."""
    if not colour:
        return None
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _luminance(rgb: Colour) -> float:
    """The relative luminance of WCAG 2.1."""

    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: Colour, b: Colour) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def on_colour(rgb: Colour) -> Colour:
    """Black or white, whichever reads better on rgb."""
    white, black = (WHITE,) * 3, (BLACK,) * 3
    return white if _contrast(rgb, white) >= _contrast(rgb, black) else black


def accent(look: Look | None) -> Colour:
    """The event colour for text on white paper, black when it is too light to read (< 4.5:1)."""
    rgb = _rgb(look.colour if look else None)
    if rgb is None or _contrast(rgb, (WHITE,) * 3) < 4.5:
        return (BLACK,) * 3
    return rgb


def _header(pdf: Document, look: Look | None, title: str) -> float:
    """The event band at the top: the colour (if any), the logo at the left, the title; the y
    below it."""
    rgb = _rgb(look.colour if look else None)
    logo = look.logo if look else None
    text_colour: Colour | int = GREY
    if rgb is not None:
        pdf.set_fill_color(*rgb)
        pdf.rect(0, 0, PAGE_W, BAND_MM, style="F")
        text_colour = on_colour(rgb)
    x, width = MARGIN, PAGE_W - 2 * MARGIN
    if logo is not None:
        w, h = _logo_box(logo)
        pdf.image(str(logo), x=MARGIN, y=(BAND_MM - h) / 2, w=w, h=h)
        x, width = MARGIN + w + 4, PAGE_W - 2 * MARGIN - 2 * (w + 4)
    lines, size = _fit(pdf, title, width, 2, 15, 10, style="B")
    height = len(lines) * _line_height(size)
    _write(pdf, lines, x, (BAND_MM - height) / 2, width, size, style="B", grey=text_colour)
    return BAND_MM


def _logo_box(logo: Path) -> tuple[float, float]:
    """The logo's printed width and height, fitted into LOGO_MAX_MM keeping its shape."""
    with Image.open(logo) as image:
        width, height = image.size
    ratio = width / max(1, height)
    max_w, max_h = LOGO_MAX_MM
    return (max_h * ratio, max_h) if max_h * ratio <= max_w else (max_w, max_w / ratio)


def posters(sheet: QrSheet, progress: Progress | None = None) -> bytes:
    """One A4 page per stop: the event band, the stop number and name, a big code, the short
    code under it, one line of instructions in German and one in English, the address to type
    the short code, and small at the bottom edge the technical data (slug, key, date)."""
    pdf = new_document(pick(sheet.title, "de"))
    pdf.set_creation_date(sheet.printed_at)
    for item in sheet.items:
        _poster(pdf, sheet, item)
        if progress:
            progress(1)
    return bytes(pdf.output())


def _poster(pdf: Document, sheet: QrSheet, item: QrItem) -> None:
    pdf.add_page()
    colour = accent(sheet.look)
    y = _header(pdf, sheet.look, pick(sheet.title, "de")) + 6
    stop = (
        f"{t('organiser.pdf.stop', 'de', n=item.number)} · "
        f"{t('organiser.pdf.stop', 'en', n=item.number)}"
    )
    y = _text(pdf, stop, y, 26, style="B", grey=colour)
    name_de, name_en = _both(item.title)
    name_de = name_de or item.venue or ""
    y = _text(pdf, name_de, y + 1, 22, max_lines=2, min_size=14, style="B")
    y = _text(pdf, name_en, y, 14, min_size=10, grey=GREY)
    if item.venue and item.venue not in (name_de, name_en):
        y = _text(pdf, item.venue, y, 12, min_size=9, grey=GREY)

    footer_y = PAGE_H - 9
    address_y = footer_y - 5 - _line_height(13)
    en_y = address_y - 1 - _line_height(12)
    de_y = en_y - _line_height(12)
    code_h = _line_height(40) if item.code else 0.0
    top = y + 4
    available = de_y - 4 - top - code_h
    matrix, side = qr_block_size(item.url, POSTER_QR_MAX_MM)
    side = min(side, available)
    modules_mm = side * len(matrix) / (len(matrix) + 2 * qr.QUIET_ZONE)
    if modules_mm < POSTER_QR_MIN_MM:
        raise ExportError("poster_too_full", stop=item.number)
    qr_y = top + (available - side) / 2
    draw_qr(pdf, matrix, (PAGE_W - side) / 2, qr_y, side)
    if item.code:
        _text(pdf, item.short_code, qr_y + side, 40, style="B")
    _text(pdf, t("organiser.pdf.scan", "de"), de_y, 12, min_size=8, style="B")
    _text(pdf, t("organiser.pdf.scan", "en"), en_y, 12, min_size=8)
    _text(pdf, sheet.typing_address, address_y, 13, min_size=7, family="Mono")
    footer = (
        f"{sheet.slug} · {item.number}/{len(sheet.items)} · "
        f"{t('organiser.pdf.key', 'de')}/{t('organiser.pdf.key', 'en')} {sheet.key_id} · "
        f"{sheet.printed_at:%Y-%m-%d}"
    )
    _text(pdf, footer, footer_y, 6.5, min_size=5, grey=GREY)


def labels(sheet: QrSheet, progress: Progress | None = None) -> bytes:
    """Sheets of 3 x 4 stickers (70 x 74.25 mm, no page margin) with cut guides: the stop number
    and name, the code (at least 40 mm) and its short code on one line, never broken."""
    pdf = new_document(pick(sheet.title, "de"))
    pdf.set_creation_date(sheet.printed_at)
    per_page = LABEL_COLUMNS * LABEL_ROWS
    cell_w, cell_h = PAGE_W / LABEL_COLUMNS, PAGE_H / LABEL_ROWS
    for i, item in enumerate(sheet.items):
        if i % per_page == 0:
            pdf.add_page()
            _cut_guides(pdf, cell_w, cell_h)
        col, row = i % LABEL_COLUMNS, (i % per_page) // LABEL_COLUMNS
        _label(pdf, sheet, item, col * cell_w, row * cell_h, cell_w, cell_h)
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


def _label(
    pdf: Document, sheet: QrSheet, item: QrItem, x: float, y: float, w: float, h: float
) -> None:
    inner = w - 8
    top = y + 3.5
    text = f"{item.number} · {item.name('de')}"
    _text(pdf, text, top, 9, min_size=7, style="B", x=x + 4, width=inner, grey=accent(sheet.look))
    qr_top = top + _line_height(9) + 1
    code_h = _line_height(LABEL_CODE_PT) if item.code else 0.0
    available = y + h - 2.5 - code_h - qr_top
    matrix, side = qr_block_size(item.url, LABEL_QR_MAX_MM)
    side = min(side, available, inner)
    modules_mm = side * len(matrix) / (len(matrix) + 2 * qr.QUIET_ZONE)
    if modules_mm < LABEL_QR_MIN_MM:
        raise ExportError("label_too_small", stop=item.number)
    draw_qr(pdf, matrix, x + (w - side) / 2, qr_top, side)
    if item.code:
        pdf.set_font("Sans", "B", LABEL_CODE_PT)
        pdf.set_text_color(BLACK)
        pdf.set_xy(x + 4, qr_top + side)
        pdf.cell(inner, code_h, item.short_code, align="C")


def start_poster(sheet: StartSheet) -> bytes:
    """The A4 poster for the meeting point: the rally's title and intro, its codes (the join
    code, room for one more beside it) with their captions, and the rules, in German and
    English."""
    pdf = new_document(pick(sheet.title, "de"))
    pdf.set_creation_date(sheet.printed_at)
    pdf.add_page()
    colour = accent(sheet.look)
    y = (
        _header(
            pdf,
            sheet.look,
            f"{t('organiser.start.band', 'de')} · {t('organiser.start.band', 'en')}",
        )
        + 6
    )
    title_de, title_en = _both(sheet.title)
    y = _text(pdf, title_de or sheet.slug, y, 28, max_lines=2, min_size=18, style="B", grey=colour)
    y = _text(pdf, title_en, y, 16, min_size=11, grey=GREY)
    intro_de, intro_en = _both(sheet.intro)
    y = _text(pdf, intro_de, y + 4, 11, max_lines=9, min_size=9, align="L")
    y = _text(pdf, intro_en, y + 2, 10, max_lines=9, min_size=8, grey=GREY, align="L")

    footer_y = PAGE_H - 9
    rules_top = _rules(pdf, sheet.order_mode, footer_y - 4, colour, sheet.wifi)
    _qr_row(pdf, sheet.codes, y + 5, rules_top - 5)
    footer = f"{sheet.slug} · {sheet.printed_at:%Y-%m-%d}"
    _text(pdf, footer, footer_y, 6.5, min_size=5, grey=GREY)
    return bytes(pdf.output())


def _rules(
    pdf: Document, order_mode: str, bottom: float, colour: Colour, wifi: bool = False
) -> float:
    """The rules in two columns (German left, English right) ending at bottom; their top. With
    the event's Wi-Fi on the poster, joining it comes first."""
    keys = (WIFI_RULE_KEY, *RULE_KEYS) if wifi else RULE_KEYS
    gap = 8.0
    column = (PAGE_W - 2 * MARGIN - gap) / 2
    mode = order_mode if order_mode in ("fixed", "free") else "fixed"
    columns: list[list[list[str]]] = []
    for lang in ("de", "en"):
        columns.append(
            [
                pdf.wrap(f"{n}. {t(key.format(mode=mode), lang)}", column, "Sans", "", RULE_PT)
                for n, key in enumerate(keys, 1)
            ]
        )
    rule_gap = 1.5
    height = (
        _line_height(13)
        + 2
        + max(
            sum(len(rule) for rule in c) * _line_height(RULE_PT) + rule_gap * (len(c) - 1)
            for c in columns
        )
    )
    top = bottom - height
    for i, (lang, rules) in enumerate(zip(("de", "en"), columns, strict=True)):
        x = MARGIN + i * (column + gap)
        pdf.set_font("Sans", "B", 13)
        pdf.set_text_color(*colour)
        pdf.set_xy(x, top)
        pdf.cell(column, _line_height(13), t("organiser.start.rules", lang))
        ly = top + _line_height(13) + 2
        for rule in rules:
            ly = (
                _write(
                    pdf,
                    rule,
                    x,
                    ly,
                    column,
                    RULE_PT,
                    grey=BLACK if lang == "de" else GREY,
                    align="L",
                )
                + rule_gap
            )
    return top


def _qr_row(pdf: Document, codes: tuple[tuple[str, str], ...], top: float, bottom: float) -> None:
    """The codes side by side between top and bottom, each with its caption centred under it."""
    gap = 10.0
    count = max(1, len(codes))
    column = (PAGE_W - 2 * MARGIN - gap * (count - 1)) / count
    caption_h = max(len(c.splitlines()) for _, c in codes) * _line_height(11) + 2
    for i, (payload, caption) in enumerate(codes):
        matrix, side = qr_block_size(payload, START_QR_MAX_MM, START_QR_MAX_VERSION)
        side = min(side, column, bottom - top - caption_h)
        modules_mm = side * len(matrix) / (len(matrix) + 2 * qr.QUIET_ZONE)
        if modules_mm < START_QR_MIN_MM:
            raise ExportError("poster_too_full", stop=i + 1)
        x = MARGIN + i * (column + gap)
        y = top + (bottom - top - caption_h - side) / 2
        draw_qr(pdf, matrix, x + (column - side) / 2, y, side)
        y += side + 1
        for k, line in enumerate(caption.splitlines()):
            family, style = ("Sans", "B") if k == 0 else ("Mono", "")
            y = _text(pdf, line, y, 11, min_size=7, family=family, style=style, x=x, width=column)
