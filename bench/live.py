"""Time the organiser's live view endpoint with 50 and 500 teams (SQLite file), against two
baselines: a request that does almost nothing (GET /api/v1/session) and the same data gathered
the naive way (lazy relationships, queries per team)."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

TEAMS = (50, 500)
REPEAT = 15


def _app(path: Path):
    from server import create_app
    from server.extensions import db

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "PUBLIC_BASE_URL": "https://artcaching.example.org",
        }
    )
    with app.app_context():
        db.create_all()
    return app


def _seed(app, teams: int) -> str:
    from server import models, seed
    from server.auth import create_user
    from server.extensions import db

    now = datetime.now(UTC)
    with app.app_context():
        row = seed.demo()
        create_user("bench", "bench-password", models.Role.ORGANISER)
        markers = [s.marker_id for s in row.stops]
        for i in range(teams):
            found = i % (len(markers) + 1)
            team = models.Team(
                rally_id=row.id,
                name=f"Team {i}",
                join_code=f"J{i:07d}",
                started_at=now - timedelta(hours=1),
                score=100 * found,
                found_count=found,
                last_lat=49.44 + i * 1e-5,
                last_lon=7.76,
                last_accuracy_m=9.0,
                last_fix_at=now - timedelta(minutes=i % 20),
            )
            db.session.add(team)
            db.session.flush()
            for k, marker_id in enumerate(markers[:found]):
                db.session.add(
                    models.Discovery(
                        team_id=team.id,
                        marker_id=marker_id,
                        method="gps",
                        found_at=now - timedelta(minutes=k),
                    )
                )
            if found:
                db.session.add(
                    models.StopProgress(
                        team_id=team.id,
                        marker_id=markers[0],
                        solved=i % 2 == 0,
                        points=50 if i % 2 == 0 else 0,
                        hints=i % 3,
                    )
                )
            if i % 5 == 0:
                db.session.add(
                    models.TeamFlag(
                        team_id=team.id, kind="teleport", at=now, detail={"speed_mps": 30.0}
                    )
                )
        db.session.commit()
        return row.slug


def _naive(app, slug: str) -> None:
    """The same content with a query per team (discoveries, flags and task progress through
    relationships)."""
    from server import models
    from server.extensions import db

    with app.app_context():
        row = db.session.scalar(db.select(models.Rally).filter_by(slug=slug))
        out = []
        for team in db.session.scalars(db.select(models.Team).filter_by(rally_id=row.id)):
            out.append(
                {
                    "id": team.id,
                    "name": team.name,
                    "finds": {d.marker_id: d.method for d in team.discoveries},
                    "flags": [f.kind for f in team.flags],
                    "hints": sum(p.hints for p in team.progress),
                }
            )
        db.session.remove()


def _time(fn) -> float:
    """Median milliseconds of REPEAT calls, after one warm-up call."""
    fn()
    runs = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def _get(client, url: str) -> None:
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code


def main() -> None:
    from server.extensions import db

    print(
        f"{'teams':>6} {'baseline ms':>12} {'live ms':>9} {'x baseline':>11} "
        f"{'naive ms':>9} {'queries':>8} {'KiB':>6}"
    )
    for teams in TEAMS:
        with tempfile.TemporaryDirectory() as tmp:
            app = _app(Path(tmp) / "bench.sqlite3")
            slug = _seed(app, teams)
            client = app.test_client()
            client.post("/login", data={"username": "bench", "password": "bench-password"})
            url = f"/api/v1/organiser/rallies/{slug}/live"
            baseline = _time(lambda c=client: _get(c, "/api/v1/session"))
            live = _time(lambda c=client, u=url: _get(c, u))
            naive = _time(lambda a=app, s=slug: _naive(a, s))
            with app.app_context():
                engine = db.engine
            queries: list[str] = []

            def count(*args, _q=queries) -> None:
                _q.append(args[2])

            event.listen(engine, "before_cursor_execute", count)
            size = len(client.get(url).data)
            event.remove(engine, "before_cursor_execute", count)
            print(
                f"{teams:>6} {baseline:>12.1f} {live:>9.1f} {live / baseline:>11.1f} "
                f"{naive:>9.1f} {len(queries):>8} {size / 1024:>6.0f}"
            )
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


if __name__ == "__main__":
    main()
