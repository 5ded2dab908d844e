"""Saturated throughput from outside: gunicorn (2 sync workers, as in the README's production
section) on SQLite and on PostgreSQL, driven by one asyncio generator at a fixed concurrency.
Check-ins (and scans and GET /team) against GET /api/v1/rallies, measured in the same run,
alternating so that a busy machine slows each kind alike; CPU per request from /proc.

Rate limits stay on, raised so that none is reached: PostgreSQL counts them in a Redis of the
bench's own (as several instances would), SQLite in memory (the event box, one instance).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

import bench
from bench import _serve, _traffic

CONCURRENCY = 8
TEAMS = 256
ROUNDS = 3
SLICE_S = 2.0
"""Each kind runs ROUNDS slices of SLICE_S seconds, the kinds taking turns."""
KINDS = ("GET /rallies", "POST /team/checkins", "GET /team", "POST /team/scans")


@dataclass
class Result:
    """What one kind of request achieved over all its slices."""

    requests: int = 0
    seconds: float = 0.0
    tally: _traffic.Tally = field(default_factory=_traffic.Tally)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def server_ms(self) -> float:
        """CPU milliseconds per request of the app and the database server together."""
        return self.ms_per_request("app") + self.ms_per_request("postgres")

    def ms_per_request(self, group: str) -> float:
        return 1000 * self.cpu.get(group, 0.0) / self.requests if self.requests else 0.0


def _request(kind: str, base: str, rally: _traffic.Rally, walker: _traffic.Walker):
    """(method, url, keyword arguments) of one request of a kind."""
    auth = _traffic.bearer(walker.token)
    if kind == "GET /rallies":
        return "GET", f"{base}{_traffic.API}/rallies", {}
    if kind == "GET /team":
        return "GET", f"{base}{_traffic.API}/team", {"headers": auth}
    if kind == "POST /team/checkins":
        return (
            "POST",
            f"{base}{_traffic.API}/team/checkins",
            {"json": walker.checkin(), "headers": auth},
        )
    body = {"token": rally.qr_token, "client_event_id": str(uuid.uuid4())}
    return "POST", f"{base}{_traffic.API}/team/scans", {"json": body, "headers": auth}


async def _saturate(
    session: aiohttp.ClientSession,
    kind: str,
    base: str,
    rally: _traffic.Rally,
    walkers: list[_traffic.Walker],
    seconds: float,
) -> tuple[int, float, _traffic.Tally]:
    """CONCURRENCY closed loops for ``seconds``; each loop owns its own teams, so no team has
    two events in flight (as on a phone)."""
    tally = _traffic.Tally()
    done = 0
    end = time.perf_counter() + seconds

    async def loop(w: int) -> None:
        nonlocal done
        mine = walkers[w::CONCURRENCY]
        i = 0
        while time.perf_counter() < end:
            method, url, kw = _request(kind, base, rally, mine[i % len(mine)])
            await _traffic.send(session, method, url, tally, **kw)
            done += 1
            i += 1

    start = time.perf_counter()
    await asyncio.gather(*(loop(w) for w in range(CONCURRENCY)))
    return len(tally.ok), time.perf_counter() - start, tally


async def _measure(
    base: str, rally: _traffic.Rally, database_url: str, meter_groups: Callable
) -> dict[str, Result]:
    async with aiohttp.ClientSession(connector=_traffic.connector()) as session:
        tokens = await _traffic.create_teams(session, [base], rally.slug, TEAMS)
        _traffic.backdate_teams(database_url, hours=2)
        walkers = _traffic.walkers(tokens, rally, backdated_hours=2)
        for kind in KINDS:  # warm-up: every worker has served each kind, pools are open
            await _saturate(session, kind, base, rally, walkers, 0.5)
        results = {kind: Result() for kind in KINDS}
        meter = _serve.CpuMeter(meter_groups)
        for _ in range(ROUNDS):
            for kind in KINDS:
                meter.start()
                n, seconds, tally = await _saturate(session, kind, base, rally, walkers, SLICE_S)
                used = meter.stop()
                r = results[kind]
                r.requests += n
                r.seconds += seconds
                r.tally.ok += tally.ok
                for why, count in tally.failed.items():
                    r.tally.failed[why] = r.tally.failed.get(why, 0) + count
                for group, names in used.items():
                    r.cpu[group] = r.cpu.get(group, 0.0) + sum(names.values())
        return results


def run(database: str) -> dict[str, Result]:
    """Serve the app on ``database`` (SQLite or PostgreSQL) and measure every kind."""
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        if database == "PostgreSQL":
            url = stack.enter_context(_serve.postgres_database())
            store, _redis = stack.enter_context(_serve.redis_server())
        else:
            url, store = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "memory://"
        high = _serve.HIGH_LIMIT
        env = _serve.app_environment(
            url,
            store,
            RATELIMIT_DEFAULT=high,
            RATELIMIT_EVENTS=high,
            RATELIMIT_TEAM_CREATE=high,
            RATELIMIT_SHORT_CODE_FAILURES=high,
        )
        _serve.prepare(env)
        server = stack.enter_context(_serve.gunicorn(env, log=Path(tmp) / "gunicorn.log"))
        rally = _traffic.rally_facts(url)

        def groups() -> dict[str, dict[str, int]]:
            found = {"app": server.pids()}
            if database == "PostgreSQL":
                found["postgres"] = {str(p): p for p in _serve.postgres_backends(url)}
            return found

        return asyncio.run(_measure(server.url, rally, url, groups))


def _table(database: str, results: dict[str, Result]) -> None:
    print(
        f"{database}: {CONCURRENCY} concurrent, {ROUNDS}x{SLICE_S:g} s per kind; CPU ms per request"
    )
    print(
        f"  {'kind':20s} {'req/s':>7} {'errors':>7} {'p50 ms':>7} {'app':>6} {'pg':>6} {'gen':>6}"
    )
    for kind, r in results.items():
        failed = ", ".join(f"{k}: {v}" for k, v in r.tally.failed.items()) or "0"
        print(
            f"  {kind:20s} {r.rate:7.0f} {failed:>7} "
            f"{1000 * _traffic.percentile(r.tally.ok, 50):7.1f} {r.ms_per_request('app'):6.2f} "
            f"{r.ms_per_request('postgres'):6.2f} {r.ms_per_request('generator'):6.2f}"
        )


def main() -> None:
    print(_serve.machine())
    rows = []
    for database in ("SQLite", "PostgreSQL"):
        if database == "PostgreSQL" and (why := _serve.postgres_missing()):
            print(f"PostgreSQL: skipped: {why} (bench/README.md)")
            continue
        with _serve.terminated_cleanly():
            results = run(database)
        _table(database, results)
        checkin, page = results["POST /team/checkins"], results["GET /rallies"]
        bench.figure(
            f"check-in / GET /rallies, {database}",
            checkin.rate / page.rate,
            at_least=0.6,
            detail=f"{checkin.rate:.0f}/s vs {page.rate:.0f}/s; by server CPU per request "
            f"{page.server_ms() / checkin.server_ms():.2f}",
        )
        for kind, r in results.items():
            pg = f"{r.ms_per_request('postgres'):.2f}" if database == "PostgreSQL" else "-"
            rows.append(
                f"| {database} | {kind} | {r.rate:.0f} | {r.tally.errors} | "
                f"{r.ms_per_request('app'):.2f} | {pg} |"
            )
    print(
        "markdown rows (bench/README.md: database | kind | req/s | errors | app CPU ms "
        "| PG CPU ms):"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
