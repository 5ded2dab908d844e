"""Organiser exports: printed QR fallbacks (PDF posters, label sheets, PNG/SVG ZIP), the route
(GPX, GeoJSON) and the results (CSV). The web UI and the command line both call download()."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from routes.model import Text, pick
from server import game, models
from server.usererror import UserError

Progress = Callable[[int], None]
"""Called with the number of items done since the last call (click.progressbar.update)."""

QR_FORMATS = ("pdf", "labels", "zip")
ROUTE_FORMATS = ("gpx", "geojson")


class ExportError(UserError):
    """An export that cannot be made."""


@dataclass(frozen=True)
class Download:
    data: bytes
    mimetype: str
    filename: str


@dataclass(frozen=True)
class QrItem:
    """One stop's printed code: its number (1-based, stop order), names and the URL it holds."""

    number: int
    marker_id: int
    title: Text
    venue: str | None
    url: str

    def name(self, lang: str = "de") -> str:
        return pick(self.title, lang) or self.venue or ""


@dataclass(frozen=True)
class QrSheet:
    """Everything the printed codes of a rally show."""

    slug: str
    title: Text
    key_id: int
    printed_at: datetime
    items: tuple[QrItem, ...]


def qr_sheet(row: models.Rally, printed_at: datetime | None = None) -> QrSheet:
    """The rally's codes, in stop order, signed with the current key."""
    if not row.stops:
        raise ExportError("rally_has_no_stops", slug=row.slug)
    items = tuple(
        QrItem(number, s.marker.id, s.marker.text("title"),
               s.marker.venue.name if s.marker.venue else None,
               game.qr_url_for(row.id, s.marker.id))
        for number, s in enumerate(row.stops, 1)
    )
    return QrSheet(row.slug, row.text("title"), game.keyring().active.id,
                   printed_at or datetime.now(UTC), items)


_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe",
                           "Ü": "Ue", "ẞ": "SS"})


def slugify(name: str, max_length: int = 40) -> str:
    """A file-name-safe ASCII form: 'Kaiserpfalz & Casimirsaal' -> 'kaiserpfalz-casimirsaal'."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(_TRANSLIT))
    ascii_name = ascii_name.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:max_length]
    return slug or "stop"


def qr_download(row: models.Rally, fmt: str, progress: Progress | None = None) -> Download:
    """Posters (pdf), a label sheet (labels) or a ZIP of PNG and SVG files (zip)."""
    if fmt not in QR_FORMATS:
        raise ExportError("unknown_format", format=fmt, allowed=", ".join(QR_FORMATS))
    sheet = qr_sheet(row)
    if fmt == "zip":
        from server.exports.qrzip import qr_zip

        return Download(qr_zip(sheet, progress), "application/zip", f"{row.slug}-qr-codes.zip")
    from server.exports import pdf

    if fmt == "pdf":
        return Download(pdf.posters(sheet, progress), "application/pdf",
                        f"{row.slug}-qr-posters.pdf")
    return Download(pdf.labels(sheet, progress), "application/pdf", f"{row.slug}-qr-labels.pdf")


def route_download(row: models.Rally, fmt: str, lang: str) -> Download:
    """The stops and the walking line as GPX 1.1 or a GeoJSON FeatureCollection."""
    from routes.geojson import dumps_geojson
    from routes.gpx import export_gpx

    if fmt not in ROUTE_FORMATS:
        raise ExportError("unknown_format", format=fmt, allowed=", ".join(ROUTE_FORMATS))
    if not row.stops:
        raise ExportError("rally_has_no_stops", slug=row.slug)
    rally = game.domain_rally(row)
    if fmt == "gpx":
        text = export_gpx(rally, lang, time=datetime.now(UTC))
        return Download(text.encode("utf-8"), "application/gpx+xml", f"{row.slug}.gpx")
    return Download(dumps_geojson(rally, lang).encode("utf-8"), "application/geo+json",
                    f"{row.slug}.geojson")


def results_download(row: models.Rally, lang: str, tz: str = "UTC",
                     delimiter: str = ",") -> Download:
    """The results as CSV (UTF-8 with BOM), header in lang, times in the time zone tz."""
    from server.exports import results

    data = results.to_csv(results.team_results(row), len(row.stops), lang, tz, delimiter)
    return Download(data, "text/csv", f"{row.slug}-results.csv")
