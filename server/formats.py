"""Times, numbers and durations as the reader reads them: in the event's time zone
(EVENT_TIMEZONE, default Europe/Berlin) and the reader's language (Babel's locale data)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates, numbers
from flask import Flask, current_app, has_app_context

from markers.i18n import EASY_GERMAN

DEFAULT_TIMEZONE = "Europe/Berlin"


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone of a setting, or a clear stop naming the setting."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SystemExit(
            f"EVENT_TIMEZONE must be an IANA time zone like Europe/Berlin, got {name!r}"
        ) from None


def event_zone() -> tzinfo:
    """The event's time zone: the app's setting, else the default."""
    name = current_app.config.get("EVENT_TIMEZONE") if has_app_context() else None
    return zone_named(name or DEFAULT_TIMEZONE)


def local(moment: datetime) -> datetime:
    """A stored (UTC) time in the event's zone; a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(event_zone())


def _locale(lang: str) -> str:
    return "de" if lang in ("de", EASY_GERMAN) else "en_GB" if lang == "en" else lang


def when(moment: datetime | None, lang: str, *, seconds: bool = False) -> str:
    """Date and time in the event's zone: "29.11.2026, 19:05" in German, "29 Nov 2026, 19:05"."""
    if moment is None:
        return ""
    day = "dd.MM.yyyy" if _locale(lang) == "de" else "d MMM yyyy"
    time = "HH:mm:ss" if seconds else "HH:mm"
    return dates.format_datetime(local(moment), format=f"{day}, {time}", locale=_locale(lang))


def clock(moment: datetime | None, lang: str) -> str:
    """The time of day in the event's zone: "19:05"."""
    if moment is None:
        return ""
    return dates.format_time(local(moment), format="short", locale=_locale(lang))


def iso_local(moment: datetime | None) -> str:
    """ISO 8601 with the event zone's offset, for files (CSV): "2026-11-29T19:05:00+01:00"."""
    return "" if moment is None else local(moment).isoformat(timespec="seconds")


def number(value: float | int, lang: str, digits: int = 0) -> str:
    """A number with the reader's decimal sign and grouping: "756,7" in German."""
    return numbers.format_decimal(
        value, format=f"#,##0{'.' + '0' * digits if digits else ''}", locale=_locale(lang)
    )


def duration(seconds: float, lang: str) -> str:
    """A span in hours and minutes: "1 Std. 5 Min." / "1 hr 5 min"; under a minute: seconds."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return dates.format_timedelta(seconds, threshold=1, format="short", locale=_locale(lang))
    hours, minutes = divmod(seconds // 60, 60)
    parts = [(hours * 3600, "hour")] if hours else []
    if minutes or not hours:
        parts.append((minutes * 60, "minute"))
    return " ".join(
        dates.format_timedelta(
            span, threshold=99, granularity=unit, format="short", locale=_locale(lang)
        )
        for span, unit in parts
    )


def init_app(app: Flask) -> None:
    """Jinja filters `when`, `clock`, `number`, `duration` in the request's language."""
    from server.i18n import language

    app.jinja_env.filters.update(
        when=lambda m, seconds=False: when(m, language(), seconds=seconds),
        clock=lambda m: clock(m, language()),
        number=lambda v, digits=0: number(v, language(), digits),
        duration=lambda s: duration(s, language()),
    )
