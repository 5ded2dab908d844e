"""One clock: the server's time, learnt from its answers, so that the phone stamps its events in
server time even when its own clock is off. No Kivy.

Each answer of the event server brings a sample (its ``Date`` header, plus ``Age`` when a proxy
answered from its cache, or a ``server_time`` field); the offset is the median of the last few
samples, so one stale or odd answer does not move it. Between answers the offset is carried on
a clock that never jumps (time since boot), so a phone whose clock is set while it is offline
still stamps correctly.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

KEEP = 7
"""Samples the median is taken over."""
MAX_OFFSET_S = 366 * 86400.0
"""An offset beyond a year is a broken header, not a phone clock: ignored."""
JUMP_S = 2.0
"""A change of the device clock against the steady clock beyond this is a jump (set by hand)."""
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)


class Headers(Protocol):
    """A response's headers (http.client's message, a dict)."""

    def get(self, name: str, /) -> Any: ...


def device_now() -> datetime:
    """The phone's own wall clock (UTC)."""
    return datetime.now(UTC)


def steady_s() -> float:
    """Seconds on a clock that only moves forward and keeps counting while the phone sleeps."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is not None:
        try:
            return time.clock_gettime(boottime)
        except OSError:
            pass
    return time.monotonic()


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date ("Sun, 30 Nov 2026 00:54:36 GMT") as an aware UTC time; None when missing,
    garbage, without a time zone, or before 2020."""
    if not value or len(value) > 64:
        return None
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if at is None or at.tzinfo is None or at < EARLIEST:
        return None
    return at.astimezone(UTC)


def parse_server_time(value: object) -> datetime | None:
    """A ``server_time`` field (RFC 3339, e.g. 2026-11-30T00:54:36.120Z) as UTC; None if bad."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None or at < EARLIEST:
        return None
    return at.astimezone(UTC)


def server_time_of(headers: Headers | None) -> tuple[datetime, float] | None:
    """(the server's time, its resolution in s) from a response's Date (+ Age) header."""
    if headers is None:
        return None
    date = headers.get("Date")
    at = parse_http_date(date if isinstance(date, str) else None)
    if at is None:
        return None
    age = headers.get("Age")
    if isinstance(age, str) and age:
        try:
            seconds = int(age.strip())
        except ValueError:
            return None  # a cache we cannot read: its Date says nothing about now
        if not 0 <= seconds <= MAX_OFFSET_S:
            return None
        at += timedelta(seconds=seconds)
    # Date has whole seconds, cut off: the server's clock was on average half a second later.
    return at + timedelta(seconds=0.5), 1.0


class ServerClock:
    """The server's clock as far as the phone knows it; thread-safe.

    ``device`` is the phone's wall clock (injectable: tests set it 30 minutes off), ``steady``
    a clock in seconds that never jumps. Without a sample the server's time is the device's.
    """

    def __init__(
        self,
        device: Callable[[], datetime] = device_now,
        steady: Callable[[], float] = steady_s,
        keep: int = KEEP,
    ) -> None:
        self.device = device
        self.steady = steady
        self._lock = threading.Lock()
        self._offsets: deque[float] = deque(maxlen=keep)
        self._anchor: tuple[datetime, float] | None = None
        """(device time, steady time) at the latest sample: to see a jump of the device clock."""
        self.ignored = 0

    def observe(self, server: datetime, sent: datetime, received: datetime) -> bool:
        """One answer: the server's time, and the device's clock when the request left and the
        answer came; True if taken. The server's time is placed halfway between."""
        midpoint = sent + (received - sent) / 2
        if (
            server.tzinfo is None
            or received < sent
            or abs((server - midpoint).total_seconds()) > MAX_OFFSET_S
        ):
            with self._lock:
                self.ignored += 1
            return False
        offset = (server - midpoint).total_seconds()
        jump = self._jump_s()
        now_steady = self.steady()
        with self._lock:
            if jump:  # the earlier samples were taken against the clock before its jump
                self._offsets = deque((o - jump for o in self._offsets), self._offsets.maxlen)
            self._offsets.append(offset)
            self._anchor = (received, now_steady)
        return True

    def _jump_s(self) -> float:
        """How far the phone's clock jumped since the latest sample (0 for less than JUMP_S)."""
        with self._lock:
            anchor = self._anchor
        if anchor is None:
            return 0.0
        device_at, steady_at = anchor
        expected = device_at + timedelta(seconds=self.steady() - steady_at)
        jump = (self.device() - expected).total_seconds()
        return jump if abs(jump) > JUMP_S else 0.0

    def observe_headers(
        self,
        headers: Headers | None,
        sent: datetime,
        received: datetime,
        body: object = None,
    ) -> bool:
        """A sample from an answer's ``server_time`` field if it has one, else its Date header."""
        at = parse_server_time(body.get("server_time")) if isinstance(body, dict) else None
        if at is None:
            found = server_time_of(headers)
            if found is None:
                with self._lock:
                    self.ignored += 1
                return False
            at = found[0]
        return self.observe(at, sent, received)

    @property
    def known(self) -> bool:
        """Whether the server's time has been learnt."""
        return bool(self._offsets)

    def offset_s(self) -> float | None:
        """Seconds the server's clock is ahead of the phone's now (negative: the phone is
        ahead); None before the first answer. A jump of the phone's clock since the latest
        answer counts in."""
        with self._lock:
            if not self._offsets:
                return None
            offset = statistics.median(self._offsets)
        return offset - self._jump_s()

    def to_server(self, at: datetime) -> datetime:
        """A time read from the phone's clock, in the server's time."""
        offset = self.offset_s()
        return at if offset is None else at + timedelta(seconds=offset)

    def now(self) -> datetime:
        """The server's time now."""
        return self.to_server(self.device())


def describe_offset(offset_s: float | None) -> tuple[str, dict[str, object]]:
    """The catalogue key and values that say how far the phone's clock is off: the phone is
    "ahead" when the server's offset is negative. Under two seconds counts as in step."""
    if offset_s is None:
        return "ui.clock.unknown", {}
    off = -offset_s
    if abs(off) < 2.0:
        return "ui.clock.same", {}
    total = round(abs(off))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes} min")
    if seconds and not hours:
        parts.append(f"{seconds} s")
    key = "ui.clock.ahead" if off > 0 else "ui.clock.behind"
    return key, {"amount": " ".join(parts)}
