"""A rally's results: one row per team (ranked as the leaderboard ranks), a CSV for spreadsheets,
and the counts of the printable summary. Four queries, whatever the number of teams."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from routes import rallyfile, rules
from routes.model import Text
from server import formats, models
from server.exports.base import ExportError
from server.extensions import db
from server.i18n import t

DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\t": "\t", "comma": ",", "semicolon": ";"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
METHODS = tuple(m.value for m in rules.Method)
FLAG_KINDS = tuple(k.value for k in rules.FlagKind)
T = TypeVar("T", bound=Any)


@dataclass
class TaskCounts:
    """A team's tasks and hints over the rally: points its tasks won, tasks solved, tasks
    answered (at least once, right or wrong), hints taken and what they cost."""

    points: int = 0
    solved: int = 0
    answered: int = 0
    hints: int = 0
    hint_cost: int = 0


@dataclass
class StopTaskCounts:
    """How many teams solved a stop's task, answered it, and took at least one of its hints."""

    solved: int = 0
    answered: int = 0
    hinted: int = 0


@dataclass(frozen=True)
class Progress:
    """Tasks and hints of a rally's teams, by team id and by marker id."""

    teams: dict[int, TaskCounts]
    stops: dict[int, StopTaskCounts]

    def team(self, team_id: int) -> TaskCounts:
        return self.teams.get(team_id) or TaskCounts()

    def stop(self, marker_id: int) -> StopTaskCounts:
        return self.stops.get(marker_id) or StopTaskCounts()


@dataclass(frozen=True)
class TeamResult:
    rank: int
    team_id: int
    name: str | None
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    found: int
    score: int
    methods: dict[str, int] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)
    tasks: TaskCounts = field(default_factory=TaskCounts)


@dataclass(frozen=True)
class StopCount:
    number: int
    marker_id: int
    title: Text
    found: int
    methods: dict[str, int]
    has_task: bool = False
    hint_count: int = 0
    tasks: StopTaskCounts = field(default_factory=StopTaskCounts)


@dataclass(frozen=True)
class Summary:
    """Anonymous counts: they survive the purge of personal data."""

    teams: int
    finished: int
    finds: int
    methods: dict[str, int]
    flags: dict[str, int]
    stops: list[StopCount]
    fastest_s: float | None
    median_s: float | None
    tasks_solved: int = 0
    hints: int = 0


def rally_finds(rally_id: int) -> list[tuple[int, int, str, datetime]]:
    """(team id, marker id, method, found at) of every find of the rally's teams of a marker
    that is one of its stops; one query."""
    return [
        tuple(r)
        for r in db.session.execute(
            select(
                models.Discovery.team_id,
                models.Discovery.marker_id,
                models.Discovery.method,
                models.Discovery.found_at,
            )
            .join(models.Team, models.Team.id == models.Discovery.team_id)
            .join(
                models.RallyStop,
                (models.RallyStop.marker_id == models.Discovery.marker_id)
                & (models.RallyStop.rally_id == rally_id),
            )
            .where(models.Team.rally_id == rally_id)
        )
    ]


def flag_counts(rally_id: int) -> dict[int, Counter[str]]:
    """Flags of each team of the rally by kind; one query."""
    flags: dict[int, Counter[str]] = defaultdict(Counter)
    for team_id, kind, n in db.session.execute(
        select(models.TeamFlag.team_id, models.TeamFlag.kind, func.count())
        .join(models.Team, models.Team.id == models.TeamFlag.team_id)
        .where(models.Team.rally_id == rally_id)
        .group_by(models.TeamFlag.team_id, models.TeamFlag.kind)
    ):
        flags[team_id][kind] += n
    return flags


def hint_costs(stops: Iterable[models.RallyStop]) -> dict[int, tuple[int, ...]]:
    """Marker id -> the costs of the stop's hints in the order they are taken."""
    return {
        s.marker_id: tuple(h.cost for h in rallyfile.parse_hints(s.hints or [], "hints"))
        for s in stops
    }


def rally_progress(rally_id: int, costs: dict[int, Sequence[int]]) -> Progress:
    """Tasks and hints of every team of the rally at its stops, summed by team and by stop;
    one query. ``costs`` (hint_costs) prices the hints taken, as the rules do."""
    teams: dict[int, TaskCounts] = defaultdict(TaskCounts)
    stops: dict[int, StopTaskCounts] = defaultdict(StopTaskCounts)
    for team_id, marker_id, wrong, solved, points, hints in db.session.execute(
        select(
            models.StopProgress.team_id,
            models.StopProgress.marker_id,
            models.StopProgress.wrong,
            models.StopProgress.solved,
            models.StopProgress.points,
            models.StopProgress.hints,
        )
        .join(models.Team, models.Team.id == models.StopProgress.team_id)
        .join(
            models.RallyStop,
            (models.RallyStop.marker_id == models.StopProgress.marker_id)
            & (models.RallyStop.rally_id == rally_id),
        )
        .where(models.Team.rally_id == rally_id)
    ):
        answered = bool(solved or wrong)
        team, stop = teams[team_id], stops[marker_id]
        team.points += points
        team.solved += bool(solved)
        team.answered += answered
        team.hints += hints
        team.hint_cost += sum(costs.get(marker_id, ())[:hints])
        stop.solved += bool(solved)
        stop.answered += answered
        stop.hinted += hints > 0
    return Progress(dict(teams), dict(stops))


def team_results(row: models.Rally) -> list[TeamResult]:
    """Every team of the rally, best first (complete, then score, then shorter time)."""
    teams = db.session.execute(
        select(
            models.Team.id,
            models.Team.name,
            models.Team.started_at,
            models.Team.finished_at,
            models.Team.score,
            models.Team.found_count,
        ).where(models.Team.rally_id == row.id)
    ).all()
    methods: dict[int, Counter[str]] = defaultdict(Counter)
    for team_id, _marker, method, _at in rally_finds(row.id):
        methods[team_id][method] += 1
    flags = flag_counts(row.id)
    progress = rally_progress(row.id, hint_costs(row.stops))
    return [
        TeamResult(
            rank,
            team.id,
            team.name,
            team.started_at,
            team.finished_at,
            duration,
            team.found_count,
            team.score,
            dict(methods[team.id]),
            dict(flags[team.id]),
            progress.team(team.id),
        )
        for rank, team, duration in ranked(teams)
    ]


def ranked(teams: Iterable[T]) -> list[tuple[int, T, float | None]]:
    """(rank, team, duration in seconds) in leaderboard order (routes.rules.rank_key), ties by
    id; each team needs id, score, started_at and finished_at."""
    keyed = []
    for team in teams:
        duration = (
            None
            if team.finished_at is None
            else (team.finished_at - team.started_at).total_seconds()
        )
        key = rules.rank_key(team.finished_at is not None, team.score, duration)
        keyed.append((key, team.id, team, duration))
    keyed.sort(key=lambda r: (r[0], r[1]))
    return [(rank, team, duration) for rank, (_, _, team, duration) in enumerate(keyed, 1)]


def summarize(row: models.Rally, results: list[TeamResult]) -> Summary:
    """Teams, finishers, finds by stop and by method, tasks solved and hints taken by stop,
    flags, fastest and median time."""
    per_stop: dict[int, Counter[str]] = defaultdict(Counter)
    for _team, marker_id, method, _at in rally_finds(row.id):
        per_stop[marker_id][method] += 1
    progress = rally_progress(row.id, hint_costs(row.stops))
    stops = [
        StopCount(
            number,
            s.marker_id,
            s.marker.text("title"),
            sum(per_stop[s.marker_id].values()),
            dict(per_stop[s.marker_id]),
            bool(s.task),
            len(s.hints or []),
            progress.stop(s.marker_id),
        )
        for number, s in enumerate(row.stops, 1)
    ]
    methods: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    for r in results:
        methods.update(r.methods)
        flags.update(r.flags)
    durations = sorted(r.duration_s for r in results if r.duration_s is not None)
    return Summary(
        teams=len(results),
        finished=len(durations),
        finds=sum(methods.values()),
        methods={m: methods[m] for m in METHODS},
        flags={k: flags[k] for k in FLAG_KINDS},
        stops=stops,
        fastest_s=durations[0] if durations else None,
        median_s=statistics.median(durations) if durations else None,
        tasks_solved=sum(r.tasks.solved for r in results),
        hints=sum(r.tasks.hints for r in results),
    )


def safe_cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula: a leading apostrophe before = + - @
    (and tab or carriage return)."""
    return "'" + value if value.startswith(FORMULA_START) else value


def duration_text(seconds: float | None) -> str:
    """1:05:09 for 3909 s (spreadsheets read it as a duration); empty when unknown."""
    if seconds is None:
        return ""
    total = round(seconds)
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def counts_text(counts: dict[str, int], prefix: str, lang: str) -> str:
    """'GPS 7, QR-Code 2, Hilfe 1' from {"gps": 7, "qr": 2, "assist": 1}, known order first."""
    order = [*METHODS, *FLAG_KINDS]
    keys = sorted(
        (k for k, n in counts.items() if n),
        key=lambda k: (order.index(k) if k in order else len(order), k),
    )
    return ", ".join(f"{t(f'{prefix}.{k}', lang)} {counts[k]}" for k in keys)


def team_label(result: TeamResult, lang: str) -> str:
    """The team's name, or after the purge an anonymous label with its number."""
    if result.name is None:
        return t("organiser.team_anonymous", lang, id=result.team_id)
    return result.name


def timezone(name: str | None) -> tzinfo:
    """The zone of the name, or the event's zone (EVENT_TIMEZONE) when no name is given."""
    if name is None:
        return formats.event_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ExportError("unknown_timezone", timezone=name[:60]) from None


def iso_time(at: datetime | None, zone: tzinfo) -> str:
    """ISO 8601 with the zone's offset on that day: "2026-11-29T19:05:00+01:00" (as
    formats.iso_local writes the event zone's times)."""
    return "" if at is None else at.astimezone(zone).isoformat(timespec="seconds")


def to_csv(
    results: list[TeamResult],
    total_stops: int,
    lang: str,
    tz: str | None = None,
    delimiter: str = ",",
) -> bytes:
    """UTF-8 with a byte order mark (so spreadsheets read umlauts right), header in lang, times
    in ISO 8601 with their offset in the event's zone (or tz), the zone named in the header,
    text cells guarded against formula injection."""
    zone = timezone(tz)
    sep = DELIMITERS.get(delimiter)
    if sep is None:
        raise ExportError("unknown_delimiter", delimiter=delimiter[:10])
    tz = tz or str(zone)

    def when(at: datetime | None) -> str:
        return iso_time(at, zone)

    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\r\n")
    writer.writerow(
        [
            safe_cell(t(f"organiser.csv.{c}", lang, tz=tz, total=total_stops))
            for c in (
                "rank",
                "team",
                "started",
                "finished",
                "duration",
                "found",
                "methods",
                "score",
                "flags",
                "task_points",
                "tasks_solved",
                "tasks_answered",
                "hints",
                "hint_cost",
            )
        ]
    )
    for r in results:
        writer.writerow(
            [
                r.rank,
                safe_cell(team_label(r, lang)),
                when(r.started_at),
                when(r.finished_at),
                duration_text(r.duration_s),
                r.found,
                safe_cell(counts_text(r.methods, "organiser.method", lang)),
                r.score,
                safe_cell(counts_text(r.flags, "organiser.flag", lang)),
                r.tasks.points,
                r.tasks.solved,
                r.tasks.answered,
                r.tasks.hints,
                r.tasks.hint_cost,
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
