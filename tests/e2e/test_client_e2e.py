"""End to end: the real server as a process, the real app (`artcaching-client --autoplay`) as a
process under Xvfb, the demo rally walked from start to finish.

One stop is found by scanning its QR code from the organisers' PDF (the poster page rendered to
an image and given to the app as camera frames); the others by GPS. The second run stops the
server halfway and starts it again: the app keeps its finds in the outbox meanwhile, and the
server ends up with every event exactly once.

Replay timing: the app walks the organisers' GPX route (2.9 km, 2194 fixes one second apart)
at 1.3 m/s of simulated time, replayed SPEEDUP = 160 times faster: 14 s of pacing plus the
server's answers, about 30 s a walk on two quiet cores. Each fix carries its simulated time, which
runs ahead of the wall clock by up to the walk's length (~37 min); the server is started with
MAX_CLOCK_SKEW_S=3600 so it accepts those times, while its teleport check (25 m/s) still sees
walking speed. The event rate limit is raised for the same reason (dozens of fixes a second).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.client import conftest as client_fixtures
from tests.client.conftest import kivy_environment, kivy_log
from tests.client.test_ui_screens import street_scene
from tests.conftest import ARTIFACTS, console_script
from tests.live import free_port

xvfb_display = client_fixtures.xvfb_display
"""The Xvfb fixture of tests/client, used here too."""

pytestmark = [pytest.mark.e2e, pytest.mark.kivy, pytest.mark.slow]

ARTCACHING = str(console_script("artcaching"))
CLIENT = str(console_script("artcaching-client"))
SLUG = "art-caching-kaiserslautern"
QR_STOP = 3
SPEEDUP = 160.0
STOPS = 10
ANSWERS = {"1": 1892, "7": "Kleine Kirche", "10": 2}
"""The right answers to the demo's tasks (number, text, choice), given by --answers: the app
does not know them."""
FULL_SCORE = STOPS * 100 + 200 + 3 * 50
"""Every stop (GPS or QR) gives 100 points, the complete rally 200 more, each task answered
right at once its 50 (routes.rules)."""


def get_json(url: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
        return json.loads(r.read())


class Server:
    """`artcaching run` on 127.0.0.1 with its own SQLite file; can be stopped and started."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = folder / "server.sqlite3"
        self.env = dict(os.environ)
        self.env.update(
            {
                "DATABASE_URL": f"sqlite:///{self.db}",
                "SECRET_KEY": "e2e-secret-key-not-for-production",
                "PUBLIC_BASE_URL": self.url,
                "MEDIA_DIR": str(folder / "media"),
                "MAX_CLOCK_SKEW_S": "3600",
                "RATELIMIT_EVENTS": "20000 per minute",
                "RATELIMIT_DEFAULT": "20000 per minute",
                "FLASK_DEBUG": "0",
            }
        )
        self.proc: subprocess.Popen | None = None
        self.log = open(folder / "server.log", "ab")  # noqa: SIM115 (open while the server runs)

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [ARTCACHING, *args],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"artcaching {' '.join(args)}: {result.stderr[-2000:]}"
        return result.stdout + result.stderr

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [ARTCACHING, "run", "--host", "127.0.0.1", "--port", str(self.port), "--no-reload"],
            env=self.env,
            cwd=self.folder,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                get_json(f"{self.url}/api/v1/rallies")
                return
            except OSError:
                assert self.proc.poll() is None, "the server exited at start (see server.log)"
                assert time.monotonic() < deadline, "the server did not answer within 30 s"
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def leaderboard_entry(self, team: str) -> dict[str, Any] | None:
        board = get_json(f"{self.url}/api/v1/rallies/{SLUG}/leaderboard")
        return next((e for e in board["entries"] if e["team"] == team), None)

    def events_recorded(self, team: str) -> tuple[int, int]:
        """(client events the server recorded for the team, discoveries of the team)."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            team_id = db.execute("SELECT id FROM team WHERE name = ?", (team,)).fetchone()[0]
            events = db.execute(
                "SELECT COUNT(*) FROM client_event WHERE team_id = ?", (team_id,)
            ).fetchone()[0]
            finds = db.execute(
                "SELECT COUNT(*) FROM discovery WHERE team_id = ?", (team_id,)
            ).fetchone()[0]
        return events, finds


@pytest.fixture(scope="module")
def world(xvfb_display, tmp_path_factory):
    """The server with the demo rally, the route as GPX, the camera frames with one poster."""
    folder = tmp_path_factory.mktemp("e2e")
    server = Server(folder)
    server.cli("db", "upgrade")
    server.cli("seed-demo")
    route = folder / "route.gpx"
    server.cli("export-route", SLUG, "--format", "gpx", "-o", str(route))
    posters = folder / "posters.pdf"
    server.cli("export-qr", SLUG, "--format", "pdf", "-o", str(posters))
    frames = folder / "frames"
    frames.mkdir()
    street_scene().save(frames / "0-street.png")
    poster_frame(posters, QR_STOP).save(frames / "1-poster.png")
    server.start()
    yield {
        "server": server,
        "route": route,
        "frames": frames,
        "folder": folder,
        "display": xvfb_display,
    }
    server.stop()
    server.log.close()


def poster_frame(pdf_path: Path, stop: int) -> Any:
    """The PDF's poster page of a stop, rendered and photographed: turned a little, on a wall."""
    import pypdfium2
    from PIL import Image

    pdf = pypdfium2.PdfDocument(str(pdf_path))
    try:
        page = pdf[stop - 1].render(scale=110 / 72).to_pil().convert("RGB")
    finally:
        pdf.close()
    wall = Image.new("RGB", (page.width + 160, page.height + 200), (128, 118, 104))
    wall.paste(page.rotate(3, expand=True, fillcolor=(128, 118, 104)), (60, 80))
    return wall


def start_client(
    world: dict[str, Any], team: str, data_dir: Path, shots: Path | None = None
) -> tuple[subprocess.Popen, dict[str, str]]:
    env = kivy_environment(world["display"], data_dir.parent / f"kivy-{data_dir.name}")
    args = [
        CLIENT,
        "--server",
        world["server"].url,
        "--rally",
        SLUG,
        "--team",
        team,
        "--simulate-gpx",
        str(world["route"]),
        "--frames",
        str(world["frames"]),
        "--autoplay",
        "--speedup",
        str(SPEEDUP),
        "--timeout",
        "240",
        "--data-dir",
        str(data_dir),
        "--tile-url",
        "",
        "--lang",
        "en",
        "--answers",
        json.dumps(ANSWERS),
    ]
    if shots is not None:
        args += ["--screenshot-dir", str(shots)]
    proc = subprocess.Popen(
        args,
        env=env,
        cwd=world["folder"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, env


def finish(proc: subprocess.Popen, env: dict[str, str], timeout_s: float = 300) -> str:
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the app did not end within {timeout_s:g} s\n{err[-2000:]}\n{kivy_log(env)}")
    assert proc.returncode == 0, (
        f"the app failed ({proc.returncode}):\n{out[-2000:]}\n{err[-3000:]}\n{kivy_log(env)}"
    )
    return out


def team_state(data_dir: Path, server: Server) -> dict[str, Any]:
    token = json.loads((data_dir / "settings.json").read_text())["team_token"]
    return get_json(f"{server.url}/api/v1/team", token)


def outbox_counts(data_dir: Path) -> dict[str, int]:
    """Events of the app's outbox by state (pending, done, rejected)."""
    with sqlite3.connect(f"file:{data_dir / 'outbox.sqlite3'}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT state, COUNT(*) FROM events GROUP BY state").fetchall())


def check_complete(world: dict[str, Any], team: str, data_dir: Path) -> dict[str, Any]:
    server: Server = world["server"]
    entry = server.leaderboard_entry(team)
    assert entry is not None and entry["finished"], f"leaderboard: {entry}"
    assert entry["found"] == STOPS and entry["score"] == FULL_SCORE
    state = team_state(data_dir, server)
    assert state["finished"] and state["progress"] == {"found": STOPS, "total": STOPS}
    stops = sorted(f["stop"] for f in state["found"])
    assert stops == list(range(1, STOPS + 1)), "each stop found exactly once"
    methods = {f["stop"]: f["method"] for f in state["found"]}
    assert methods[QR_STOP] == "qr"
    assert {m for s, m in methods.items() if s != QR_STOP} == {"gps"}
    assert state["solution"] == "B A R B A R O S S A", "stop 1's letter shows once answered"
    tasks = {f["stop"]: f["task"] for f in state["found"] if f["task"]}
    assert sorted(tasks) == [1, 7, 10]
    assert all(t["solved"] and t["points_won"] == 50 for t in tasks.values()), tasks
    counts = outbox_counts(data_dir)
    assert counts.get("pending", 0) == 0 and counts.get("rejected", 0) == 0, counts
    events, finds = server.events_recorded(team)
    assert finds == STOPS
    assert events == counts["done"], "every event of the outbox recorded once by the server"
    return {"entry": entry, "events": events}


def test_autoplay_walks_the_demo_rally_to_the_end(world):
    shots = ARTIFACTS / "client-e2e"
    data_dir = world["folder"] / "client-1"
    started = time.monotonic()
    proc, env = start_client(world, "E2E walkers", data_dir, shots)
    out = finish(proc, env)
    took = time.monotonic() - started
    assert "rally complete: 10/10 stops, 1 by QR code [3]" in out, out[-2000:]
    result = check_complete(world, "E2E walkers", data_dir)
    for name in ("start", "clue", "arview", "map", "scan", "reveal", "progress"):
        assert (shots / f"client-{name}.png").exists(), f"no screenshot of {name}"
    print(f"\nautoplay walk: {took:.1f} s wall time, {result['events']} events")


def test_the_server_stopped_halfway_loses_nothing_and_counts_nothing_twice(world):
    server: Server = world["server"]
    team = "E2E restart"
    data_dir = world["folder"] / "client-2"
    started = time.monotonic()
    proc, env = start_client(world, team, data_dir)
    deadline = time.monotonic() + 200
    while True:
        assert proc.poll() is None, f"the app ended early: {proc.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, "the walk did not get halfway"
        entry = server.leaderboard_entry(team)
        if entry is not None and entry["found"] >= STOPS // 2:
            break
        time.sleep(0.2)
    found_before = entry["found"]
    server.stop()
    down = time.monotonic()
    while time.monotonic() - down < 8:
        assert proc.poll() is None, "the app must keep walking while the server is down"
        time.sleep(0.5)
    waiting = outbox_counts(data_dir).get("pending", 0)
    assert waiting > 0, "events made while the server was down wait in the outbox"
    server.log.flush()
    restarted_at = (world["folder"] / "server.log").stat().st_size
    server.start()
    out = finish(proc, env)
    with open(world["folder"] / "server.log", "rb") as log:
        log.seek(restarted_at)
        catch_up = log.read().decode(errors="replace").count('"POST /api/v1/team/')
    took = time.monotonic() - started
    assert "rally complete: 10/10 stops" in out
    assert found_before < STOPS
    result = check_complete(world, team, data_dir)
    print(
        f"\nrestart walk: {took:.1f} s wall time, server down 8 s after {found_before} finds "
        f"with {waiting} events waiting; {result['events']} events in all; "
        f"{catch_up} event requests after the restart"
    )
