"""The printed QR fallbacks as image files: one PNG and one SVG per stop, in a ZIP, with the
short codes in codes.csv and README.txt."""

from __future__ import annotations

import csv
import io
import zipfile

from markers import qr
from routes.model import pick
from server.exports.base import Progress, QrItem, QrSheet, slugify
from server.exports.results import safe_cell
from server.i18n import t

PNG_BOX_PX = 20


def file_stem(item: QrItem, digits: int = 2) -> str:
    """'01-marienkirche': the stop number, then the German title (or the venue)."""
    return f"{item.number:0{digits}d}-{slugify(item.name('de'))}"


def qr_zip(sheet: QrSheet, progress: Progress | None = None) -> bytes:
    """A ZIP of <nn>-<name>.png (20 px per module) and .svg per stop, a README.txt that lists
    every file with its stop, short code and the address it holds, and the same as codes.csv."""
    digits = max(2, len(str(len(sheet.items))))
    stamp = sheet.printed_at.timetuple()[:6]
    titles = dict.fromkeys([pick(sheet.title, "de"), pick(sheet.title, "en")])
    readme = [
        *titles,
        "",
        f"{t('organiser.pdf.key', 'de')}/{t('organiser.pdf.key', 'en')} {sheet.key_id}, "
        f"{sheet.printed_at:%Y-%m-%d %H:%M} UTC",
        t("organiser.zip.type", "de", address=sheet.typing_address),
        t("organiser.zip.type", "en", address=sheet.typing_address),
        "",
    ]
    table = io.StringIO()
    rows = csv.writer(table, lineterminator="\r\n")
    rows.writerow(["stop", "name", "code", "url", "png", "svg"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for item in sheet.items:
            stem = file_stem(item, digits)
            z.writestr(
                zipfile.ZipInfo(f"{stem}.png", stamp), qr.png_bytes(item.url, box_size=PNG_BOX_PX)
            )
            z.writestr(
                zipfile.ZipInfo(f"{stem}.svg", stamp),
                qr.svg_text(item.url),
                compress_type=zipfile.ZIP_DEFLATED,
            )
            readme.append(
                f"{stem}.png/.svg\t{item.number}. {item.name('de')}\t{item.short_code}\t{item.url}"
            )
            rows.writerow(
                [
                    item.number,
                    safe_cell(item.name("de")),
                    item.short_code,
                    item.url,
                    f"{stem}.png",
                    f"{stem}.svg",
                ]
            )
            if progress:
                progress(1)
        z.writestr(
            zipfile.ZipInfo("README.txt", stamp),
            "\r\n".join(readme) + "\r\n",
            compress_type=zipfile.ZIP_DEFLATED,
        )
        z.writestr(
            zipfile.ZipInfo("codes.csv", stamp),
            "\ufeff" + table.getvalue(),
            compress_type=zipfile.ZIP_DEFLATED,
        )
    return buf.getvalue()
