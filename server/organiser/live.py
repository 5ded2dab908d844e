"""The live view's data: teams with their finds, tasks and hints, coarse last positions while the
event runs, counts and recent flags. A fixed number of queries, whatever the number of teams."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from routes.model import pick
from server import models
from server.api.serialize import iso
from server.exports.results import (
    FLAG_KINDS,
    METHODS,
    flag_counts,
    hint_costs,
    rally_finds,
    rally_progress,
    ranked,
)
from server.extensions import db
from server.organiser.actions import FLAG_DETAIL_KEPT

POSITION_DECIMALS = 3
"""Positions are rounded to 0.001 degree: about 110 m north-south, 70 m east-west at 50 deg."""
POSITION_MAX_AGE_MIN = 15.0
RECENT_FLAGS = 50
FLAG_DETAIL_SHOWN = (*FLAG_DETAIL_KEPT, "reason")


def settings() -> tuple[timedelta, int]:
    """How old a fix may be to be shown (LIVE_POSITION_MAX_AGE_MIN) and how many decimals."""
    minutes = float(current_app.config.get("LIVE_POSITION_MAX_AGE_MIN", POSITION_MAX_AGE_MIN))
    return timedelta(minutes=minutes), POSITION_DECIMALS


def coarse_position(
    lat: float | None,
    lon: float | None,
    at: datetime | None,
    now: datetime,
    max_age: timedelta,
    decimals: int = POSITION_DECIMALS,
) -> dict | None:
    """The fix rounded to a grid, with its time cut to the minute; None when too old."""
    if lat is None or lon is None or at is None or now - at > max_age:
        return None
    minute = at.replace(second=0, microsecond=0)
    return {"lat": round(lat, decimals), "lon": round(lon, decimals), "at": iso(minute)}


def live_data(row: models.Rally, lang: str, now: datetime | None = None) -> dict[str, Any]:
    """Everything the live page shows, in lang. Positions only while the rally is published."""
    now = now or datetime.now(UTC)
    max_age, decimals = settings()
    running = row.status is models.RallyStatus.PUBLISHED and row.purged_at is None
    stops = row.stops  # loaded with the rally, their markers joined
    number = {s.marker_id: i for i, s in enumerate(stops, 1)}
    teams = db.session.execute(
        select(
            models.Team.id,
            models.Team.name,
            models.Team.started_at,
            models.Team.finished_at,
            models.Team.score,
            models.Team.found_count,
            models.Team.last_lat,
            models.Team.last_lon,
            models.Team.last_fix_at,
            models.Team.last_seen_at,
        ).where(models.Team.rally_id == row.id)
    ).all()
    finds: dict[int, dict[str, str]] = {}
    last_find: dict[int, datetime] = {}
    per_stop: Counter[int] = Counter()
    methods: Counter[str] = Counter()
    for team_id, marker_id, method, at in rally_finds(row.id):
        finds.setdefault(team_id, {})[str(number[marker_id])] = method
        last_find[team_id] = max(at, last_find.get(team_id, at))
        per_stop[marker_id] += 1
        methods[method] += 1
    flags = flag_counts(row.id)
    progress = rally_progress(row.id, hint_costs(stops))

    entries = []
    active = 0
    for rank, team, duration in ranked(teams):
        found = finds.get(team.id, {})
        last_active = max(
            (
                a
                for a in (team.last_fix_at, team.last_seen_at, last_find.get(team.id))
                if a is not None
            ),
            default=None,
        )
        if last_active is not None and now - last_active <= max_age:
            active += 1
        next_stop = next((n for n in range(1, len(stops) + 1) if str(n) not in found), None)
        position = (
            coarse_position(team.last_lat, team.last_lon, team.last_fix_at, now, max_age, decimals)
            if running
            else None
        )
        tasks = progress.team(team.id)
        entries.append(
            {
                "id": team.id,
                "name": team.name,
                "rank": rank,
                "score": team.score,
                "found": team.found_count,
                "finds": found,
                "next_stop": next_stop,
                "finished": team.finished_at is not None,
                "started_at": iso(team.started_at),
                "finished_at": iso(team.finished_at),
                "duration_s": None if duration is None else round(duration),
                "last_active_at": iso(last_active),
                "position": position,
                "flags": dict(flags.get(team.id, {})),
                "task_points": tasks.points,
                "tasks_solved": tasks.solved,
                "tasks_answered": tasks.answered,
                "hints": tasks.hints,
                "hint_cost": tasks.hint_cost,
            }
        )

    flag_total: Counter[str] = Counter()
    for counts in flags.values():
        flag_total.update(counts)
    return {
        "rally": {
            "slug": row.slug,
            "title": pick(row.text("title"), lang),
            "status": row.status.value,
            "order_mode": row.order_mode,
            "closed_at": iso(row.closed_at),
            "purged_at": iso(row.purged_at),
            "total_stops": len(stops),
        },
        "positions": {
            "shown": running,
            "max_age_min": max_age.total_seconds() / 60,
            "decimals": decimals,
        },
        "counts": {
            "teams": len(entries),
            "finished": sum(e["finished"] for e in entries),
            "active": active,
            "finds": sum(methods.values()),
            "methods": {m: methods[m] for m in METHODS},
            "flags": {k: flag_total[k] for k in FLAG_KINDS},
            "tasks_solved": sum(e["tasks_solved"] for e in entries),
            "hints": sum(e["hints"] for e in entries),
        },
        "stops": [
            {
                "number": i,
                "marker_id": s.marker_id,
                "lat": s.marker.lat,
                "lon": s.marker.lon,
                "radius_m": s.marker.radius_m,
                "title": pick(s.marker.text("title"), lang),
                "found": per_stop[s.marker_id],
                "task": bool(s.task),
                "hint_count": len(s.hints or []),
                "solved": progress.stop(s.marker_id).solved,
                "answered": progress.stop(s.marker_id).answered,
                "hinted": progress.stop(s.marker_id).hinted,
            }
            for i, s in enumerate(stops, 1)
        ],
        "teams": entries,
        "flags": recent_flags(row, number),
    }


def recent_flags(row: models.Rally, number: dict[int, int]) -> list[dict[str, Any]]:
    """The newest flags of the rally's teams, with the team's name and the stop's number."""
    rows = db.session.execute(
        select(
            models.TeamFlag.id,
            models.TeamFlag.team_id,
            models.TeamFlag.kind,
            models.TeamFlag.at,
            models.TeamFlag.marker_id,
            models.TeamFlag.detail,
            models.Team.name,
        )
        .join(models.Team, models.Team.id == models.TeamFlag.team_id)
        .where(models.Team.rally_id == row.id)
        .order_by(models.TeamFlag.at.desc(), models.TeamFlag.id.desc())
        .limit(RECENT_FLAGS)
    ).all()
    return [
        {
            "id": f.id,
            "team_id": f.team_id,
            "team": f.name,
            "kind": f.kind,
            "at": iso(f.at),
            "stop": number.get(f.marker_id) if f.marker_id is not None else None,
            "detail": {k: v for k, v in (f.detail or {}).items() if k in FLAG_DETAIL_SHOWN},
        }
        for f in rows
    ]
