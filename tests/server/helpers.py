"""Small helpers for the player API tests: teams, check-ins, scans, QR tokens, the demo's stops."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from markers.geo import LatLon, bearing_deg, destination, distance_m
from tests.live import serve as serve  # the one live server, as the API tests know it

API = "/api/v1"
DEMO_SLUG = "art-caching-kaiserslautern"


@dataclass(frozen=True)
class DemoStop:
    """A stop of a rally as the tests need it: marker id, exact position, radius, story, letter."""

    index: int
    marker_id: int
    position: LatLon
    radius_m: float
    story: dict[str, str]
    letter: str | None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_event_id() -> str:
    return str(uuid.uuid4())


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def create_team(client, slug: str, name: str, language: str = "en"):
    """POST a new team; the raw response."""
    return client.post(f"{API}/rallies/{slug}/teams", json={"name": name, "language": language})


def new_team(client, slug: str, name: str, language: str = "en") -> str:
    """A new team's bearer token (asserts the team was created)."""
    resp = create_team(client, slug, name, language)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["token"]


def checkin(
    client,
    token: str,
    lat: float,
    lon: float,
    accuracy: float = 8.0,
    at: datetime | None = None,
    event_id: str | None = None,
    **extra: Any,
):
    """POST one GPS fix; ``at`` defaults to now, ``event_id`` to a fresh UUID."""
    body = {
        "lat": lat,
        "lon": lon,
        "accuracy_m": accuracy,
        "recorded_at": iso(at or datetime.now(UTC)),
        "client_event_id": event_id or new_event_id(),
        **extra,
    }
    return client.post(f"{API}/team/checkins", json=body, headers=bearer(token))


def scan(
    client,
    token: str,
    qr: str,
    at: datetime | None = None,
    event_id: str | None = None,
    **extra: Any,
):
    """POST one scanned QR code (a token or the whole URL)."""
    body = {"token": qr, "client_event_id": event_id or new_event_id(), **extra}
    if at is not None:
        body["recorded_at"] = iso(at)
    return client.post(f"{API}/team/scans", json=body, headers=bearer(token))


def get_team(client, token: str) -> dict[str, Any]:
    resp = client.get(f"{API}/team", headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def qr_token(app, rally_id: int, marker_id: int) -> str:
    """A genuine QR token for a marker of a rally, signed with the server's active key."""
    from server import game

    with app.app_context():
        return game.keyring().sign(rally_id, marker_id)


def qr_url(app, rally_id: int, marker_id: int) -> str:
    """The URL a printed QR code of the marker holds."""
    from server import game

    with app.app_context():
        return game.qr_url_for(rally_id, marker_id)


def demo_stops(app, rally_id: int) -> list[DemoStop]:
    """The rally's stops in stop order, read from the database."""
    from server import models
    from server.extensions import db

    with app.app_context():
        rally = db.session.get(models.Rally, rally_id)
        word = rally.solution_word or ""
        return [
            DemoStop(
                s.position,
                s.marker.id,
                LatLon(s.marker.lat, s.marker.lon),
                s.marker.radius_m,
                s.marker.text("story"),
                word[s.position] if len(word) == len(rally.stops) else None,
            )
            for s in rally.stops
        ]


def import_demo(app, slug: str = DEMO_SLUG, status: str = "published") -> tuple[str, int]:
    """A copy of the demo rally (its own markers) under ``slug``: (slug, rally id)."""
    from server import models, seed
    from server.extensions import db

    with app.app_context():
        row = seed.demo(slug=slug, status=models.RallyStatus(status))
        db.session.commit()
        return row.slug, row.id


def rally_start(app, rally_id: int) -> LatLon:
    from server import models
    from server.extensions import db

    with app.app_context():
        rally = db.session.get(models.Rally, rally_id)
        return LatLon(rally.start_lat, rally.start_lon)


def update_rally(app, rally_id: int, **values: Any) -> None:
    """Set columns of a rally row (order_mode, status ...) and commit."""
    from server import models
    from server.extensions import db

    with app.app_context():
        rally = db.session.get(models.Rally, rally_id)
        for name, value in values.items():
            setattr(rally, name, value)
        db.session.commit()


def backdate_team(app, team_id: int, seconds: float) -> datetime:
    """Move the team's start into the past (a team that started a while ago); the new start."""
    from server import models
    from server.extensions import db

    with app.app_context():
        team = db.session.get(models.Team, team_id)
        team.started_at = datetime.now(UTC) - timedelta(seconds=seconds)
        db.session.commit()
        return team.started_at


def let_time_pass(app, team_id: int, seconds: float) -> None:
    """As if ``seconds`` had passed since: every time the server keeps of the team (start,
    finds, flags, last fix, its devices' latest times) moves that far into the past."""
    from server import models
    from server.extensions import db

    back = timedelta(seconds=seconds)
    with app.app_context():
        team = db.session.get(models.Team, team_id)
        team.started_at -= back
        if team.finished_at is not None:
            team.finished_at -= back
        if team.last_fix_at is not None:
            team.last_fix_at -= back
        for row in [*team.discoveries, *team.flags]:
            if isinstance(row, models.Discovery):
                row.found_at -= back
            else:
                row.at -= back
        for device in team.tokens:
            if device.last_recorded_at is not None:
                device.last_recorded_at -= back
        db.session.commit()


def count_rows(app, model_name: str, **filters: Any) -> int:
    """How many rows of server.models.<model_name> match the filters."""
    from sqlalchemy import func, select

    from server import models
    from server.extensions import db

    model = getattr(models, model_name)
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).filter_by(**filters))


def assert_error(resp, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is a JSON error with this status (and code); its ``error`` object."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.mimetype == "application/json", resp.mimetype
    body = resp.get_json()
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"].strip()
    assert error["message"] != error["code"]
    if code is not None:
        assert error["code"] == code, error
    return error


@dataclass(frozen=True)
class Fix:
    position: LatLon
    at: datetime


def walk(
    waypoints: list[LatLon], start: datetime, speed_mps: float = 1.3, interval_s: float = 25.0
) -> Iterator[Fix]:
    """Fixes every ``interval_s`` seconds along straight legs through the waypoints, walked at
    ``speed_mps``; every waypoint itself is one of the fixes."""
    at = start
    yield Fix(waypoints[0], at)
    step = speed_mps * interval_s
    for a, b in itertools.pairwise(waypoints):
        length = distance_m(a, b)
        heading = bearing_deg(a, b)
        walked = step
        while walked < length:
            at += timedelta(seconds=interval_s)
            yield Fix(destination(a, heading, walked), at)
            walked += step
        at += timedelta(seconds=interval_s * (length - (walked - step)) / step)
        yield Fix(b, at)


def staff_client(app, user_id: int | None):
    """A test client with a session of that user (no login round trip: Argon2 is slow)."""
    from server.extensions import db
    from server.models import User

    client = app.test_client()
    if user_id is not None:
        with app.app_context():
            session_id = db.session.get(User, user_id).get_id()
        with client.session_transaction() as session:
            session["_user_id"] = session_id
            session["_fresh"] = True
    return client


TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
"""How the statements that only control a transaction begin."""


@contextlib.contextmanager
def sql_sent(app) -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends while the block runs, in order, on one line."""
    from sqlalchemy import event

    from server.extensions import db

    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        sent.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def sql_queries(sent: list[str]) -> list[str]:
    """The statements that do not only control a transaction."""
    return [s for s in sent if not s.upper().startswith(TRANSACTION)]
