"""Teams: names, device tokens, join codes. Shared by the API and the web fallback."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from routes import model as domain
from routes import rules
from server import game, models, rallies
from server.database import lock_row, retry_transient
from server.extensions import db
from server.usererror import UserError

MAX_NAME = 40


def clean_name(name: str) -> str:
    """The name with surrounding and repeated spaces removed; no control characters."""
    name = unicodedata.normalize("NFC", " ".join(name.split()))
    if (
        not name
        or len(name) > MAX_NAME
        or any(unicodedata.category(c).startswith("C") for c in name)
    ):
        raise UserError("invalid_team_name", status=422, field="name", max=MAX_NAME)
    return name


def view(team: models.Team) -> tuple[domain.Rally, rules.TeamView]:
    """The team's rally and what the rules show the team now: found, open, score, progress."""
    rally = game.rally_model(team.rally)
    return rally, rules.view(rally, game.team_state(team), game.rules_config())


def new_token(team: models.Team) -> str:
    """A new device token for the team; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(models.TeamToken(team_id=team.id, token_hash=models.hash_token(token)))
    return token


def by_token(token: str) -> tuple[models.Team, models.TeamToken] | None:
    """The team a device token belongs to and that device (None after the event's personal
    data was purged), in one query; the team's rally comes with its id, slug, status and
    version only (its domain model is game.rally_model's)."""
    row = db.session.execute(
        select(models.Team, models.TeamToken)
        .join(models.TeamToken, models.TeamToken.team_id == models.Team.id)
        .where(models.TeamToken.token_hash == models.hash_token(token))
        .options(
            joinedload(models.Team.rally)
            .load_only(
                models.Rally.id, models.Rally.slug, models.Rally.status, models.Rally.version
            )
            .lazyload(models.Rally.stops)
        )
    ).first()
    if row is None or row[0].name is None:
        return None
    return row[0], row[1]


def by_join_code(rally: models.Rally, code: str) -> models.Team | None:
    team = db.session.scalar(
        select(models.Team).filter_by(rally_id=rally.id, join_code=code.strip().upper())
    )
    return None if team is None or team.name is None else team


def create(rally: models.Rally, name: str, lang: str) -> tuple[models.Team, str]:
    """A new team with its first device token; 409 when the name is taken in this rally. The
    rally's row is locked while the team is made, so that no status change slips between the
    check that the rally is running and the new team."""
    rally_id, slug = rally.id, rally.slug

    def attempt() -> tuple[models.Team, str]:
        lock_row(models.Rally, rally_id)
        rallies.by_slug(slug, playable=True)
        team = models.Team(
            rally_id=rally_id, name=name, language=lang, join_code=models.Team.new_join_code()
        )
        db.session.add(team)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            if db.session.scalar(select(models.Team.id).filter_by(rally_id=rally_id, name=name)):
                raise UserError("team_name_taken", status=409, field="name") from None
            raise
        token = new_token(team)
        db.session.commit()
        return team, token

    try:
        return retry_transient(attempt, f"rally {rally_id}: team could not be created")
    except TimeoutError:
        raise UserError("busy", status=503) from None


@dataclass(frozen=True)
class Standing:
    """A team's place on its rally's leaderboard; ``duration_s`` once it finished."""

    rank: int
    team: models.Team
    duration_s: float | None


def leaderboard(rally: models.Rally) -> list[Standing]:
    """Every team of the rally in leaderboard order (routes.rules.rank_key), the API's and the
    web page's."""
    rows = db.session.scalars(select(models.Team).filter_by(rally_id=rally.id)).all()
    entries = []
    for t in rows:
        duration = (t.finished_at - t.started_at).total_seconds() if t.finished_at else None
        entries.append((rules.rank_key(t.finished_at is not None, t.score, duration), t, duration))
    entries.sort(key=lambda e: (e[0], e[1].id))
    return [Standing(i + 1, t, d) for i, (_, t, d) in enumerate(entries)]
