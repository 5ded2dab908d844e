"""Time a player's check-in (rules, row lock, idempotency record) on SQLite and, when
TEST_DATABASE_URL is set, PostgreSQL, against a baseline measured in the same run: GET /api/v1/team,
which authenticates the team and reads its state but writes nothing."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from markers.geo import destination

FIXES = 200


def _app(url: str):
    from server import create_app
    from server.extensions import db

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": url,
            "PUBLIC_BASE_URL": "https://artcaching.example.org",
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _team(app, client) -> tuple[str, list]:
    from server import models, seed
    from server.extensions import db

    with app.app_context():
        row = seed.demo()
        db.session.commit()
        slug = row.slug
        stop = (row.stops[0].marker.lat, row.stops[0].marker.lon)
    token = client.post(f"/api/v1/rallies/{slug}/teams", json={"name": "Bench"}).json["token"]
    with app.app_context():
        team = db.session.query(models.Team).one()
        team.started_at = datetime.now(UTC) - timedelta(hours=2)
        db.session.commit()
    return token, stop


def _per_request_ms(send) -> float:
    times = []
    for i in range(FIXES):
        start = time.perf_counter()
        send(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def checkin_body(stop, bearing: float, at: datetime) -> dict:
    """A check-in 300 m from ``stop`` (outside its geofence) at ``bearing``, recorded at ``at``."""
    lat, lon = destination(stop, bearing, 300.0)
    return {
        "lat": lat,
        "lon": lon,
        "accuracy_m": 8.0,
        "recorded_at": at.isoformat(),
        "client_event_id": str(uuid.uuid4()),
    }


def measure(url: str) -> tuple[float, float]:
    app = _app(url)
    client = app.test_client()
    token, stop = _team(app, client)
    auth = {"Authorization": f"Bearer {token}"}
    t0 = datetime.now(UTC) - timedelta(hours=1)

    def checkin(i: int) -> None:
        # Walk around the first stop at 1 m/s without entering its 30 m geofence.
        body = checkin_body(stop, i * 1.8, t0 + timedelta(seconds=10 * i))
        assert client.post("/api/v1/team/checkins", json=body, headers=auth).status_code == 200

    def read(_i: int) -> None:
        assert client.get("/api/v1/team", headers=auth).status_code == 200

    baseline = _per_request_ms(read)
    checkins = _per_request_ms(checkin)
    with app.app_context():
        from server.extensions import db

        db.drop_all()
        db.engine.dispose()
    return baseline, checkins


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")]
        if os.environ.get("TEST_DATABASE_URL"):
            from server.config import database_url

            targets.append(("PostgreSQL", database_url(os.environ["TEST_DATABASE_URL"], tmp)))
        print(f"median of {FIXES} requests, in-process test client")
        for name, url in targets:
            baseline, checkins = measure(url)
            print(
                f"{name:10s}  GET /team {baseline:6.2f} ms   POST /team/checkins "
                f"{checkins:6.2f} ms   ratio {checkins / baseline:4.1f}x"
            )


if __name__ == "__main__":
    main()
