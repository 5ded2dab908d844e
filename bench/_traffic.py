"""What the load generator sends (aiohttp on asyncio, one process): teams created through the
API, and the events of teams walking near the demo rally's stops, each with a new client event id
and a recorded time that only moves forward."""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp

from markers.geo import LatLon, destination

API = "/api/v1"
WALK_MPS = 1.4
CHECKIN_EVERY_S = 5.0


@dataclass(frozen=True)
class Rally:
    """What the generator needs to know of the seeded demo rally."""

    slug: str
    stops: tuple[LatLon, ...]
    qr_token: str
    """A genuine QR token of the first stop (scans)."""


def rally_facts(database_url: str) -> Rally:
    """The demo rally's slug, stop positions and a QR token of its first stop, read from the
    database (the bench's own set-up, not measured)."""
    from server import create_app, game, models
    from server.config import database_url as sqlalchemy_url
    from server.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url, "."), "SECRET_KEY": "x"}
    )
    with app.app_context():
        row = db.session.scalar(db.select(models.Rally).filter_by(status="published"))
        stops = tuple(LatLon(s.marker.lat, s.marker.lon) for s in row.stops)
        token = game.keyring().sign(row.id, row.stops[0].marker_id)
        facts = Rally(row.slug, stops, token)
        db.session.remove()
        db.engine.dispose()
    return facts


def backdate_teams(database_url: str, hours: float) -> None:
    """Move every team's start ``hours`` into the past, so that recorded times can run ahead of
    the clock's pace (the saturated benches send a team's fixes faster than every 5 s)."""
    from sqlalchemy import create_engine, update

    from server import models
    from server.config import database_url as sqlalchemy_url

    engine = create_engine(sqlalchemy_url(database_url, "."))
    with engine.begin() as conn:
        at = datetime.now(UTC) - timedelta(hours=hours)
        conn.execute(update(models.Team.__table__).values(started_at=at))
    engine.dispose()


def stored_checkins(database_url: str) -> int:
    """Check-ins the server recorded (one client_event row each)."""
    from sqlalchemy import create_engine, text

    from server.config import database_url as sqlalchemy_url

    engine = create_engine(sqlalchemy_url(database_url, "."))
    with engine.connect() as conn:
        n = conn.scalar(text("SELECT count(*) FROM client_event WHERE kind = 'checkin'"))
    engine.dispose()
    return int(n or 0)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Walker:
    """A team walking at 1.4 m/s on a circle around one stop, 60 to 240 m out (outside every
    geofence), so each fix is plausible and none is a find or a teleport."""

    token: str
    base: str
    centre: LatLon
    radius_m: float
    angle: float
    clock: datetime | None = None
    """The recorded time of the last fix; None: the wall clock."""
    last: datetime = field(default_factory=lambda: datetime.now(UTC))

    def checkin(self) -> dict:
        step = WALK_MPS * CHECKIN_EVERY_S
        self.angle += math.degrees(step / self.radius_m)
        lat, lon = destination(self.centre, self.angle % 360, self.radius_m)
        if self.clock is not None:
            self.clock += timedelta(seconds=CHECKIN_EVERY_S)
            at = self.clock
        else:
            at = max(datetime.now(UTC), self.last + timedelta(milliseconds=1))
        self.last = at
        return {
            "lat": lat,
            "lon": lon,
            "accuracy_m": round(random.uniform(5, 15), 1),
            "recorded_at": iso(at),
            "client_event_id": str(uuid.uuid4()),
        }


def walkers(
    tokens: Sequence[tuple[str, str]], rally: Rally, backdated_hours: float | None = None
) -> list[Walker]:
    """One walker per (base URL, token), spread over the stops; with ``backdated_hours`` their
    recorded times start that far back and advance 5 s per fix."""
    rng = random.Random(14)
    start = None
    if backdated_hours is not None:
        start = datetime.now(UTC) - timedelta(hours=backdated_hours) + timedelta(minutes=1)
    return [
        Walker(
            token,
            base,
            rally.stops[i % len(rally.stops)],
            rng.uniform(60, 240),
            rng.uniform(0, 360),
            start,
        )
        for i, (base, token) in enumerate(tokens)
    ]


async def create_teams(
    session: aiohttp.ClientSession, bases: Sequence[str], slug: str, n: int, first: int = 0
) -> list[tuple[str, str]]:
    """``n`` new teams through the API, spread over the instances: (base URL, token) each."""
    sem = asyncio.Semaphore(8)

    async def one(i: int) -> tuple[str, str]:
        base = bases[i % len(bases)]
        async with sem:
            url = f"{base}{API}/rallies/{slug}/teams"
            async with session.post(url, json={"name": f"Bench {i}", "language": "en"}) as r:
                body = await r.json()
                if r.status != 201:
                    raise SystemExit(f"creating team {i}: {r.status} {body}")
        return base, body["token"]

    return list(await asyncio.gather(*(one(i) for i in range(first, first + n))))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tally:
    """Latencies (seconds) of answered requests, and the failures by status or error."""

    ok: list[float] = field(default_factory=list)
    failed: dict[str, int] = field(default_factory=dict)

    def fail(self, why: str) -> None:
        self.failed[why] = self.failed.get(why, 0) + 1

    @property
    def errors(self) -> int:
        return sum(self.failed.values())


async def send(session: aiohttp.ClientSession, method: str, url: str, tally: Tally, **kw) -> None:
    """One request; its latency into ``tally`` when 2xx, else its status or error."""
    start = time.perf_counter()
    try:
        async with session.request(method, url, **kw) as resp:
            await resp.read()
            if 200 <= resp.status < 300:
                tally.ok.append(time.perf_counter() - start)
            else:
                tally.fail(str(resp.status))
    except (aiohttp.ClientError, TimeoutError) as e:
        tally.fail(type(e).__name__)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values; NaN for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def connector(limit: int = 0) -> aiohttp.TCPConnector:
    """A fresh connection per request where the server closes it (gunicorn's sync workers do)."""
    return aiohttp.TCPConnector(limit=limit, force_close=True)
