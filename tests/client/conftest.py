"""Fixtures of the client tests."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import databases
from tests.conftest import ROOT
from tests.live import Answer, LiveServer, StubServer

XVFB_SCREEN = "720x1280x24"


def _read_display(fd: int, proc: subprocess.Popen, timeout_s: float = 20.0) -> str:
    """The display number Xvfb writes to -displayfd once it accepts clients."""
    deadline = time.monotonic() + timeout_s
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.poll() is not None else ""
            raise RuntimeError(f"Xvfb did not start within {timeout_s:g} s: {err[-500:]}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 64)
            if not chunk:
                break
            data += chunk
    return ":" + data.decode().strip()


@pytest.fixture(scope="session")
def xvfb_display():
    """A virtual X server (Xvfb) for Kivy windows; yields its DISPLAY, e.g. ":5"."""
    exe = shutil.which("Xvfb")
    if exe is None:
        pytest.fail("Xvfb is not installed: run 'make system-deps' (Debian package xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [
            exe,
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            XVFB_SCREEN,
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    try:
        display = _read_display(read_fd, proc)
    finally:
        os.close(read_fd)
    yield display
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def kivy_environment(display: str, home: Path) -> dict[str, str]:
    """Environment for a child process that opens a Kivy window on display."""
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "DISPLAY": display,
            "KIVY_NO_ARGS": "1",
            "KIVY_NO_CONSOLELOG": "1",
            "KIVY_HOME": str(home),
            "KIVY_WINDOW": "sdl2",
            "KIVY_CLIPBOARD": "sdl2",
            "KIVY_METRICS_DENSITY": "1",
            "SDL_AUDIODRIVER": "dummy",
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        }
    )
    env.pop("WAYLAND_DISPLAY", None)
    return env


@pytest.fixture
def kivy_env(xvfb_display, tmp_path) -> dict[str, str]:
    """Environment for a child process that opens a Kivy window on the Xvfb display."""
    return kivy_environment(xvfb_display, tmp_path / "kivy-home")


def kivy_log(env: dict[str, str]) -> str:
    """The tail of the Kivy log files written under KIVY_HOME (for failure messages)."""
    logs = sorted(Path(env["KIVY_HOME"]).glob("logs/*.txt"))
    lines = [
        line
        for p in logs[-1:]
        for line in p.read_text(errors="replace").splitlines()
        if "[DEBUG" not in line
    ]
    return "\n".join(lines)[-4000:]


def run_python(
    env: dict[str, str], args: list[str], timeout_s: float, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    """Run `python args...` with env; on a timeout, the process is killed and the test fails."""
    try:
        return subprocess.run(
            [sys.executable, *args],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr
        pytest.fail(
            f"{args} did not finish within {timeout_s:g} s\n{(err or '')[-3000:]}\n{kivy_log(env)}"
        )


@dataclass
class DemoServer:
    """The server app with the demo rally, served on 127.0.0.1 (a thread of this process)."""

    url: str
    app: Any
    slug: str
    rally_id: int

    def stops(self) -> list[dict[str, Any]]:
        """The demo rally's stops as the server keeps them: marker id, position, radius, texts."""
        from server import game, models
        from server.extensions import db

        with self.app.app_context():
            rally = game.domain_rally(db.session.get(models.Rally, self.rally_id))
            return [
                {
                    "stop": i + 1,
                    "marker_id": s.marker.id,
                    "lat": s.marker.position.lat,
                    "lon": s.marker.position.lon,
                    "radius_m": s.marker.radius_m,
                    "title": dict(s.marker.title),
                    "clue": dict(s.effective_clue),
                    "letter": rally.letter(i),
                }
                for i, s in enumerate(rally.stops)
            ]

    def qr_url(self, marker_id: int) -> str:
        """The URL a printed QR fallback of the marker holds."""
        from server import game

        with self.app.app_context():
            return game.qr_url_for(self.rally_id, marker_id)

    def discoveries(self, team_name: str) -> list[tuple[int, str]]:
        """(stop number, method) of every find of the team, in stop order."""
        from sqlalchemy import select

        from server import models
        from server.extensions import db

        with self.app.app_context():
            team = db.session.scalar(select(models.Team).filter_by(name=team_name))
            stop_of = {s.marker_id: i + 1 for i, s in enumerate(team.rally.stops)}
            return sorted((stop_of[d.marker_id], d.method) for d in team.discoveries)


@contextmanager
def serving_demo(folder: Path, **config: Any) -> Iterator[DemoServer]:
    """A fresh SQLite database with the published demo rally, served until the block ends
    (config: settings of the server's beside the tests' own)."""
    from server import create_app
    from server.extensions import db

    url = databases.sqlite_copy(folder / "ui.sqlite3", "demo")
    demo = databases.templates().sqlite.demo
    app = create_app(
        {
            **databases.TEST_SETTINGS,
            "SQLALCHEMY_DATABASE_URI": url,
            "MEDIA_DIR": str(folder / "media"),
            **config,
        }
    )
    server = LiveServer(app)
    try:
        yield DemoServer(server.url, app, demo.slug, demo.rally_id)
    finally:
        server.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def pixel_spread(path: Path) -> tuple[float, float]:
    """(standard deviation, mean) of a screenshot's grey levels: 0 spread means an empty image."""
    from PIL import Image, ImageStat

    with Image.open(path) as image:
        stat = ImageStat.Stat(image.convert("L"))
    return stat.stddev[0], stat.mean[0]


@pytest.fixture
def restartable_server(app):
    """Like live_server, but the test may stop() and start() it (same URL)."""
    server = LiveServer(app)
    yield server
    server.stop()


def png(colour: tuple[int, int, int], size: int = 256) -> bytes:
    """A one-colour PNG image."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, "PNG")
    return out.getvalue()


class TileServer:
    """A map tile server on 127.0.0.1; policy(z, x, y) -> (status, content type, body).

    ``requests`` lists (path, User-Agent) of every request; ``url`` is the tile URL template.
    """

    def __init__(self, policy: Callable[[int, int, int], tuple[int, str, bytes]]) -> None:
        def answer(path: str) -> Answer:
            z, x, y = (int(v) for v in path.strip("/").removesuffix(".png").split("/"))
            status, kind, body = policy(z, x, y)
            return status, {"Content-Type": kind}, body

        self._stub = StubServer(answer)
        self.url = f"{self._stub.url}/{{z}}/{{x}}/{{y}}.png"

    @property
    def requests(self) -> list[tuple[str, str]]:
        return [(path, headers.get("User-Agent", "")) for path, headers in self._stub.requests]

    def close(self) -> None:
        self._stub.stop()
