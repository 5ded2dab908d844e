"""What the server keeps: venues, markers, rallies, teams, discoveries, users, signing keys."""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from markers import shortcodes
from markers.i18n import LANGUAGES, TEXT_LANGUAGES
from markers.tokens import KeyStatus
from server.extensions import db

JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite returns naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Role(enum.StrEnum):
    CURATOR = "curator"
    ORGANISER = "organiser"
    ADMIN = "admin"


class RallyStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class Texts:
    """Text columns hold language maps ({"de": ..., "en": ..., "de-x-ls": ...}), read and written
    through text() and set_text()."""

    def text(self, name: str) -> dict[str, str]:
        """The language map of column name: every one of LANGUAGES (empty when missing), and each
        other language of TEXT_LANGUAGES it holds."""
        value = getattr(self, name) or {}
        out = {lang: value.get(lang) or "" for lang in LANGUAGES}
        out.update({lang: value[lang] for lang in TEXT_LANGUAGES if value.get(lang)})
        return out

    def set_text(self, name: str, value: Mapping[str, str]) -> None:
        """Merge value into column name; an empty text removes a language beyond LANGUAGES."""
        merged = dict(getattr(self, name) or {})
        for lang in TEXT_LANGUAGES:
            if lang not in value:
                continue
            if value[lang] or lang in LANGUAGES:
                merged[lang] = value[lang] or ""
            else:
                merged.pop(lang, None)
        setattr(self, name, merged)


def _text_column() -> Any:
    return mapped_column(JSON, default=dict)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role))
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(2), default="de")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        """The session's user id: the row id and the token that logout and a new password
        change, so that every older session of the account ends."""
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Every session and remember-me cookie of this account stops working."""
        self.session_token = new_session_token()

    def has_role(self, *roles: Role) -> bool:
        return self.role is Role.ADMIN or self.role in roles


class Venue(db.Model):
    """A real place; lat/lon may be missing until a curator places it on the map."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    address: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(500), default="")
    fact: Mapped[str] = mapped_column(Text, default="")
    step_free: Mapped[bool | None]
    """Reachable without steps; None while nobody has said."""
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    """The curator who gave the venue its position on the map (None: it came with its data)."""


class Marker(Texts, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venue.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    lat: Mapped[float]
    lon: Mapped[float]
    radius_m: Mapped[float] = mapped_column(default=25.0)
    polygon: Mapped[list | None] = mapped_column(JSON)
    title: Mapped[dict] = _text_column()
    clue: Mapped[dict] = _text_column()
    story: Mapped[dict] = _text_column()
    image: Mapped[str | None] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    venue: Mapped[Venue | None] = relationship(lazy="joined")


class Rally(Texts, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    title: Mapped[dict] = _text_column()
    intro: Mapped[dict] = _text_column()
    order_mode: Mapped[str] = mapped_column(String(10), default="fixed")
    status: Mapped[RallyStatus] = mapped_column(_enum(RallyStatus), default=RallyStatus.DRAFT)
    solution_word: Mapped[str | None] = mapped_column(String(40))
    start_lat: Mapped[float | None]
    start_lon: Mapped[float | None]
    start_name: Mapped[str] = mapped_column(String(200), default="")
    finish_lat: Mapped[float | None]
    finish_lon: Mapped[float | None]
    play_area: Mapped[list | None] = mapped_column(JSON)
    walking_speed_mps: Mapped[float] = mapped_column(default=1.2)
    dwell_s: Mapped[float] = mapped_column(default=300.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finish_text: Mapped[dict] = _text_column()
    """What the organiser tells teams at the finish ("what now"), as a language map."""
    poster_colour: Mapped[str | None] = mapped_column(String(7))
    """The event colour of the printed matter, ``#rrggbb``; None prints in black."""
    poster_logo: Mapped[str | None] = mapped_column(String(80))
    """A media file name (server/media.py) printed on the posters; None prints none."""
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    """Goes up with every change to the rally, its stops, their markers or venues
    (server/rallycache.py keeps one domain model per version)."""

    stops: Mapped[list[RallyStop]] = relationship(
        back_populates="rally",
        order_by="RallyStop.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class RallyStop(Texts, db.Model):
    """A marker's place in a rally; its clue may override the marker's own, its task and hints
    are the rally file's shapes (routes/rallyfile.py)."""

    __table_args__ = (
        UniqueConstraint("rally_id", "position"),
        UniqueConstraint("rally_id", "marker_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    rally_id: Mapped[int] = mapped_column(ForeignKey("rally.id", ondelete="CASCADE"))
    marker_id: Mapped[int] = mapped_column(ForeignKey("marker.id", ondelete="RESTRICT"))
    position: Mapped[int]
    clue: Mapped[dict] = _text_column()
    clue_from: Mapped[int | None]
    """The marker id of the stop before this one when its clue was written."""
    task: Mapped[dict | None] = mapped_column(JSON)
    hints: Mapped[list] = mapped_column(JSON, default=list)
    code: Mapped[str] = mapped_column(String(8), unique=True, default=shortcodes.new_code)
    """The short code printed under the QR, for typing (markers/shortcodes.py, stored form)."""

    rally: Mapped[Rally] = relationship(back_populates="stops")
    marker: Mapped[Marker] = relationship(lazy="joined")


class Team(db.Model):
    """A pseudonymous team: a name, no e-mail. Its last fix is the only position kept."""

    __table_args__ = (UniqueConstraint("rally_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    rally_id: Mapped[int] = mapped_column(ForeignKey("rally.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(60))
    join_code: Mapped[str] = mapped_column(String(12), unique=True)
    language: Mapped[str] = mapped_column(String(10), default="de")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int] = mapped_column(default=0)
    found_count: Mapped[int] = mapped_column(default=0)
    last_lat: Mapped[float | None]
    last_lon: Mapped[float | None]
    last_accuracy_m: Mapped[float | None]
    last_fix_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    """Goes up with every event applied; an event writes only if it is still the one it read
    (server/game.py)."""

    rally: Mapped[Rally] = relationship()
    discoveries: Mapped[list[Discovery]] = relationship(
        back_populates="team", order_by="Discovery.found_at", cascade="all, delete-orphan"
    )
    tokens: Mapped[list[TeamToken]] = relationship(cascade="all, delete-orphan")
    flags: Mapped[list[TeamFlag]] = relationship(
        order_by="TeamFlag.at", cascade="all, delete-orphan"
    )
    progress: Mapped[list[StopProgress]] = relationship(cascade="all, delete-orphan")

    @staticmethod
    def new_join_code() -> str:
        return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(8))


def hash_token(token: str) -> str:
    """Team tokens are 256-bit random strings, so a plain SHA-256 is a safe way to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


class TeamToken(db.Model):
    """One device's bearer token for a team (the first phone, and each that joins by code)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The latest time this device stamped on an event; its later events may not go back."""


class ClientEvent(db.Model):
    """Each client event id is recorded at most once per team, with the answer it got."""

    __table_args__ = (UniqueConstraint("team_id", "client_event_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    client_event_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[int] = mapped_column(default=200)
    response: Mapped[dict] = mapped_column(JSON)


class Discovery(db.Model):
    """A marker found by a team; the unique constraint makes it count once."""

    __table_args__ = (UniqueConstraint("team_id", "marker_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    marker_id: Mapped[int] = mapped_column(ForeignKey("marker.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(10))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship(back_populates="discoveries")


class StopProgress(db.Model):
    """A team's task and hints at one stop: wrong answers, solved, points won, hints taken."""

    __table_args__ = (UniqueConstraint("team_id", "marker_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    marker_id: Mapped[int] = mapped_column(ForeignKey("marker.id", ondelete="CASCADE"))
    wrong: Mapped[int] = mapped_column(default=0)
    solved: Mapped[bool] = mapped_column(default=False)
    points: Mapped[int] = mapped_column(default=0)
    hints: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamFlag(db.Model):
    """Something for organisers to look at: a teleport, a mock location, an assist."""

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    marker_id: Mapped[int | None] = mapped_column(ForeignKey("marker.id", ondelete="SET NULL"))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class SigningKey(db.Model):
    """A key of the QR token key ring."""

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    secret: Mapped[bytes] = mapped_column(LargeBinary(64))
    status: Mapped[KeyStatus] = mapped_column(_enum(KeyStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(db.Model):
    """Who changed what, when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int | None]
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()


@event.listens_for(Session, "before_flush")
def _bump_rally_versions(session: Session, _context: Any, _instances: Any) -> None:
    """A rally's version goes up when it, one of its stops, or a marker or venue it uses
    changes, so that no instance plays a cached model of it any longer."""
    rally_ids: set[int] = set()
    marker_ids: set[int] = set()
    venue_ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Rally):
            if obj in session.dirty and session.is_modified(obj):
                obj.version = Rally.version + 1  # type: ignore[assignment]
        elif isinstance(obj, RallyStop):
            if obj.rally_id is not None:
                rally_ids.add(obj.rally_id)
            elif obj.rally is not None and obj.rally.id is not None:
                rally_ids.add(obj.rally.id)
        elif isinstance(obj, Marker) and obj.id is not None and obj not in session.new:
            marker_ids.add(obj.id)
        elif isinstance(obj, Venue) and obj.id is not None and obj not in session.new:
            venue_ids.add(obj.id)
    using = select(RallyStop.rally_id).join(Marker, Marker.id == RallyStop.marker_id)
    if marker_ids or venue_ids:
        rally_ids.update(
            session.scalars(
                using.where(or_(Marker.id.in_(marker_ids), Marker.venue_id.in_(venue_ids)))
            )
        )
    if rally_ids:
        session.execute(
            update(Rally)
            .where(Rally.id.in_(rally_ids))
            .values(version=Rally.version + 1)
            .execution_options(synchronize_session=False)
        )
