"""Keep no more location data than the game needs: old fixes are forgotten on their own."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import update

from server import models
from server.extensions import db

PURGE_EVERY_S = 600.0
_last_purge = {"at": 0.0}


def forget_old_fixes() -> int:
    """Clear every team's last fix older than FIX_RETENTION_HOURS; returns how many."""
    hours = current_app.config["FIX_RETENTION_HOURS"]
    cutoff = datetime.now(UTC) - timedelta(hours=hours)
    result = db.session.execute(
        update(models.Team)
        .where(models.Team.last_fix_at < cutoff)
        .values(last_lat=None, last_lon=None, last_accuracy_m=None, last_fix_at=None)
    )
    db.session.commit()
    return result.rowcount


def forget_old_fixes_now_and_then() -> None:
    """Run forget_old_fixes at most every ten minutes per process (cheap; no cron needed)."""
    now = time.monotonic()
    if now - _last_purge["at"] >= PURGE_EVERY_S:
        _last_purge["at"] = now
        forget_old_fixes()
