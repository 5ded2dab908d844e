"""SQL statements per request kind (a SQLAlchemy ``before_cursor_execute`` listener), on SQLite
and, when TEST_DATABASE_URL is set, PostgreSQL: the numbers of docs/scaling.md. Rate limits on
(in memory, never reached), as served."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from bench.checkins import checkin_body

REQUESTS = 20
HIGH = "1000000 per minute"


def _app(url: str):
    from server import create_app
    from server.extensions import db

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "PUBLIC_BASE_URL": "https://artcaching.example.org",
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_DEFAULT": HIGH,
            "RATELIMIT_EVENTS": HIGH,
            "RATELIMIT_TEAM_CREATE": HIGH,
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _setup(app, client) -> tuple[str, str, tuple[float, float]]:
    """The demo rally, one team started two hours ago: (token, QR token of stop 1, stop 1)."""
    from server import game, models, seed
    from server.extensions import db

    with app.app_context():
        row = seed.demo()
        db.session.commit()
        slug, stop = row.slug, (row.stops[0].marker.lat, row.stops[0].marker.lon)
        qr = game.keyring().sign(row.id, row.stops[0].marker_id)
    token = client.post(f"/api/v1/rallies/{slug}/teams", json={"name": "Bench"}).json["token"]
    with app.app_context():
        team = db.session.query(models.Team).one()
        team.started_at = datetime.now(UTC) - timedelta(hours=2)
        db.session.commit()
    return token, qr, stop


def count(url: str) -> dict[str, float]:
    """Mean statements per request of each kind."""
    from server.extensions import db

    app = _app(url)
    client = app.test_client()
    token, qr, stop = _setup(app, client)
    auth = {"Authorization": f"Bearer {token}"}
    t0 = datetime.now(UTC) - timedelta(hours=1)
    fixes = iter(range(10**6))

    def checkin():
        i = next(fixes)  # 1.4 m/s around stop 1, outside its fence
        body = checkin_body(stop, i * 2.0, t0 + timedelta(seconds=5 * i))
        return client.post("/api/v1/team/checkins", json=body, headers=auth)

    def scan(event_id: str | None = None):
        body = {"token": qr, "client_event_id": event_id or str(uuid.uuid4())}
        return client.post("/api/v1/team/scans", json=body, headers=auth)

    repeated = str(uuid.uuid4())
    kinds = {
        "GET /api/v1/rallies": lambda: client.get("/api/v1/rallies"),
        "GET /api/v1/team": lambda: client.get("/api/v1/team", headers=auth),
        "POST /team/checkins": checkin,
        "POST /team/scans (a find, then found)": scan,
        "POST /team/scans (resent event id)": lambda: scan(repeated),
    }
    statements: Counter[str] = Counter()
    now = [""]
    with app.app_context():
        engine = db.engine

    def listen(*_args) -> None:
        statements[now[0]] += 1

    for send in kinds.values():
        send()  # warm-up (and the first scan's find)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        for kind, send in kinds.items():
            now[0] = kind
            for _ in range(REQUESTS):
                status = send().status_code
                if status >= 300:
                    raise SystemExit(f"{kind}: {status}")
    finally:
        event.remove(engine, "before_cursor_execute", listen)
        with app.app_context():
            db.drop_all()
            db.engine.dispose()
    return {kind: statements[kind] / REQUESTS for kind in kinds}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")]
        if os.environ.get("TEST_DATABASE_URL"):
            from server.config import database_url

            targets.append(("PostgreSQL", database_url(os.environ["TEST_DATABASE_URL"], tmp)))
        counts = {name: count(url) for name, url in targets}
    names = list(counts)
    print(f"SQL statements per request (mean of {REQUESTS}); markdown rows for docs/scaling.md:")
    print("| request | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    for kind in counts[names[0]]:
        print(f"| {kind} | " + " | ".join(f"{counts[n][kind]:g}" for n in names) + " |")


if __name__ == "__main__":
    main()
