"""GPX 1.1 export of a rally (waypoints and route) and of a walk; GPX 1.0/1.1 import.

Pure standard library, so the phone can use it. What a waypoint carries: its number and title,
the venue, a symbol and a type ("start", "stop", "finish"). Clues, stories and solution letters
stay out: a GPX file travels far (to devices, to players), and those are what players earn.

Import is safe for untrusted files: a DOCTYPE (and so any entity declaration: billion laughs,
XXE) is refused, files are capped at MAX_FILE_BYTES and MAX_POINTS, and every problem is a
GpxError naming the line.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NoReturn
from xml.parsers import expat

from markers.geo import LatLon, bbox
from routes.errors import MAX_POINTS, InterchangeError, check_size, latlon, too_many_points
from routes.model import ROUTES_TEXTS, Rally, pick

GPX11 = "http://www.topografix.com/GPX/1/1"
GPX10 = "http://www.topografix.com/GPX/1/0"
_NAMESPACES = (GPX11, GPX10, "")
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_LOCATION = f"{GPX11} http://www.topografix.com/GPX/1/1/gpx.xsd"

KIND_START, KIND_STOP, KIND_FINISH = "start", "stop", "finish"
"""The <type> of the waypoints export_gpx writes (and the "kind" of GeoJSON's points)."""

_SYMBOLS = {KIND_START: "Flag, Green", KIND_STOP: "Flag, Blue", KIND_FINISH: "Flag, Red"}
"""Garmin symbol names, understood by most GPS apps."""

_POINT_TAGS = frozenset({"wpt", "rtept", "trkpt"})
_NOT_XML_CHARS = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
_DATETIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?", re.ASCII)
_NUMBERED = re.compile(r"\d+\.(?: |$)")


class GpxError(InterchangeError):
    """A GPX file that cannot be read; ``line`` says where."""


@dataclass(frozen=True)
class GpxWaypoint:
    """A <wpt> or <rtept>: position, name, description, <type>, and the line it starts on."""

    position: LatLon
    name: str = ""
    description: str = ""
    line: int = 0
    kind: str = ""


@dataclass(frozen=True)
class TrackPoint:
    """A <trkpt>: position, time (UTC, or None when the file has none), and its line."""

    position: LatLon
    time: datetime | None = None
    line: int = 0


@dataclass
class GpxData:
    """What a GPX file holds: its name, waypoints, routes, and tracks (segments joined)."""

    name: str = ""
    waypoints: list[GpxWaypoint] = field(default_factory=list)
    routes: list[list[GpxWaypoint]] = field(default_factory=list)
    tracks: list[list[TrackPoint]] = field(default_factory=list)


# --- export -----------------------------------------------------------------------------------


def _clean(s: str) -> str:
    """s without the characters XML 1.0 cannot hold; line ends as \\n (XML turns \\r into \\n)."""
    return _NOT_XML_CHARS.sub("", s.replace("\r\n", "\n").replace("\r", "\n"))


def _decimal(x: float) -> str:
    """x as an xsd:decimal to 7 places (about 1 cm), without exponent or trailing zeros."""
    s = f"{x:.7f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _lon(lon: float) -> float:
    """lon rounded and in [-180, 180), as GPX's longitudeType demands."""
    r = round(lon, 7)
    return r - 360.0 if r >= 180.0 else r


def _time(t: datetime) -> str:
    """An xsd:dateTime in UTC; a naive datetime is taken to be UTC already."""
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return t.isoformat().replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, value: str | None) -> None:
    if value:
        ET.SubElement(parent, tag).text = _clean(value)


def _point(
    parent: ET.Element,
    tag: str,
    p: LatLon,
    name: str = "",
    *,
    time: datetime | None = None,
    desc: str | None = None,
    kind: str | None = None,
) -> None:
    """A wptType element; children in the order the XSD requires (time, name, desc, sym, type)."""
    el = ET.SubElement(parent, tag, lat=_decimal(round(p[0], 7)), lon=_decimal(_lon(p[1])))
    if time is not None:
        ET.SubElement(el, "time").text = _time(time)
    _sub(el, "name", name)
    _sub(el, "desc", desc)
    if kind:
        _sub(el, "sym", _SYMBOLS[kind])
        _sub(el, "type", kind)


def _gpx(creator: str) -> ET.Element:
    return ET.Element(
        "gpx",
        {
            "version": "1.1",
            "creator": _clean(creator),
            "xmlns": GPX11,
            "xmlns:xsi": _XSI,
            "xsi:schemaLocation": _SCHEMA_LOCATION,
        },
    )


def _serialise(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _named_points(rally: Rally, lang: str) -> list[tuple[LatLon, str, str, str | None]]:
    """(position, name, kind, description) for start, each stop, finish: rally.waypoints() order."""
    points: list[tuple[LatLon, str, str, str | None]] = []
    if rally.start is not None:
        points.append((rally.start, ROUTES_TEXTS.t("interchange.start", lang), KIND_START, None))
    for i, stop in enumerate(rally.stops, 1):
        m = stop.marker
        points.append((m.position, f"{i}. {pick(m.title, lang)}".rstrip(), KIND_STOP, m.venue))
    if rally.finish is not None:
        points.append((rally.finish, ROUTES_TEXTS.t("interchange.finish", lang), KIND_FINISH, None))
    return points


def export_gpx(
    rally: Rally, lang: str = "en", creator: str = "Art Caching", time: datetime | None = None
) -> str:
    """The rally as GPX 1.1: metadata, a waypoint per start/stop/finish, and one route."""
    root = _gpx(creator)
    title = pick(rally.title, lang)
    meta = ET.SubElement(root, "metadata")
    _sub(meta, "name", title)
    _sub(meta, "desc", pick(rally.intro, lang))
    if time is not None:
        ET.SubElement(meta, "time").text = _time(time)
    points = _named_points(rally, lang)
    if points:
        lat0, lon0, lat1, lon1 = bbox([LatLon(p[0], _lon(p[1])) for p, *_ in points])
        ET.SubElement(
            meta,
            "bounds",
            minlat=_decimal(lat0),
            minlon=_decimal(lon0),
            maxlat=_decimal(lat1),
            maxlon=_decimal(lon1),
        )
    for p, name, kind, desc in points:
        _point(root, "wpt", p, name, desc=desc, kind=kind)
    if points:
        rte = ET.SubElement(root, "rte")
        _sub(rte, "name", title)
        for p, name, *_ in points:
            _point(rte, "rtept", p, name)
    return _serialise(root)


def export_track(
    points: Iterable[tuple[LatLon, datetime | None]], name: str = "", creator: str = "Art Caching"
) -> str:
    """A walk (recorded or simulated) as GPX 1.1: one track, one segment, times where known."""
    root = _gpx(creator)
    trk = ET.SubElement(root, "trk")
    _sub(trk, "name", name)
    seg = ET.SubElement(trk, "trkseg")
    for p, t in points:
        _point(seg, "trkpt", p, time=t)
    return _serialise(root)


# --- import -----------------------------------------------------------------------------------


class _Node:
    """An element of the GPX namespace: local tag, attributes, line, children, text."""

    __slots__ = ("attrs", "children", "line", "parts", "tag")

    def __init__(self, tag: str, attrs: dict[str, str], line: int) -> None:
        self.tag, self.attrs, self.line = tag, attrs, line
        self.children: list[_Node] = []
        self.parts: list[str] = []

    def all(self, tag: str) -> list[_Node]:
        return [c for c in self.children if c.tag == tag]

    def first(self, tag: str) -> _Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def text(self, tag: str) -> str:
        """The stripped text of the first child called tag, or ""."""
        child = self.first(tag)
        return "".join(child.parts).strip() if child is not None else ""


@dataclass
class _ReadState:
    """Where the reader is: skipped depth (foreign elements), points counted, the GPX namespace."""

    skip: int = 0
    points: int = 0
    ns: str = ""


def _read_tree(data: str | bytes) -> _Node:
    """The GPX elements of data as a tree; elements of other namespaces are left out."""
    parser = expat.ParserCreate(
        encoding="UTF-8" if isinstance(data, str) else None, namespace_separator=" "
    )
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Node] = []
    state = _ReadState()

    def refuse(*_args: object) -> NoReturn:
        raise GpxError("gpx.declarations_refused", line=parser.CurrentLineNumber)

    def start(name: str, attrs: dict[str, str]) -> None:
        line = parser.CurrentLineNumber
        uri, _, tag = name.rpartition(" ")
        if not stack:
            if tag != "gpx":
                raise GpxError("gpx.root_not_gpx", line=line, tag=tag)
            if uri not in _NAMESPACES:
                raise GpxError("gpx.unknown_namespace", line=line, uri=repr(uri))
            state.ns = uri
        elif state.skip or uri != state.ns:
            state.skip += 1
            return
        if tag in _POINT_TAGS:
            state.points += 1
            if state.points > MAX_POINTS:
                raise too_many_points(GpxError, line=line)
        node = _Node(tag, attrs, line)
        if stack:
            stack[-1].children.append(node)
        stack.append(node)

    def end(_name: str) -> None:
        if state.skip:
            state.skip -= 1
        elif len(stack) > 1:
            stack.pop()

    def chars(s: str) -> None:
        if stack and not state.skip:
            stack[-1].parts.append(s)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data, True)
    except expat.ExpatError as e:
        raise GpxError(
            "gpx.not_well_formed",
            line=e.lineno,
            column=e.offset + 1,
            reason=expat.ErrorString(e.code),
        ) from None
    return stack[0]


def _position(node: _Node) -> LatLon:
    values = []
    for axis in ("lat", "lon"):
        raw = node.attrs.get(axis)
        if raw is None:
            raise GpxError("gpx.missing_attribute", line=node.line, tag=node.tag, axis=axis)
        values.append(float(raw) if _NUMBER.fullmatch(raw) else raw)
    return latlon(values[0], values[1], GpxError, line=node.line)


def _waypoint(node: _Node) -> GpxWaypoint:
    return GpxWaypoint(
        position=_position(node),
        name=node.text("name"),
        description=node.text("desc"),
        line=node.line,
        kind=node.text("type"),
    )


def _parse_time(node: _Node | None) -> datetime | None:
    """The <time> node's xsd:dateTime as an aware UTC datetime (no zone means UTC)."""
    if node is None:
        return None
    raw = "".join(node.parts).strip()
    m = _DATETIME.fullmatch(raw)
    try:
        if m is None:
            raise ValueError(raw)
        fraction = f".{m[2][:6]}" if m[2] else ""
        t = datetime.fromisoformat(m[1] + fraction + (m[3] or "Z"))
    except ValueError:
        raise GpxError("gpx.bad_time", line=node.line, time=repr(raw)) from None
    return t.astimezone(UTC)


def _track_point(node: _Node) -> TrackPoint:
    return TrackPoint(_position(node), _parse_time(node.first("time")), node.line)


def parse_gpx(data: str | bytes) -> GpxData:
    """Read a GPX 1.1, 1.0 or namespace-less file; raise GpxError naming the line if it is bad."""
    check_size(data, GpxError)
    root = _read_tree(data)
    meta = root.first("metadata")
    return GpxData(
        name=(meta.text("name") if meta is not None else "") or root.text("name"),
        waypoints=[_waypoint(w) for w in root.all("wpt")],
        routes=[[_waypoint(p) for p in rte.all("rtept")] for rte in root.all("rte")],
        tracks=[
            [_track_point(p) for seg in trk.all("trkseg") for p in seg.all("trkpt")]
            for trk in root.all("trk")
        ],
    )


def candidate_stops(gpx: GpxData) -> list[tuple[LatLon, str]]:
    """The waypoints that could become stops (not our start/finish), our "3. " numbers removed."""
    found = []
    for w in gpx.waypoints:
        if w.kind in (KIND_START, KIND_FINISH):
            continue
        name = _NUMBERED.sub("", w.name, count=1) if w.kind == KIND_STOP else w.name
        found.append((w.position, name))
    return found
