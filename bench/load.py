"""The load test anyone can run (``make bench-load``): two gunicorn instances x 2 sync workers on
one PostgreSQL and one Redis (the README's production section), on loopback; N teams created
through the API, each checking in every 5 s from a jittered start, spread over both instances,
for a bounded time. Reports offered and achieved rate, latency percentiles, errors, check-ins
acknowledged against rows stored, and the CPU seconds of every process. Not part of ``make
bench`` (ALONE); it cleans up every process and database it started, on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench import _serve, _traffic

ALONE = True
"""``python -m bench`` skips this module: it runs minutes, through ``make bench-load``."""
INSTANCES = 2
WORKERS = 2
P99_MS = 200.0
TIMEOUT_S = 30.0


@dataclass
class Step:
    """One step's outcome: N teams for a window of seconds."""

    teams: int
    seconds: float
    until_last_answer: float
    """Seconds from the first check-in sent to the last answer (more than ``seconds`` when
    answers queue)."""
    sent: int
    tally: _traffic.Tally
    stored: int
    cpu: dict[str, dict[str, float]]

    @property
    def offered(self) -> float:
        return self.teams / _traffic.CHECKIN_EVERY_S

    @property
    def achieved(self) -> float:
        """Acknowledged check-ins per second, until the last answer came."""
        return len(self.tally.ok) / max(self.seconds, self.until_last_answer)

    def ms(self, p: float) -> float:
        return 1000 * _traffic.percentile(self.tally.ok, p)

    @property
    def lost(self) -> int:
        """Acknowledged check-ins the database does not hold."""
        return max(0, len(self.tally.ok) - self.stored)

    @property
    def holds(self) -> bool:
        return (
            self.ms(99) < P99_MS
            and self.tally.errors == 0
            and self.lost == 0
            and self.achieved >= 0.98 * self.offered
        )


async def _drive(
    session: aiohttp.ClientSession, walkers: list[_traffic.Walker], seconds: float
) -> tuple[int, float, _traffic.Tally]:
    """Each walker checks in every 5 s from a random start within the first 5 s (open loop: a
    slow answer does not delay the next fix), for ``seconds``; then wait for the answers."""
    tally = _traffic.Tally()
    pending: set[asyncio.Task] = set()
    rng = random.Random(5)
    start = time.monotonic()
    sent = 0

    async def team(w: _traffic.Walker, offset: float) -> None:
        nonlocal sent
        k = 0
        while (due := offset + k * _traffic.CHECKIN_EVERY_S) < seconds:
            await asyncio.sleep(max(0.0, start + due - time.monotonic()))
            url = f"{w.base}{_traffic.API}/team/checkins"
            task = asyncio.create_task(
                _traffic.send(
                    session, "POST", url, tally, json=w.checkin(), headers=_traffic.bearer(w.token)
                )
            )
            pending.add(task)
            task.add_done_callback(pending.discard)
            sent += 1
            k += 1

    await asyncio.gather(*(team(w, rng.uniform(0, _traffic.CHECKIN_EVERY_S)) for w in walkers))
    if pending:
        await asyncio.wait(pending)
    return sent, time.monotonic() - start, tally


async def _drained(database_url: str, quiet_s: float = 2.0, most_s: float = 90.0) -> int:
    """The stored check-ins once the count stops growing: an overloaded server still works off
    requests whose answers timed out, and the next step must not count them."""
    count = _traffic.stored_checkins(database_url)
    deadline = time.monotonic() + most_s
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet_s)
        now = _traffic.stored_checkins(database_url)
        if now == count:
            break
        count = now
    return count


def _cpu_lines(cpu: dict[str, dict[str, float]]) -> list[str]:
    lines = []
    for group, names in cpu.items():
        parts = ", ".join(f"{n} {s:.1f}" for n, s in names.items() if s >= 0.05)
        lines.append(f"    {group:18s} {sum(names.values()):6.1f} s  ({parts or '-'})")
    return lines


def _report(step: Step) -> None:
    """Print a step's figures and the CPU of each process."""
    failed = ", ".join(f"{k}: {v}" for k, v in step.tally.failed.items()) or "0"
    print(
        f"  {step.teams} teams, {step.seconds:g} s: offered {step.offered:.0f}/s, achieved "
        f"{step.achieved:.1f}/s; p50 {step.ms(50):.0f} ms, p95 {step.ms(95):.0f} ms, "
        f"p99 {step.ms(99):.0f} ms; errors {failed}; sent {step.sent}, acknowledged "
        f"{len(step.tally.ok)}, stored {step.stored}, lost {step.lost}: "
        f"{'HOLDS' if step.holds else 'does not hold'}"
    )
    print("  CPU seconds:")
    print("\n".join(_cpu_lines(step.cpu)))
    per = _per_checkin(step)
    print(
        "  CPU ms per stored check-in: " + ", ".join(f"{g} {ms:.2f}" for g, ms in per.items()),
        flush=True,
    )


def _per_checkin(step: Step) -> dict[str, float]:
    """CPU milliseconds per stored check-in of the app (all instances), PostgreSQL, Redis and
    the generator (per check-in sent)."""
    total = {g: sum(v.values()) for g, v in step.cpu.items()}
    stored = max(step.stored, 1)
    return {
        "app": 1000 * sum(v for g, v in total.items() if g.startswith("instance")) / stored,
        "postgres": 1000 * total.get("postgres", 0.0) / stored,
        "redis": 1000 * total.get("redis", 0.0) / stored,
        "generator": 1000 * total.get("generator", 0.0) / max(step.sent, 1),
    }


def _row(step: Step) -> str:
    """A step as a markdown table row."""
    per = _per_checkin(step)
    return (
        f"| {step.teams} | {step.offered:.0f} | {step.achieved:.1f} | {step.ms(50):.0f} | "
        f"{step.ms(95):.0f} | {step.ms(99):.0f} | {step.tally.errors} | {len(step.tally.ok)} | "
        f"{step.stored} | {per['app']:.1f} | {per['postgres']:.1f} | {per['redis']:.2f} | "
        f"{per['generator']:.2f} | {'yes' if step.holds else 'no'} |"
    )


async def _run(
    bases: list[str], database_url: str, steps: list[int], seconds: float, groups
) -> list[Step]:
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with aiohttp.ClientSession(connector=_traffic.connector(), timeout=timeout) as session:
        rally = _traffic.rally_facts(database_url)
        print(f"creating {max(steps)} teams ...", flush=True)
        tokens = await _traffic.create_teams(session, bases, rally.slug, max(steps))
        results = []
        for n in steps:
            walkers = _traffic.walkers(tokens[:n], rally)
            before = _traffic.stored_checkins(database_url)
            meter = _serve.CpuMeter(groups)
            meter.start()
            sent, until, tally = await _drive(session, walkers, seconds)
            stored = await _drained(database_url) - before
            cpu = meter.stop()  # with the work on late requests, but no idle time to speak of
            results.append(Step(n, seconds, until, sent, tally, stored, cpu))
            _report(results[-1])
        return results


def run(steps: list[int], seconds: float) -> list[Step]:
    """Start everything, drive each step, and stop everything again."""
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        url = stack.enter_context(_serve.postgres_database())
        store, redis = stack.enter_context(_serve.redis_server())
        # Every bench team is created from 127.0.0.1: the organiser's raised team-creation limit
        # for one address (README, RATELIMIT_TEAM_CREATE); every other limit as shipped.
        env = _serve.app_environment(
            url, store, RATELIMIT_TEAM_CREATE=f"{max(steps) + 100} per 10 minutes"
        )
        _serve.prepare(env)
        servers = [
            stack.enter_context(_serve.gunicorn(env, WORKERS, log=Path(tmp) / f"g{i}.log"))
            for i in range(INSTANCES)
        ]

        def groups() -> dict[str, dict[str, int]]:
            found: dict[str, dict[str, int]] = {
                f"instance {i + 1}": s.pids() for i, s in enumerate(servers)
            }
            found["postgres"] = {
                f"backend {i + 1}": p for i, p in enumerate(_serve.postgres_backends(url))
            }
            found["redis"] = {"redis-server": redis.pid}
            return found

        return asyncio.run(_run([s.url for s in servers], url, steps, seconds, groups))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", default="1000", help="N, or steps: 500,1000,1500")
    parser.add_argument("--seconds", type=float, default=60.0, help="each step's window")
    args = parser.parse_args(argv)
    steps = sorted(int(n) for n in args.teams.split(","))
    if why := _serve.postgres_missing():
        raise SystemExit(f"bench-load needs PostgreSQL and Redis: {why} (bench/README.md)")
    print(_serve.machine())
    print(
        f"{INSTANCES} gunicorn instances x {WORKERS} sync workers, PostgreSQL + Redis, loopback; "
        f"each team checks in every {_traffic.CHECKIN_EVERY_S:g} s for {args.seconds:g} s"
    )
    try:
        with _serve.terminated_cleanly():
            results = run(steps, args.seconds)
    except KeyboardInterrupt:
        raise SystemExit(
            "interrupted: every process and database the bench started is gone"
        ) from None
    rows = [_row(step) for step in results]
    held = [s.teams for s in results if s.holds]
    print(
        f"largest N that holds (p99 < {P99_MS:g} ms, 0 errors, 0 lost, achieved >= 98 % of "
        f"offered): {max(held) if held else 'none'}"
    )
    print(
        "markdown rows (bench/README.md: teams | offered/s | achieved/s | p50 | p95 | p99 ms | "
        "errors | acknowledged | stored | CPU ms per check-in: app | PG | Redis | generator "
        "| holds):"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
