"""Several instances behind a proxy: gunicorn and a second server share one database and one Redis
for rate limits, and nothing a second instance needs lives in a process's memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.live import free_port

BIN = Path(sys.executable).parent
SLUG = "art-caching-kaiserslautern"


def call(base: str, method: str, path: str, body=None, token=None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", "Accept-Language": "en"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def shared_database(tmp_path):
    """A database of its own: a SQLite file, or a fresh PostgreSQL database when CI has one."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        return
    import psycopg

    name = f"artcaching_instances_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url():
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


@pytest.fixture
def instances(shared_database, redis_url, tmp_path):
    """Instance A under gunicorn (two workers), instance B under werkzeug; both on 127.0.0.1."""
    env = {
        **os.environ,
        "DATABASE_URL": shared_database,
        "SECRET_KEY": "shared-secret-of-both-instances",
        "PUBLIC_BASE_URL": "https://rally.example.org",
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "RATELIMIT_TEAM_CREATE": "3 per minute",
        "MEDIA_DIR": str(tmp_path / "media"),
    }
    for args in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(
            [BIN / "artcaching", *args],
            env=env,
            cwd=tmp_path,
            check=True,
            capture_output=True,
            timeout=120,
        )
    port_a, port_b = free_port(), free_port()
    processes = [
        subprocess.Popen(
            [
                BIN / "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port_a}",
                "server:create_app()",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [BIN / "artcaching", "run", "--port", str(port_b)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    bases = [f"http://127.0.0.1:{port_a}/api/v1", f"http://127.0.0.1:{port_b}/api/v1"]
    try:
        deadline = time.monotonic() + 60
        for base in bases:
            while True:
                try:
                    if call(base, "GET", "/rallies")[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, f"{base} did not start"
                time.sleep(0.2)
        yield bases, env
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            p.wait(timeout=20)


def qr_token(env: dict, rally_slug: str, stop: int) -> str:
    """A QR token signed with the shared key ring (read from the shared database)."""
    from server import create_app, game, models
    from server.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"].replace(
                "postgresql://", "postgresql+psycopg://"
            ),
            "SECRET_KEY": env["SECRET_KEY"],
        }
    )
    with app.app_context():
        rally = db.session.query(models.Rally).filter_by(slug=rally_slug).one()
        token = game.keyring().sign(rally.id, rally.stops[stop].marker_id)
        db.engine.dispose()
    return token


@pytest.mark.slow
def test_two_instances_share_game_state_and_rate_limits(instances):
    (a, b), env = instances
    status, created = call(a, "POST", f"/rallies/{SLUG}/teams", {"name": "Nomaden"})
    assert status == 201
    token = created["token"]

    status, team = call(b, "GET", "/team", token=token)
    assert status == 200 and team["name"] == "Nomaden"

    event = {
        "token": qr_token(env, SLUG, 0),
        "client_event_id": str(uuid.uuid4()),
        "recorded_at": datetime.now(UTC).isoformat(),
    }
    status, found = call(b, "POST", "/team/scans", event, token=token)
    assert status == 200 and found["result"] == "found"
    status, again = call(a, "POST", "/team/scans", event, token=token)
    assert (status, again) == (200, found), "a resent event gets the first answer anywhere"
    for base in (a, a, b):
        status, team = call(base, "GET", "/team", token=token)
        # the demo's stop 1 gives its letter once its question is answered
        assert team["progress"]["found"] == 1 and team["letters"][0] is None
    answer = {"stop": 1, "answer": "1892", "client_event_id": str(uuid.uuid4())}
    status, right = call(a, "POST", "/team/answers", answer, token=token)
    assert status == 200 and right["correct"] is True
    status, team = call(b, "GET", "/team", token=token)
    assert team["letters"][0] == "B" and team["score"] == 150

    # RATELIMIT_TEAM_CREATE is 3 per minute, counted in Redis across both instances.
    assert call(b, "POST", f"/rallies/{SLUG}/teams", {"name": "Zwei"})[0] == 201
    assert call(a, "POST", f"/rallies/{SLUG}/teams", {"name": "Drei"})[0] == 201
    status, body = call(b, "POST", f"/rallies/{SLUG}/teams", {"name": "Vier"})
    assert status == 429 and body["error"]["code"] == "team_creation_limited"
