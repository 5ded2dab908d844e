"""Organiser exports: printed QR fallbacks (PDF posters, label sheets, PNG/SVG ZIP, the start
poster), the route (GPX, GeoJSON) and the results (CSV). The web UI and the command line both
call qr_download(), route_download() and results_download()."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from server import game, models, wifi
from server.exports.base import (
    Download,
    ExportError,
    Look,
    Progress,
    QrItem,
    QrSheet,
    StartSheet,
    slugify,
)

__all__ = [
    "QR_FORMATS",
    "ROUTE_FORMATS",
    "Download",
    "ExportError",
    "Look",
    "Progress",
    "QrItem",
    "QrSheet",
    "StartSheet",
    "join_url",
    "look",
    "qr_download",
    "qr_sheet",
    "results_download",
    "route_download",
    "slugify",
    "start_sheet",
]

QR_FORMATS = ("pdf", "labels", "zip", "start")
ROUTE_FORMATS = ("gpx", "geojson")
MEDIA_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def join_url(row: models.Rally) -> str:
    """The web join of the rally, as its start poster's code holds it: <public base>/play/<slug>."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/play/{row.slug}"


def look(row: models.Rally) -> Look:
    """The rally's poster colour and logo file (None where unset or the file is gone)."""
    logo = None
    name = row.poster_logo
    if name and set(name) <= MEDIA_NAME_CHARS and not name.startswith("."):
        path = Path(current_app.config["MEDIA_DIR"]) / name
        logo = path if path.is_file() else None
    return Look(row.poster_colour, logo)


def qr_sheet(row: models.Rally, printed_at: datetime | None = None) -> QrSheet:
    """The rally's codes, in stop order, signed with the current key."""
    if not row.stops:
        raise ExportError("rally_has_no_stops", slug=row.slug)
    items = tuple(
        QrItem(
            number,
            s.marker.id,
            s.marker.text("title"),
            s.marker.venue.name if s.marker.venue else None,
            game.qr_url_for(row.id, s.marker.id),
            s.code,
        )
        for number, s in enumerate(row.stops, 1)
    )
    return QrSheet(
        row.slug,
        row.text("title"),
        game.keyring().active.id,
        printed_at or datetime.now(UTC),
        items,
        look(row),
        join_url(row).split("://", 1)[-1],
    )


def start_sheet(
    row: models.Rally,
    printed_at: datetime | None = None,
    more: tuple[tuple[str, str], ...] = (),
) -> StartSheet:
    """The start poster's content: the event's Wi-Fi code (with EVENT_WIFI_SSID set), the join
    code, then any ``more`` (payload, caption)."""
    from server.i18n import t

    url = join_url(row)
    network = wifi.from_settings(current_app.config)
    join = f"{t('organiser.start.join', 'de')} · {t('organiser.start.join', 'en')}"
    codes = [(url, f"{'2. ' if network else ''}{join}\n{url.split('://', 1)[-1]}")]
    if network:
        codes.insert(0, (network.payload(), _wifi_caption(network)))
    return StartSheet(
        row.slug,
        row.text("title"),
        row.text("intro"),
        row.order_mode,
        printed_at or datetime.now(UTC),
        (*codes, *more),
        look(row),
        wifi=network is not None,
    )


def _wifi_caption(network: wifi.Wifi) -> str:
    """Step 1 in German and English, the network's name and its password (printed as well, for
    phones whose camera does not join networks)."""
    from server.i18n import t

    lines = [
        f"1. {t('box.wifi.join', 'de')} · {t('box.wifi.join', 'en')}",
        wifi.printable(network.ssid),
    ]
    if network.security != "nopass":
        label = f"{t('box.wifi.password', 'de')} · {t('box.wifi.password', 'en')}"
        lines.append(f"{label}: {wifi.printable(network.password)}")
    return "\n".join(lines)


def qr_download(row: models.Rally, fmt: str, progress: Progress | None = None) -> Download:
    """Posters (pdf), a label sheet (labels), a ZIP of PNG and SVG files (zip) or the start
    poster with the rally's join code (start)."""
    if fmt not in QR_FORMATS:
        raise ExportError("unknown_format", format=fmt, allowed=", ".join(QR_FORMATS))
    if fmt == "start":
        from server.exports import pdf

        data = pdf.start_poster(start_sheet(row))
        return Download(data, "application/pdf", f"{row.slug}-start-poster.pdf")
    sheet = qr_sheet(row)
    if fmt == "zip":
        from server.exports.qrzip import qr_zip

        return Download(qr_zip(sheet, progress), "application/zip", f"{row.slug}-qr-codes.zip")
    from server.exports import pdf

    if fmt == "pdf":
        return Download(
            pdf.posters(sheet, progress), "application/pdf", f"{row.slug}-qr-posters.pdf"
        )
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
    return Download(
        dumps_geojson(rally, lang).encode("utf-8"), "application/geo+json", f"{row.slug}.geojson"
    )


def results_download(
    row: models.Rally, lang: str, tz: str | None = None, delimiter: str = ","
) -> Download:
    """The results as CSV (UTF-8 with BOM), header in lang, times in the event's zone (or tz)."""
    from server.exports import results

    data = results.to_csv(results.team_results(row), len(row.stops), lang, tz, delimiter)
    return Download(data, "text/csv", f"{row.slug}-results.csv")
