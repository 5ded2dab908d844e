"""What the benches from outside start and always stop again: a database (a SQLite file or a
temporary PostgreSQL database), a Redis of their own, gunicorn instances, and the CPU each
process used (read from /proc)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
"""Where the PostgreSQL benches create their database (user postgres, trust, on loopback)."""
TICKS = os.sysconf("SC_CLK_TCK")
HIGH_LIMIT = "1000000 per minute"
"""A rate limit the bench never reaches: the limiter still counts each request (in Redis or in
memory), as in production, but it never refuses one."""


def machine() -> str:
    """The machine a figure was taken on: cores, CPU model, and how busy it was already."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores, {model}, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"load average {load:.1f} before the run"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process's group (it was started in a session of its own), then SIGKILL."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def terminated_cleanly() -> Iterator[None]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt like Ctrl-C, so every ``finally`` runs."""

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    old = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def postgres_missing() -> str | None:
    """Why the PostgreSQL benches cannot run here (no server at PG_ADMIN, no redis-server)."""
    import psycopg

    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.Error as e:
        return f"no PostgreSQL at {PG_ADMIN} ({str(e).strip().splitlines()[0]})"
    return None


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A new PostgreSQL database (its URL), dropped afterwards with every connection to it."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def redis_server() -> Iterator[tuple[str, subprocess.Popen]]:
    """A Redis of our own on a free loopback port, no persistence: its URL and process."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        _stop(proc)


def app_environment(database_url: str, ratelimit_uri: str, **limits: str) -> dict[str, str]:
    """The environment of the bench's app processes: the README's production settings on
    loopback; ``limits`` set RATELIMIT_* variables (an organiser's raised limits)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATELIMIT_", "FLASK_"))}
    env.update(
        DATABASE_URL=database_url,
        RATELIMIT_STORAGE_URI=ratelimit_uri,
        RATELIMIT_KEY_PREFIX=f"bench-{uuid.uuid4().hex[:8]}",
        SECRET_KEY="bench-" + uuid.uuid4().hex,
        PUBLIC_BASE_URL="https://rally.example.org",
        PRIVACY_SWEEP_MINUTES="0",
    )
    env.update(limits)
    return env


def prepare(env: dict[str, str]) -> None:
    """Migrate the database and seed the demo rally, as an organiser does."""
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(
            [str(BIN / "artcaching"), *command], env=env, check=True, capture_output=True
        )


@dataclass
class Gunicorn:
    """One gunicorn instance: its address and its master process."""

    url: str
    proc: subprocess.Popen

    def pids(self) -> dict[str, int]:
        """The master and its workers, by a readable name."""
        found = {"master": self.proc.pid}
        for i, pid in enumerate(sorted(children(self.proc.pid))):
            found[f"worker {i + 1}"] = pid
        return found


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int = 2, log: Path | None = None) -> Iterator[Gunicorn]:
    """gunicorn with sync workers serving ``server:create_app()`` on a free loopback port."""
    port = free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "4096",
            "server:create_app()",
        ],
        env=env,
        stdout=out,
        stderr=out,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/api/v1/rallies", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start (see {log})")
            time.sleep(0.2)
        # Every worker has imported the app once it answered; wait until all are forked.
        while len(children(proc.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        yield Gunicorn(url, proc)
    finally:
        _stop(proc)
        if log:
            out.close()


def children(pid: int) -> list[int]:
    """The direct children of a process."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def postgres_backends(database_url: str) -> list[int]:
    """The server processes of the connections to the bench's database."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return [r[0] for r in rows]


def own_cpu() -> float:
    """CPU seconds of this process (the load generator)."""
    t = os.times()
    return t.user + t.system


class CpuMeter:
    """CPU seconds per named group of processes between ``start()`` and ``stop()``; a process
    that appears in between counts from its birth."""

    def __init__(self, groups) -> None:
        self.groups = groups  # a callable: {group: {name: pid}}
        self.before: dict[int, float] = {}

    def start(self) -> None:
        self.before = {
            pid: cpu_seconds(pid) for names in self.groups().values() for pid in names.values()
        }
        self.own = own_cpu()

    def stop(self) -> dict[str, dict[str, float]]:
        used = {
            group: {
                name: cpu_seconds(pid) - self.before.get(pid, 0.0) for name, pid in names.items()
            }
            for group, names in self.groups().items()
        }
        used["generator"] = {"load generator": own_cpu() - self.own}
        return used
