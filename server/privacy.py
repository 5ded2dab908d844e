"""Keep no more location data than the game needs: after FIX_RETENTION_HOURS nothing from which
a team's position could be rebuilt is left, and a sweeper thread sees to it on its own."""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update

from server import models
from server.database import retry_transient
from server.extensions import db

FORGOTTEN = "forgotten"
"""The key a stored answer gets once its positions are gone (see forgotten_answer)."""
KEPT_ANSWER = ("correct", "points", "attempts_left", "hint")
"""What an answer to a task's answer or a hint request keeps: nothing of them is position-bound."""
KEPT_FOUND = ("marker_id", "stop", "title", "story", "letter", "found_at", "method", "image_url")
"""What a forgotten answer keeps of each stop found then: no marker position."""
BATCH = 500


@dataclass(frozen=True)
class Forgotten:
    """How many teams' last fixes and how many stored answers were forgotten in one sweep."""

    fixes: int
    answers: int


def forgotten_answer(response: dict[str, Any]) -> dict[str, Any]:
    """A stored answer without anything position-bound: the result, the flags and the stops
    found then (without their place). Distance and bearing to a marker, the visible markers and
    the team's search areas, which give the fix back, are dropped."""
    found = response.get("found_now") or []
    kept = {k: response[k] for k in KEPT_ANSWER if k in response}
    return {
        **kept,
        "result": response.get("result", "found"),
        "flags": list(response.get("flags") or []),
        "found_now": [
            {k: v for k, v in f.items() if k in KEPT_FOUND} for f in found if isinstance(f, dict)
        ],
        FORGOTTEN: True,
    }


def is_forgotten(response: Any) -> bool:
    """True for a stored answer that forgotten_answer made."""
    return isinstance(response, dict) and response.get(FORGOTTEN) is True


def cutoff() -> datetime:
    """Everything recorded before this moment is older than FIX_RETENTION_HOURS."""
    return datetime.now(UTC) - timedelta(hours=current_app.config["FIX_RETENTION_HOURS"])


def forget_old_fixes() -> Forgotten:
    """Clear every team's last fix older than the retention, and strip the positions from every
    stored answer older than it (the answer stays, so a replayed event still counts once).
    Idempotent: several workers or instances may run it at once."""
    before = cutoff()

    def fixes() -> int:
        count = db.session.execute(
            update(models.Team)
            .where(models.Team.last_fix_at < before)
            .values(
                last_lat=None,
                last_lon=None,
                last_accuracy_m=None,
                last_fix_at=None,
                revision=models.Team.revision + 1,
            )
        ).rowcount
        db.session.commit()
        return count

    def answers() -> int:
        rows = db.session.scalars(
            select(models.ClientEvent)
            .where(models.ClientEvent.received_at < before)
            .where(models.ClientEvent.response[FORGOTTEN].as_boolean().is_(None))
            .order_by(models.ClientEvent.id)
            .limit(BATCH)
        ).all()
        for row in rows:
            row.response = forgotten_answer(row.response or {})
        db.session.commit()
        return len(rows)

    teams = retry_transient(fixes, "old fixes could not be forgotten")
    total = 0
    while count := retry_transient(answers, "old answers could not be forgotten"):
        total += count
        if count < BATCH:
            break
    return Forgotten(teams, total)


class Sweeper:
    """A daemon thread that runs forget_old_fixes every PRIVACY_SWEEP_MINUTES in one process;
    an error is logged and the next sweep tries again."""

    def __init__(self, app: Flask, minutes: float) -> None:
        self.app = app
        self.interval_s = minutes * 60.0
        self.sweeps = 0
        self._stop = threading.Event()
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="privacy-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def alive(self) -> bool:
        """Running in this process (a thread does not survive a fork into a worker)."""
        return self._pid == os.getpid() and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to end and wait for it (the sweep under way finishes first)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                with self.app.app_context():
                    try:
                        forgotten = forget_old_fixes()
                    finally:
                        db.session.remove()
                if forgotten.fixes or forgotten.answers:
                    self.app.logger.info(
                        "privacy: forgot %d fixes and %d stored answers",
                        forgotten.fixes,
                        forgotten.answers,
                    )
            except Exception:
                self.app.logger.exception("privacy: forgetting old fixes failed")
            self.sweeps += 1


def init_app(app: Flask) -> None:
    """Keep a sweeper running in every process that serves requests, unless TESTING or
    PRIVACY_SWEEP_MINUTES is 0 (then run ``artcaching purge-fixes`` from cron)."""
    minutes = app.config["PRIVACY_SWEEP_MINUTES"]
    if app.config.get("TESTING") or not minutes:
        return

    lock = threading.Lock()

    def ensure() -> None:
        sweeper = app.extensions.get("privacy_sweeper")
        if sweeper is not None and sweeper.alive():
            return
        with lock:
            sweeper = app.extensions.get("privacy_sweeper")
            if sweeper is None or not sweeper.alive():
                sweeper = Sweeper(app, minutes).start()
                app.extensions["privacy_sweeper"] = sweeper
                atexit.register(sweeper.stop)

    ensure()
    app.before_request(ensure)
