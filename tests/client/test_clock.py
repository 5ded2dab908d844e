"""One clock (client/clock.py): the server's time from its answers' Date header (or a
server_time field), the median of the last few, absurd and unreadable values ignored, a stale
proxy's answer counted with its Age, and a phone clock that jumps while offline."""

from __future__ import annotations

import http.server
import json
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from client import i18n
from client.api import ApiClient, ApiError
from client.clock import (
    ServerClock,
    describe_offset,
    parse_http_date,
    parse_server_time,
    server_time_of,
)

T0 = datetime(2026, 9, 12, 18, 0, 0, tzinfo=UTC)


class Clocks:
    """A phone wall clock the test sets (it may jump) and a steady clock that only runs."""

    def __init__(self, wall: datetime = T0) -> None:
        self.wall = wall
        self.steady = 1000.0

    def run(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.steady += seconds

    def server_clock(self) -> ServerClock:
        return ServerClock(device=lambda: self.wall, steady=lambda: self.steady)


def http_date(at: datetime) -> str:
    return format_datetime(at.astimezone(UTC), usegmt=True)


def test_http_dates_good_and_garbage():
    assert parse_http_date("Sat, 12 Sep 2026 18:00:00 GMT") == T0
    assert parse_http_date("Sat, 12 Sep 2026 20:00:00 +0200") == T0
    for bad in (
        None,
        "",
        "yesterday",
        "Sat, 99 Foo 2026 18:00:00 GMT",
        "Sat, 12 Sep 2026 18:00:00",  # no zone: whose time?
        "Thu, 01 Jan 1970 00:00:00 GMT",  # a box without a clock
        "Sat, 12 Sep 2026 18:00:00 GMT" + " " * 100,
        "\x00\x00",
        "Sat, 12 Sep 99999 18:00:00 GMT",
    ):
        assert parse_http_date(bad) is None, bad
    assert parse_server_time("2026-09-12T18:00:00.250Z") == T0 + timedelta(milliseconds=250)
    for bad in (None, 12, "", "2026-09-12T18:00:00", "soon", "2026-09-12T18:00:00Z" * 5):
        assert parse_server_time(bad) is None, bad


def test_a_stale_proxy_answer_counts_with_its_age_or_not_at_all():
    fresh = server_time_of({"Date": http_date(T0)})
    assert fresh == (T0 + timedelta(seconds=0.5), 1.0)
    cached = server_time_of({"Date": http_date(T0 - timedelta(minutes=10)), "Age": "600"})
    assert cached is not None and cached[0] == T0 + timedelta(seconds=0.5)
    assert server_time_of({"Date": http_date(T0), "Age": "soon"}) is None
    assert server_time_of({"Date": http_date(T0), "Age": "-5"}) is None
    assert server_time_of({}) is None and server_time_of(None) is None


def test_the_offset_is_the_median_of_the_last_answers():
    clocks = Clocks(T0 + timedelta(minutes=30, seconds=12))  # the phone is 30 min 12 s ahead
    clock = clocks.server_clock()
    assert clock.offset_s() is None and not clock.known
    assert clock.now() == clocks.wall, "before any answer the phone's clock is all there is"
    server = T0
    for stale in (False, False, True, False, False):
        answer = server - timedelta(minutes=20) if stale else server
        assert clock.observe(answer, clocks.wall - timedelta(seconds=0.2), clocks.wall)
        clocks.run(1)
        server += timedelta(seconds=1)
    offset = clock.offset_s()
    assert offset is not None and abs(offset - (-1811.9)) < 0.01, offset
    assert abs((clock.now() - server).total_seconds()) < 0.2, "one stale answer does not move it"


def test_absurd_answers_are_ignored():
    clocks = Clocks()
    clock = clocks.server_clock()
    assert not clock.observe(T0 + timedelta(days=3650), T0, T0)
    assert not clock.observe(T0.replace(tzinfo=None), T0, T0)
    assert not clock.observe(T0, T0, T0 - timedelta(seconds=5)), "an answer before the question"
    assert not clock.observe_headers({"Date": "garbage"}, T0, T0)
    assert not clock.observe_headers({}, T0, T0)
    assert clock.offset_s() is None and clock.ignored == 5


def test_a_server_time_field_wins_over_the_date_header():
    clocks = Clocks()
    clock = clocks.server_clock()
    later = T0 + timedelta(minutes=5)
    body = {"server_time": later.isoformat().replace("+00:00", "Z")}
    assert clock.observe_headers({"Date": http_date(T0)}, T0, T0, body)
    assert clock.offset_s() == pytest.approx(300.0)


def test_the_phone_clock_jumping_while_offline_does_not_move_the_stamps():
    """The phone learns the server's time, goes offline, its clock is set 2 h ahead (by hand,
    by a network that lies): the server's time it stamps with stays right."""
    clocks = Clocks(T0 - timedelta(minutes=30))
    clock = clocks.server_clock()
    clock.observe(T0, clocks.wall, clocks.wall)
    clocks.run(60)
    assert clock.now() == T0 + timedelta(seconds=60)
    clocks.wall += timedelta(hours=2)
    clocks.run(60)
    assert abs((clock.now() - (T0 + timedelta(seconds=120))).total_seconds()) < 0.01
    assert clock.to_server(clocks.wall) == clock.now()
    clocks.wall -= timedelta(seconds=1)
    assert abs((clock.now() - (T0 + timedelta(seconds=120))).total_seconds()) < 0.01


def test_the_offset_in_words():
    assert describe_offset(None) == ("ui.clock.unknown", {})
    assert describe_offset(-1.2) == ("ui.clock.same", {})
    assert describe_offset(-1812) == ("ui.clock.ahead", {"amount": "30 min 12 s"})
    assert describe_offset(1800) == ("ui.clock.behind", {"amount": "30 min"})
    assert describe_offset(-7265) == ("ui.clock.ahead", {"amount": "2 h 1 min"})
    key, values = describe_offset(-1812)
    assert i18n.t(key, "de", **values) == "Uhr: 30 min 12 s vor dem Server"
    key, values = describe_offset(-1800)
    assert i18n.t(key, "en", **values) == "Clock: 30 min ahead of the server"
    assert "nach" in i18n.t("ui.clock.behind", "de-x-ls", amount="5 min")


# --- the API client learns from every answer -------------------------------------------------


class SkewedServer:
    """A player API stand-in whose answers carry the Date (and Age) the test chooses."""

    def __init__(self) -> None:
        self.date: str | None = None
        self.age: str | None = None
        self.status = 200
        self.body: dict = {"rallies": []}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                raw = json.dumps(outer.body).encode()
                self.send_response_only(outer.status)
                if outer.date is not None:
                    self.send_header("Date", outer.date)
                if outer.age is not None:
                    self.send_header("Age", outer.age)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def skewed():
    server = SkewedServer()
    yield server
    server.close()


def test_the_api_client_learns_the_servers_time_from_each_answer(skewed):
    phone_ahead = timedelta(minutes=30)
    clock = ServerClock(device=lambda: datetime.now(UTC) + phone_ahead)
    api = ApiClient(skewed.url, clock=clock)
    api.rallies()
    assert clock.offset_s() is None, "no Date header: nothing learnt, nothing broken"
    skewed.date = "not a date"
    api.rallies()
    assert clock.offset_s() is None
    for _ in range(3):
        skewed.date = http_date(datetime.now(UTC))
        api.rallies()
    assert clock.offset_s() == pytest.approx(-1800, abs=2)
    skewed.date = http_date(datetime.now(UTC) - timedelta(hours=1))  # a proxy's stale copy
    skewed.age = "3600"
    api.rallies()
    skewed.age = None
    skewed.date = http_date(datetime.now(UTC) - timedelta(hours=3))  # stale, no Age: outvoted
    api.rallies()
    assert clock.offset_s() == pytest.approx(-1800, abs=2)
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 2
    skewed.status, skewed.body = 404, {"error": {"code": "not_found", "message": "no"}}
    skewed.date = http_date(datetime.now(UTC))
    with pytest.raises(ApiError):
        api.rallies()
    assert len(clock._offsets) == 6, "an error answer tells the time too"


def test_after_a_jump_the_earlier_answers_still_count_right():
    clocks = Clocks(T0 - timedelta(minutes=30))
    clock = clocks.server_clock()
    for _ in range(3):
        clock.observe(T0 + timedelta(seconds=clocks.steady - 1000), clocks.wall, clocks.wall)
        clocks.run(1)
    clocks.wall += timedelta(minutes=15)
    clock.observe(T0 + timedelta(seconds=clocks.steady - 1000), clocks.wall, clocks.wall)
    assert clock.offset_s() == pytest.approx(15 * 60)
    assert clock.now() == T0 + timedelta(seconds=clocks.steady - 1000)


def test_a_gps_fix_is_timed_on_the_phones_clock_not_the_satellites():
    """Android's Location.getTime() of a GPS fix is the satellites' time; the app takes the
    fix's age (time since boot) from the phone's own clock, which the one clock corrects."""
    import types

    from client.sensors.location import fix_from_location

    satellites = datetime.now(UTC) - timedelta(minutes=30)
    location = types.SimpleNamespace(
        getLatitude=lambda: 49.44,
        getLongitude=lambda: 7.77,
        getAccuracy=lambda: 5.0,
        hasAccuracy=lambda: True,
        getTime=lambda: int(satellites.timestamp() * 1000),
        getElapsedRealtimeNanos=lambda: 5_000_000_000,
        isFromMockProvider=lambda: False,
    )
    fix = fix_from_location(location, lambda: 8_000_000_000)
    assert abs((datetime.now(UTC) - fix.at).total_seconds() - 3.0) < 0.5
    assert fix_from_location(location, lambda: 1).at == datetime.fromtimestamp(
        int(satellites.timestamp() * 1000) / 1000, UTC
    ), "an age that makes no sense: the fix's own time"
