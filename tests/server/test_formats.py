"""Times in the event's zone, numbers and durations in the reader's language."""

from datetime import UTC, datetime

import pytest

from server import create_app, formats

WINTER = datetime(2026, 11, 29, 18, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 18, 5, tzinfo=UTC)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def test_times_are_shown_in_the_event_zone_with_summer_time(ctx):
    assert formats.when(WINTER, "de") == "29.11.2026, 19:05"
    assert formats.when(SUMMER, "en") == "1 Jul 2026, 20:05"
    assert formats.when(WINTER, "de-x-ls", seconds=True) == "29.11.2026, 19:05:00"
    assert formats.clock(WINTER, "en") == "19:05"
    assert formats.iso_local(WINTER) == "2026-11-29T19:05:00+01:00"


def test_a_naive_time_is_utc(ctx):
    assert formats.clock(datetime(2026, 11, 29, 18, 5), "de") == "19:05"


def test_another_event_zone(ctx):
    ctx.config["EVENT_TIMEZONE"] = "America/New_York"
    assert formats.clock(WINTER, "de") == "13:05"


def test_numbers_in_the_readers_language():
    assert formats.number(756.66, "de", 1) == "756,7"
    assert formats.number(756.66, "en", 1) == "756.7"
    assert formats.number(12345, "de") == "12.345"


@pytest.mark.parametrize(
    ("seconds", "lang", "text"),
    [
        (3900, "de", "1 Std. 5 Min."),
        (3900, "en", "1 hr 5 mins"),
        (45, "de", "45 Sek."),
        (7200, "en", "2 hrs"),
    ],
)
def test_durations(seconds, lang, text):
    assert formats.duration(seconds, lang) == text


def test_a_bad_time_zone_stops_the_app_with_a_message(monkeypatch, tmp_path):
    monkeypatch.setenv("EVENT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SystemExit, match="EVENT_TIMEZONE"):
        create_app({"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
