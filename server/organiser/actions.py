"""What an organiser changes: help a stuck team, rename or remove a team, close an event, purge
its personal data. Shared by the JSON API and the command line; every change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update

from routes import rules
from server import audit, game, models, teams
from server.database import lock_row
from server.extensions import db
from server.usererror import UserError

FLAG_DETAIL_KEPT = ("speed_mps", "distance_m", "seconds")
"""What a flag keeps of its detail after the purge: measures, no reason text, no position."""
AUDIT_DETAIL_SCRUBBED = ("reason", "name")
REASON_MAX = 300


def _not_purged(rally: models.Rally) -> None:
    if rally.purged_at is not None:
        raise UserError("rally_purged", status=409)


def _lock(rally: models.Rally) -> None:
    """Hold the rally's row until the commit (its fields read afresh): state changes and team
    creation (teams.create) serialise on it."""
    lock_row(models.Rally, rally.id)


def team_of(rally: models.Rally, team_id: int) -> models.Team:
    """The rally's team with this id, else 404; 409 once the rally's personal data is gone."""
    _not_purged(rally)
    team = db.session.get(models.Team, team_id)
    if team is None or team.rally_id != rally.id:
        raise UserError("team_unknown", status=404, field="team_id")
    return team


def assist(rally: models.Rally, team_id: int, marker_id: int, reason: str) -> game.Applied:
    """Mark a stop found for a stuck team, through the rules (an AssistEvent: fewer points, an
    'assisted' flag with the reason). 422 when the marker is no stop of the rally, 409 when the
    team has found it already."""
    team = team_of(rally, team_id)
    reason = " ".join(reason.split())
    if not 3 <= len(reason) <= REASON_MAX:
        raise UserError("assist_reason", status=422, field="reason", max=REASON_MAX)
    slug, rally_id, team_id = rally.slug, rally.id, team.id
    event = rules.AssistEvent(marker_id, datetime.now(UTC), reason)

    def answer(team: models.Team, domain_rally: Any, outcome: rules.Outcome) -> dict[str, Any]:
        if outcome.found:
            audit.record(
                "team.assist",
                "team",
                team.id,
                rally=slug,
                rally_id=rally_id,
                marker_id=marker_id,
                stop=outcome.found[0].index + 1,
                reason=reason,
            )
        return {"found": [f.index + 1 for f in outcome.found]}

    applied = game.apply_event(team, None, "assist", lambda _t, _r: event, answer)
    rejection = applied.outcome.rejection if applied.outcome else None
    if rejection is rules.Rejection.NOT_IN_RALLY:
        raise UserError("stop_unknown", status=422, field="marker_id")
    if rejection is rules.Rejection.ALREADY_FOUND:
        raise UserError("stop_already_found", status=409, field="marker_id")
    return applied


def rename(rally: models.Rally, team_id: int, name: str) -> models.Team:
    """Give a team a new name (an offensive one replaced); 409 when another team has it."""
    team = team_of(rally, team_id)
    name = teams.clean_name(name)
    taken = db.session.scalar(select(models.Team.id).filter_by(rally_id=rally.id, name=name))
    if taken is not None and taken != team.id:
        raise UserError("team_name_taken", status=409, field="name")
    team.name = name
    audit.record("team.rename", "team", team.id, rally=rally.slug, rally_id=rally.id)
    db.session.commit()
    return team


def remove(rally: models.Rally, team_id: int) -> None:
    """Delete a team with its devices, finds, task progress and flags (a test team, an abusive
    one)."""
    team = team_of(rally, team_id)
    audit.record(
        "team.remove", "team", team.id, rally=rally.slug, rally_id=rally.id, found=team.found_count
    )
    db.session.delete(team)
    db.session.commit()


def close(rally: models.Rally) -> models.Rally:
    """End a running event: players get 409 rally_closed from now on."""
    _lock(rally)
    if rally.status is models.RallyStatus.CLOSED:
        raise UserError("rally_already_closed", status=409)
    if rally.status is not models.RallyStatus.PUBLISHED:
        raise UserError("rally_not_running", status=409)
    rally.status = models.RallyStatus.CLOSED
    rally.closed_at = datetime.now(UTC)
    audit.record("rally.close", "rally", rally.id, slug=rally.slug)
    db.session.commit()
    return rally


@dataclass(frozen=True)
class PurgeReport:
    teams: int
    tokens: int
    client_events: int
    flags: int


def purge(rally: models.Rally, confirm: str) -> PurgeReport:
    """Delete the personal data of a closed event: team names, positions, device tokens, stored
    answers (they name the team), flag reasons. Kept: anonymous teams with start and finish
    times, finds with method and time, task progress (StopProgress: wrong answers, solved,
    points, hints taken; no answer text), flag kinds and measures. ``confirm`` must be the
    slug."""
    _lock(rally)
    if rally.status is not models.RallyStatus.CLOSED:
        raise UserError("rally_not_closed", status=409)
    if confirm != rally.slug:
        raise UserError("purge_confirmation", status=422, field="confirm", slug=rally.slug)
    team_ids = select(models.Team.id).where(models.Team.rally_id == rally.id)
    tokens = db.session.execute(
        delete(models.TeamToken).where(models.TeamToken.team_id.in_(team_ids))
    ).rowcount
    events = db.session.execute(
        delete(models.ClientEvent).where(models.ClientEvent.team_id.in_(team_ids))
    ).rowcount
    count = db.session.execute(
        update(models.Team)
        .where(models.Team.rally_id == rally.id)
        .values(
            name=None,
            last_lat=None,
            last_lon=None,
            last_accuracy_m=None,
            last_fix_at=None,
            last_seen_at=None,
            revision=models.Team.revision + 1,
        )
    ).rowcount
    flags = db.session.scalars(
        select(models.TeamFlag).where(models.TeamFlag.team_id.in_(team_ids))
    ).all()
    for flag in flags:
        flag.detail = {k: v for k, v in (flag.detail or {}).items() if k in FLAG_DETAIL_KEPT}
    for entry in db.session.scalars(
        select(models.AuditEntry).where(models.AuditEntry.object_type == "team")
    ):
        detail = entry.detail or {}
        if detail.get("rally_id") == rally.id and any(k in detail for k in AUDIT_DETAIL_SCRUBBED):
            entry.detail = {k: v for k, v in detail.items() if k not in AUDIT_DETAIL_SCRUBBED}
    rally.purged_at = datetime.now(UTC)
    report = PurgeReport(count, tokens, events, len(flags))
    audit.record(
        "rally.purge",
        "rally",
        rally.id,
        slug=rally.slug,
        teams=count,
        tokens=tokens,
        client_events=events,
    )
    db.session.commit()
    return report
