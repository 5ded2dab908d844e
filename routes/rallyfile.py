"""Rally files: a rally as JSON, loaded into routes.model objects and dumped back.

Format ``art-caching-rally/1``, a UTF-8 JSON object (fields marked ? are optional)::

    format             "art-caching-rally/1"
    id?                the rally's id, an integer >= 1 (default 1)
    slug               lowercase letters and digits, words joined by "-"
    title, intro?      texts {"de": "...", "en": "..."}; the intro: where to meet, how to play
    order_mode?        "fixed" (default) or "free"
    start?, finish?    {"lat": ..., "lon": ..., "name"?: "..."}
    solution_word?     letters only, one per stop: stop i reveals letter i
    walking_speed_mps? metres per second (default routes.model.WALKING_SPEED_MPS)
    dwell_s?           seconds spent at each stop (default routes.model.DWELL_S)
    play_area?         [[lat, lon], ...], a polygon of at least three corners
    markers            [{"key", "id"?, "venue"?, "lat", "lon", "radius_m"?, "polygon"?,
                         "title"?, "clue"?, "story"?, "source"?}, ...]
    stops              [{"marker": "<key>", "clue"?: {...}}, ...], in walking order

A marker's ``key`` names it within the file; its ``id`` defaults to its place in ``markers``
(1..n); ``venue`` names an entry of a venues file (see load_venues) and, when the loader is given
the venues, its lat/lon must match that entry; ``source`` is where its facts come from. Every
marker must be used by a stop. Coordinates are WGS84 decimal degrees. Every problem raises a
RallyFileError that names its JSON path, e.g. ``markers[3].lat: must be a number, got 'x'``.
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
from markers.i18n import LANGUAGES
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
    out["stops"] = [
        {"marker": keys[s.marker.id], **({"clue": _dump_text(s.clue)} if s.clue else {})}
        for s in r.stops
    ]
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
        fields = _fields(raw, where, {"marker"}, {"clue"})
        key = _string(fields["marker"], f"{where}.marker")
        if key not in by_key:
            raise RallyFileError(f"{where}.marker", f"no marker has the key {key!r}")
        clue = _text(fields.get("clue", {}), f"{where}.clue")
        stops.append(Stop(by_key[key][1], clue if any(clue.values()) else None))
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
        {"id", "venue", "radius_m", "polygon", "title", "clue", "story", "source"},
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
    venue = fields.get("venue")
    if venue is not None:
        venue = _string(venue, f"{where}.venue")
        if venues is not None:
            _check_venue(position, venue, venues, where)
    source = _string(fields["source"], f"{where}.source") if "source" in fields else None
    marker = Marker(
        id=marker_id,
        position=position,
        radius_m=radius,
        polygon=polygon,
        venue=venue,
        **{
            name: _text(fields.get(name, {}), f"{where}.{name}")
            for name in ("title", "clue", "story")
        },
    )
    return key, marker, source


def _check_venue(position: LatLon, name: str, venues: Mapping[str, Venue], where: str) -> None:
    venue = venues.get(name)
    if venue is None:
        raise RallyFileError(f"{where}.venue", f"no venue is named {name!r}")
    off = distance_m(position, venue.position)
    if off > VENUE_MATCH_M:
        raise RallyFileError(
            where,
            f"lies {off:.1f} m from its venue {name!r} at {venue.position[0]}, {venue.position[1]}",
        )


def _parse_venues(data: Any) -> list[Venue]:
    venues: list[Venue] = []
    names: dict[str, int] = {}
    for i, raw in enumerate(_array(data, "")):
        where = f"[{i}]"
        fields = _fields(raw, where, set(_VENUE_FIELDS), set())
        strings = {
            k: _string(fields[k], f"{where}.{k}") for k in _VENUE_FIELDS if k not in ("lat", "lon")
        }
        if strings["name"] in names:
            raise RallyFileError(
                f"{where}.name",
                f"{strings['name']!r} is already the name of [{names[strings['name']]}]",
            )
        names[strings["name"]] = i
        venues.append(Venue(position=_latlon(fields, where), **strings))
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
    for lang, v in value.items():
        if lang not in LANGUAGES:
            raise RallyFileError(
                _join(where, str(lang)), f"unknown language (known: {', '.join(LANGUAGES)})"
            )
        if not isinstance(v, str):
            raise RallyFileError(_join(where, lang), f"must be a string, got {_kind(v)}")
    if required and not any(v.strip() for v in value.values()):
        raise RallyFileError(where, f"needs a text in at least one of {', '.join(LANGUAGES)}")
    return text(**value)
