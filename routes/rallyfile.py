"""Rally files: a rally as JSON, loaded into routes.model objects and dumped back.

Format ``art-caching-rally/1``, a UTF-8 JSON object (fields marked ? are optional)::

    format             "art-caching-rally/1"
    id?                the rally's id, an integer >= 1 (default 1)
    slug               lowercase letters and digits, words joined by "-"
    title, intro?      texts {"de": "...", "en": "...", "de-x-ls"?: "..."} (de-x-ls: Leichte
                       Sprache); the intro: where to meet, how to play
    finish_text?       texts: what now at the finish (where to collect the prize, until when)
    order_mode?        "fixed" (default) or "free"
    start?, finish?    {"lat": ..., "lon": ..., "name"?: "..."}
    solution_word?     letters only, one per stop: stop i reveals letter i
    walking_speed_mps? metres per second (default routes.model.WALKING_SPEED_MPS)
    dwell_s?           seconds spent at each stop (default routes.model.DWELL_S)
    play_area?         [[lat, lon], ...], a polygon of at least three corners
    markers            [{"key", "id"?, "venue"?, "lat", "lon", "radius_m"?, "polygon"?,
                         "title"?, "clue"?, "story"?, "source"?, "step_free"?}, ...]
    stops              [{"marker": "<key>", "clue"?: {...}, "task"?: {...}, "hints"?: [...]}, ...],
                       in walking order

A stop's ``task`` (routes.tasks.Task) opens once its marker is found::

    type               "choice", "number" or "text"
    question           a text
    options            choice only: 2 to 6 texts
    answer             choice: the right option's 0-based index; number: a number; text: a
                       string, or an array of accepted strings
    tolerance?         number only: how far off an answer may be, >= 0 (default 0)
    points?            points for a right answer at the first attempt, >= 0 (default 50)
    attempts?          1 to 10 (default 3)
    letter?            "find" (default): the stop's letter shows on finding the marker;
                       "answer": once the task is solved or its attempts are used up

A stop's ``hints`` are 0 to 3 ``{"text": {...}, "cost"?: points >= 0 (default 10)}``. dump_rally
writes every field of a task and hint (tolerance for a number task only), and a text task's
answer as a string when it has one accepted answer.

A marker's ``key`` names it within the file; its ``id`` defaults to its place in ``markers``
(1..n); ``venue`` names an entry of a venues file (see load_venues) and, when the loader is given
the venues, its lat/lon must match that entry; ``source`` is where its facts come from;
``step_free`` whether it can be reached without steps (absent: not known; taken from the venue
when the marker does not say). Every marker must be used by a stop. Coordinates are WGS84
decimal degrees. Every problem raises a RallyFileError that names its JSON path, e.g.
``markers[3].lat: must be a number, got 'x'``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import assets
from markers.geo import CoordinateError, LatLon, check_latlon, distance_m
from markers.geofence import MAX_RADIUS_M, MIN_RADIUS_M
from markers.i18n import TEXT_LANGUAGES
from routes.model import (
    DWELL_S,
    WALKING_SPEED_MPS,
    Marker,
    OrderMode,
    Rally,
    Stop,
    Text,
    text,
)
from routes.tasks import (
    DEFAULT_ATTEMPTS,
    DEFAULT_HINT_COST,
    DEFAULT_POINTS,
    MAX_ANSWER_CHARS,
    MAX_ATTEMPTS,
    MAX_HINTS,
    MAX_OPTIONS,
    MIN_OPTIONS,
    Hint,
    LetterOn,
    Task,
    TaskType,
)

FORMAT = "art-caching-rally/1"
DEFAULT_RALLY_ID = 1
DEFAULT_RADIUS_M = Marker.__dataclass_fields__["radius_m"].default

Source = str | os.PathLike[str] | Traversable | Mapping[str, Any]
"""Where a file's JSON comes from: a path, a resource such as VENUES_PATH, or the parsed object."""

VENUES_PATH = assets.files() / "kaiserslautern_venues.json"
DEMO_RALLY_PATH = assets.files() / "demo" / "kaiserslautern.json"

VENUE_MATCH_M = 1.0
"""How far a marker may lie from the venue it names (rounding only; an offset needs no venue)."""

_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_VENUE_FIELDS = ("name", "kind", "lat", "lon", "address", "source", "short_fact")


class RallyFileError(ValueError):
    """A rally or venues file that breaks its format; ``where`` is the JSON path of the problem."""

    def __init__(self, where: str, problem: str, file: str | None = None) -> None:
        self.where = where
        self.problem = problem
        self.file = file
        super().__init__(": ".join(p for p in (file, where, problem) if p))


@dataclass(frozen=True)
class Venue:
    """An art or culture venue from a venues file: where it is and one fact about it."""

    name: str
    kind: str
    position: LatLon
    address: str
    source: str
    short_fact: str
    step_free: bool | None = None
    """Whether the venue can be reached without steps (None: no source says)."""


@dataclass(frozen=True)
class RallyFile:
    """A loaded rally file: the rally, and what the model does not hold (keys, sources, names)."""

    rally: Rally
    keys: Mapping[int, str] = field(default_factory=dict)
    """Marker id to the marker's key in the file."""
    sources: Mapping[int, str] = field(default_factory=dict)
    """Marker id to the address its facts come from."""
    start_name: str = ""
    finish_name: str = ""


def load_rally(source: Source, venues: Iterable[Venue] | None = None) -> Rally:
    """The rally in a rally file (a path, or the already parsed JSON object)."""
    return read_rally_file(source, venues).rally


def read_rally_file(source: Source, venues: Iterable[Venue] | None = None) -> RallyFile:
    """A rally file with everything it holds; markers naming a venue are checked against venues."""
    data, file = _read_json(source)
    try:
        return _parse_rally(data, None if venues is None else {v.name: v for v in venues})
    except RallyFileError as e:
        if file is None:
            raise
        raise RallyFileError(e.where, e.problem, file) from None


def demo_rally() -> Rally:
    """The Kaiserslautern demo rally, its markers checked against the venues file."""
    return load_rally(DEMO_RALLY_PATH, load_venues(VENUES_PATH))


def load_venues(path: str | os.PathLike[str] | Traversable = VENUES_PATH) -> list[Venue]:
    """The venues of a venues file: a JSON array of objects with the fields of Venue."""
    data, file = _read_json(path)
    try:
        return _parse_venues(data)
    except RallyFileError as e:
        raise RallyFileError(e.where, e.problem, file) from None


def dump_rally(rally: Rally | RallyFile) -> dict[str, Any]:
    """The rally file (as a JSON-ready dict) that read_rally_file turns back into ``rally``."""
    extra = rally if isinstance(rally, RallyFile) else RallyFile(rally)
    r = extra.rally
    markers = _unique_markers(r)
    keys = {m.id: extra.keys.get(m.id) or f"marker-{m.id}" for m in markers}
    if len(set(keys.values())) != len(keys):
        raise ValueError("two markers share a key")
    out: dict[str, Any] = {"format": FORMAT}
    if r.id != DEFAULT_RALLY_ID:
        out["id"] = r.id
    out["slug"] = r.slug
    out["title"] = _dump_text(r.title)
    if _dump_text(r.intro):
        out["intro"] = _dump_text(r.intro)
    if _dump_text(r.finish_text):
        out["finish_text"] = _dump_text(r.finish_text)
    out["order_mode"] = OrderMode(r.order_mode).value
    for name, point, label in (
        ("start", r.start, extra.start_name),
        ("finish", r.finish, extra.finish_name),
    ):
        if point is not None:
            out[name] = {"lat": point[0], "lon": point[1], **({"name": label} if label else {})}
    if r.solution_word:
        out["solution_word"] = r.solution_word
    out["walking_speed_mps"] = r.walking_speed_mps
    out["dwell_s"] = r.dwell_s
    if r.play_area is not None:
        out["play_area"] = [[p[0], p[1]] for p in r.play_area]
    out["markers"] = [
        _dump_marker(m, i, keys[m.id], extra.sources.get(m.id)) for i, m in enumerate(markers)
    ]
    out["stops"] = [_dump_stop(s, keys[s.marker.id]) for s in r.stops]
    return out


def _dump_stop(stop: Stop, key: str) -> dict[str, Any]:
    out: dict[str, Any] = {"marker": key}
    if stop.clue:
        out["clue"] = _dump_text(stop.clue)
    if stop.task is not None:
        out["task"] = dump_task(stop.task)
    if stop.hints:
        out["hints"] = dump_hints(stop.hints)
    return out


def dump_hints(hints: tuple[Hint, ...]) -> list[dict[str, Any]]:
    """Hints as the rally file writes them."""
    return [{"text": _dump_text(h.text), "cost": h.cost} for h in hints]


def dump_task(task: Task) -> dict[str, Any]:
    """A task as the rally file writes it (every field, in canonical form)."""
    out: dict[str, Any] = {"type": TaskType(task.type).value, "question": _dump_text(task.question)}
    if task.type is TaskType.CHOICE:
        out["options"] = [_dump_text(o) for o in task.options]
    if task.type is TaskType.TEXT:
        accepted = list(task.accepted)
        out["answer"] = accepted[0] if len(accepted) == 1 else accepted
    else:
        out["answer"] = task.answer
    if task.type is TaskType.NUMBER:
        out["tolerance"] = task.tolerance
    out.update(points=task.points, attempts=task.attempts, letter=LetterOn(task.letter_on).value)
    return out


def _unique_markers(rally: Rally) -> list[Marker]:
    seen: dict[int, Marker] = {}
    for s in rally.stops:
        if seen.setdefault(s.marker.id, s.marker) != s.marker:
            raise ValueError(f"two different markers share the id {s.marker.id}")
    return list(seen.values())


def _dump_marker(m: Marker, index: int, key: str, source: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key}
    if m.id != index + 1:
        out["id"] = m.id
    if m.venue:
        out["venue"] = m.venue
    out.update(lat=m.position[0], lon=m.position[1], radius_m=m.radius_m)
    if m.polygon is not None:
        out["polygon"] = [[p[0], p[1]] for p in m.polygon]
    for name in ("title", "clue", "story"):
        if _dump_text(getattr(m, name)):
            out[name] = _dump_text(getattr(m, name))
    if source:
        out["source"] = source
    if m.step_free is not None:
        out["step_free"] = m.step_free
    return out


def _dump_text(value: Text | None) -> dict[str, str]:
    return {lang: v for lang, v in (value or {}).items() if v}


# --- reading ---------------------------------------------------------------------------------


def _read_json(source: Source) -> tuple[Any, str | None]:
    resource: Traversable
    if isinstance(source, str | os.PathLike):
        file, resource = os.fspath(source), Path(source)
    elif isinstance(source, Traversable):
        file, resource = str(source), source
    else:
        return source, None
    try:
        raw = resource.read_text(encoding="utf-8")
    except OSError as e:
        raise RallyFileError("", f"cannot read the file: {e.strerror or e}", file) from None
    except UnicodeDecodeError as e:
        raise RallyFileError("", f"not UTF-8 text (byte {e.start})", file) from None
    try:
        return json.loads(raw), file
    except json.JSONDecodeError as e:
        raise RallyFileError(
            f"line {e.lineno}, column {e.colno}", f"invalid JSON: {e.msg}", file
        ) from None


def _parse_rally(data: Any, venues: Mapping[str, Venue] | None) -> RallyFile:
    if not isinstance(data, Mapping):
        raise RallyFileError("", f"a rally file must hold a JSON object, got {_kind(data)}")
    if data.get("format") != FORMAT:
        raise RallyFileError("format", f"must be {FORMAT!r}, got {data.get('format')!r}")
    top = _fields(
        data,
        "",
        {"format", "slug", "title", "markers", "stops"},
        {
            "id",
            "intro",
            "finish_text",
            "order_mode",
            "start",
            "finish",
            "solution_word",
            "walking_speed_mps",
            "dwell_s",
            "play_area",
        },
    )
    rally_id = _integer(top.get("id", DEFAULT_RALLY_ID), "id")
    slug = _string(top["slug"], "slug")
    if not _SLUG.fullmatch(slug):
        raise RallyFileError(
            "slug", f"must be lowercase letters and digits joined by '-', got {slug!r}"
        )
    title = _text(top["title"], "title", required=True)
    intro = _text(top.get("intro", {}), "intro")
    finish_text = _text(top.get("finish_text", {}), "finish_text")
    mode_value = _string(top.get("order_mode", OrderMode.FIXED.value), "order_mode")
    if mode_value not in {m.value for m in OrderMode}:
        raise RallyFileError(
            "order_mode", f"must be one of {[m.value for m in OrderMode]}, got {mode_value!r}"
        )
    start, start_name = _place(top.get("start"), "start")
    finish, finish_name = _place(top.get("finish"), "finish")
    word = top.get("solution_word")
    if word is not None:
        word = _string(word, "solution_word")
        if not word.isalpha():
            raise RallyFileError("solution_word", f"must be letters only, got {word!r}")
    speed = _number(top.get("walking_speed_mps", WALKING_SPEED_MPS), "walking_speed_mps")
    if speed <= 0:
        raise RallyFileError("walking_speed_mps", f"must be more than 0, got {speed}")
    dwell = _number(top.get("dwell_s", DWELL_S), "dwell_s")
    if dwell < 0:
        raise RallyFileError("dwell_s", f"must be 0 or more, got {dwell}")
    play_area = top.get("play_area")
    if play_area is not None:
        play_area = _polygon(play_area, "play_area")

    by_key: dict[str, tuple[int, Marker]] = {}
    sources: dict[int, str] = {}
    used_ids: dict[int, int] = {}
    for i, raw in enumerate(_array(top["markers"], "markers")):
        key, marker, source = _marker(raw, f"markers[{i}]", i, venues)
        if key in by_key:
            raise RallyFileError(
                f"markers[{i}].key", f"{key!r} is already the key of markers[{by_key[key][0]}]"
            )
        if marker.id in used_ids:
            raise RallyFileError(
                f"markers[{i}].id",
                f"{marker.id} is already the id of markers[{used_ids[marker.id]}]",
            )
        by_key[key] = (i, marker)
        used_ids[marker.id] = i
        if source:
            sources[marker.id] = source

    stops = []
    for i, raw in enumerate(_array(top["stops"], "stops")):
        where = f"stops[{i}]"
        fields = _fields(raw, where, {"marker"}, {"clue", "task", "hints"})
        key = _string(fields["marker"], f"{where}.marker")
        if key not in by_key:
            raise RallyFileError(f"{where}.marker", f"no marker has the key {key!r}")
        clue = _text(fields.get("clue", {}), f"{where}.clue")
        task = parse_task(fields["task"], f"{where}.task") if "task" in fields else None
        hints = parse_hints(fields.get("hints", []), f"{where}.hints")
        stops.append(Stop(by_key[key][1], clue if any(clue.values()) else None, task, hints))
    used = {s.marker.id for s in stops}
    for key, (i, marker) in by_key.items():
        if marker.id not in used:
            raise RallyFileError(f"markers[{i}]", f"marker {key!r} is used by no stop")

    rally = Rally(
        id=rally_id,
        slug=slug,
        title=title,
        stops=tuple(stops),
        order_mode=OrderMode(mode_value),
        start=start,
        finish=finish,
        solution_word=word,
        walking_speed_mps=speed,
        dwell_s=dwell,
        play_area=play_area,
        intro=intro,
        finish_text=finish_text,
    )
    keys = {m.id: k for k, (_, m) in by_key.items()}
    return RallyFile(rally, keys, sources, start_name, finish_name)


def _marker(
    raw: Any, where: str, index: int, venues: Mapping[str, Venue] | None
) -> tuple[str, Marker, str | None]:
    fields = _fields(
        raw,
        where,
        {"key", "lat", "lon"},
        {"id", "venue", "radius_m", "polygon", "title", "clue", "story", "source", "step_free"},
    )
    key = _string(fields["key"], f"{where}.key")
    marker_id = _integer(fields.get("id", index + 1), f"{where}.id")
    position = _latlon(fields, where)
    radius = _number(fields.get("radius_m", DEFAULT_RADIUS_M), f"{where}.radius_m")
    if not MIN_RADIUS_M <= radius <= MAX_RADIUS_M:
        raise RallyFileError(
            f"{where}.radius_m",
            f"must lie between {MIN_RADIUS_M:g} and {MAX_RADIUS_M:g} metres, got {radius}",
        )
    polygon = fields.get("polygon")
    if polygon is not None:
        polygon = _polygon(polygon, f"{where}.polygon")
    step_free = _optional_bool(fields.get("step_free"), f"{where}.step_free")
    venue = fields.get("venue")
    if venue is not None:
        venue = _string(venue, f"{where}.venue")
        if venues is not None:
            step_free = _check_venue(position, venue, venues, where, step_free)
    source = _string(fields["source"], f"{where}.source") if "source" in fields else None
    marker = Marker(
        id=marker_id,
        position=position,
        radius_m=radius,
        polygon=polygon,
        venue=venue,
        step_free=step_free,
        title=_text(fields.get("title", {}), f"{where}.title"),
        clue=_text(fields.get("clue", {}), f"{where}.clue"),
        story=_text(fields.get("story", {}), f"{where}.story"),
    )
    return key, marker, source


def _check_venue(
    position: LatLon, name: str, venues: Mapping[str, Venue], where: str, step_free: bool | None
) -> bool | None:
    """Check that the marker lies at its venue; return its step_free, the venue's if unsaid."""
    venue = venues.get(name)
    if venue is None:
        raise RallyFileError(f"{where}.venue", f"no venue is named {name!r}")
    off = distance_m(position, venue.position)
    if off > VENUE_MATCH_M:
        raise RallyFileError(
            where,
            f"lies {off:.1f} m from its venue {name!r} at {venue.position[0]}, {venue.position[1]}",
        )
    if step_free is None:
        return venue.step_free
    if venue.step_free is not None and step_free != venue.step_free:
        raise RallyFileError(
            f"{where}.step_free",
            f"is {str(step_free).lower()}, but its venue {name!r} says "
            f"{str(venue.step_free).lower()}",
        )
    return step_free


def _parse_venues(data: Any) -> list[Venue]:
    venues: list[Venue] = []
    names: dict[str, int] = {}
    for i, raw in enumerate(_array(data, "")):
        where = f"[{i}]"
        fields = _fields(raw, where, set(_VENUE_FIELDS), {"step_free"})
        strings = {
            k: _string(fields[k], f"{where}.{k}") for k in _VENUE_FIELDS if k not in ("lat", "lon")
        }
        step_free = _optional_bool(fields.get("step_free"), f"{where}.step_free")
        if strings["name"] in names:
            raise RallyFileError(
                f"{where}.name",
                f"{strings['name']!r} is already the name of [{names[strings['name']]}]",
            )
        names[strings["name"]] = i
        venues.append(Venue(position=_latlon(fields, where), step_free=step_free, **strings))
    return venues


def _fields(raw: Any, where: str, required: set[str], optional: set[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise RallyFileError(where, f"must be an object, got {_kind(raw)}")
    missing = sorted(required - raw.keys())
    if missing:
        raise RallyFileError(_join(where, missing[0]), "is required")
    for name in raw:
        if name not in required | optional:
            allowed = ", ".join(sorted(required | optional))
            raise RallyFileError(_join(where, str(name)), f"unknown field (known: {allowed})")
    return raw


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an object" if isinstance(value, Mapping) else "an array"


def _array(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise RallyFileError(where, f"must be an array, got {_kind(value)}")
    return list(value)


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise RallyFileError(where, f"must be a string, got {_kind(value)}")
    if not value.strip():
        raise RallyFileError(where, "must not be empty")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RallyFileError(where, f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise RallyFileError(where, f"must be a finite number, got {value}")
    return float(value)


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RallyFileError(where, f"must be a whole number of 1 or more, got {value!r}")
    return value


def _coordinate(value: Any, where: str, name: str) -> float:
    try:
        point = check_latlon(value, 0.0) if name == "lat" else check_latlon(0.0, value)
    except CoordinateError as e:
        raise RallyFileError(where, str(e).removeprefix(f"{name} ")) from None
    return point[0] if name == "lat" else point[1]


def _latlon(fields: Mapping[str, Any], where: str) -> LatLon:
    return LatLon(*(_coordinate(fields[n], _join(where, n), n) for n in ("lat", "lon")))


def _place(value: Any, where: str) -> tuple[LatLon | None, str]:
    if value is None:
        return None, ""
    fields = _fields(value, where, {"lat", "lon"}, {"name"})
    name = _string(fields["name"], f"{where}.name") if "name" in fields else ""
    return _latlon(fields, where), name


def _polygon(value: Any, where: str) -> tuple[LatLon, ...]:
    corners = _array(value, where)
    if len(corners) < 3:
        raise RallyFileError(where, f"a polygon needs at least three corners, got {len(corners)}")
    points = []
    for i, corner in enumerate(corners):
        pair = _array(corner, f"{where}[{i}]")
        if len(pair) != 2:
            raise RallyFileError(f"{where}[{i}]", f"must be [lat, lon], got {len(pair)} values")
        points.append(
            LatLon(
                _coordinate(pair[0], f"{where}[{i}][0]", "lat"),
                _coordinate(pair[1], f"{where}[{i}][1]", "lon"),
            )
        )
    return tuple(points)


def _text(value: Any, where: str, required: bool = False) -> Text:
    if not isinstance(value, Mapping):
        raise RallyFileError(where, f"must be an object of texts by language, got {_kind(value)}")
    known = ", ".join(TEXT_LANGUAGES)
    for lang, v in value.items():
        if lang not in TEXT_LANGUAGES:
            raise RallyFileError(_join(where, str(lang)), f"unknown language (known: {known})")
        if not isinstance(v, str):
            raise RallyFileError(_join(where, lang), f"must be a string, got {_kind(v)}")
    if required and not any(v.strip() for v in value.values()):
        raise RallyFileError(where, f"needs a text in at least one of {known}")
    return text(value.get("de", ""), value.get("en", ""), value.get("de-x-ls", ""))


def _optional_bool(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise RallyFileError(where, f"must be true or false, got {_kind(value)}")


def _whole(value: Any, where: str, low: int, high: int | None = None) -> int:
    """A whole number from low to high (no upper limit when high is None)."""
    ok = not isinstance(value, bool) and isinstance(value, int)
    if ok and value >= low and (high is None or value <= high):
        return value
    wanted = f"of {low} or more" if high is None else f"from {low} to {high}"
    raise RallyFileError(where, f"must be a whole number {wanted}, got {value!r}")


def _choice(value: Any, where: str, choices: Iterable[str]) -> str:
    known = [str(c) for c in choices]
    chosen = _string(value, where)
    if chosen not in known:
        raise RallyFileError(where, f"must be one of {known}, got {chosen!r}")
    return chosen


def parse_task(raw: Any, where: str) -> Task:
    fields = _fields(
        raw,
        where,
        {"type", "question", "answer"},
        {"options", "tolerance", "points", "attempts", "letter"},
    )
    kind = TaskType(_choice(fields["type"], f"{where}.type", (t.value for t in TaskType)))
    question = _text(fields["question"], f"{where}.question", required=True)
    if "options" in fields and kind is not TaskType.CHOICE:
        raise RallyFileError(
            f"{where}.options", f"only a choice task has options, not a {kind.value} task"
        )
    if "tolerance" in fields and kind is not TaskType.NUMBER:
        raise RallyFileError(
            f"{where}.tolerance", f"only a number task has a tolerance, not a {kind.value} task"
        )
    options: tuple[Text, ...] = ()
    tolerance = 0.0
    answer: int | float | tuple[str, ...]
    if kind is TaskType.CHOICE:
        if "options" not in fields:
            raise RallyFileError(f"{where}.options", "is required for a choice task")
        listed = _array(fields["options"], f"{where}.options")
        if not MIN_OPTIONS <= len(listed) <= MAX_OPTIONS:
            raise RallyFileError(
                f"{where}.options",
                f"a choice task needs {MIN_OPTIONS} to {MAX_OPTIONS} options, got {len(listed)}",
            )
        options = tuple(
            _text(o, f"{where}.options[{i}]", required=True) for i, o in enumerate(listed)
        )
        answer = _whole(fields["answer"], f"{where}.answer", 0, len(options) - 1)
    elif kind is TaskType.NUMBER:
        value = fields["answer"]
        number = _number(value, f"{where}.answer")
        answer = value if isinstance(value, int) else number
        tolerance = _number(fields.get("tolerance", 0.0), f"{where}.tolerance")
        if tolerance < 0:
            raise RallyFileError(f"{where}.tolerance", f"must be 0 or more, got {tolerance}")
    else:
        answer = _accepted(fields["answer"], f"{where}.answer")
    letter = _choice(fields.get("letter", LetterOn.FIND.value), f"{where}.letter", LetterOn)
    return Task(
        type=kind,
        question=question,
        options=options,
        answer=answer,
        tolerance=tolerance,
        points=_whole(fields.get("points", DEFAULT_POINTS), f"{where}.points", 0),
        attempts=_whole(
            fields.get("attempts", DEFAULT_ATTEMPTS), f"{where}.attempts", 1, MAX_ATTEMPTS
        ),
        letter_on=LetterOn(letter),
    )


def _accepted(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (_answer_text(value, where),)
    if not isinstance(value, list | tuple):
        raise RallyFileError(where, f"must be a string or an array of strings, got {_kind(value)}")
    if not value:
        raise RallyFileError(where, "needs at least one accepted answer")
    return tuple(_answer_text(v, f"{where}[{i}]") for i, v in enumerate(value))


def _answer_text(value: Any, where: str) -> str:
    accepted = _string(value, where)
    if len(accepted) > MAX_ANSWER_CHARS:
        raise RallyFileError(where, f"may have at most {MAX_ANSWER_CHARS} characters")
    return accepted


def parse_hints(value: Any, where: str) -> tuple[Hint, ...]:
    listed = _array(value, where)
    if len(listed) > MAX_HINTS:
        raise RallyFileError(where, f"a stop has at most {MAX_HINTS} hints, got {len(listed)}")
    hints = []
    for i, raw in enumerate(listed):
        fields = _fields(raw, f"{where}[{i}]", {"text"}, {"cost"})
        hints.append(
            Hint(
                _text(fields["text"], f"{where}[{i}].text", required=True),
                _whole(fields.get("cost", DEFAULT_HINT_COST), f"{where}[{i}].cost", 0),
            )
        )
    return tuple(hints)
