"""GeoJSON (RFC 7946) export and import of a rally's markers, route and play area.

Export: a FeatureCollection with a Point per stop (kind "stop": number, marker id, name, title in
de and en, radius_m, venue), Points for start and finish, a Polygon per polygon geofence (kind
"geofence"), the walking line (kind "route") and the play area (kind "play_area"); the rally's
slug, title and order mode ride along as the foreign member "rally" (RFC 7946, 6.1). Clues,
stories and solution letters stay out: they are what players earn. Positions are [lon, lat],
rounded to 7 decimals (about 1 cm); polygon rings are closed and counter-clockwise.

Import accepts a FeatureCollection, a single Feature or a bare geometry, and raises GeoJsonError
naming the feature (its 0-based index in "features") or, for broken JSON, the line.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard, cast

from markers.geo import LatLon
from markers.i18n import EASY_GERMAN, LANGUAGES
from routes.errors import MAX_POINTS, InterchangeError, check_size, latlon, too_many_points
from routes.gpx import KIND_FINISH, KIND_START, KIND_STOP
from routes.model import ROUTES_TEXTS, Marker, OrderMode, Rally, Stop, Text, pick, text

KIND_ROUTE, KIND_PLAY_AREA, KIND_GEOFENCE = "route", "play_area", "geofence"

_GEOMETRIES = ("Point", "LineString", "Polygon")
_UNSUPPORTED = ("MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection")
_TITLE_EXAMPLE = json.dumps(dict.fromkeys(LANGUAGES, "…"), ensure_ascii=False)


class GeoJsonError(InterchangeError):
    """A GeoJSON file that cannot be read; ``feature`` or ``line`` says where."""


# --- export -----------------------------------------------------------------------------------


def _pos(p: LatLon) -> list[float]:
    return [round(p[1], 7), round(p[0], 7)]


def _ring(points: tuple[LatLon, ...] | list[LatLon]) -> list[list[float]]:
    """A closed, counter-clockwise linear ring (RFC 7946 right-hand rule) through points."""
    ring = [_pos(p) for p in points]
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    if len(ring) < 3:
        raise ValueError(f"a polygon needs at least 3 corners, got {len(ring)}")
    twice_area = sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)
    )
    if twice_area < 0:
        ring.reverse()
    return [*ring, ring[0]]


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _point(p: LatLon) -> dict[str, Any]:
    return {"type": "Point", "coordinates": _pos(p)}


def _polygon(points: tuple[LatLon, ...]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [_ring(points)]}


def export_geojson(rally: Rally, lang: str = "en") -> dict[str, Any]:
    """The rally as a GeoJSON FeatureCollection (a dict); names are in lang, titles in all."""
    features = []
    if rally.start is not None:
        start = ROUTES_TEXTS.t("interchange.start", lang)
        features.append(_feature(_point(rally.start), kind=KIND_START, name=start))
    for number, stop in enumerate(rally.stops, 1):
        m = stop.marker
        features.append(
            _feature(
                _point(m.position),
                kind=KIND_STOP,
                number=number,
                marker=m.id,
                name=pick(m.title, lang),
                title=dict(m.title),
                radius_m=m.radius_m,
                venue=m.venue,
            )
        )
        if m.polygon:
            features.append(
                _feature(_polygon(m.polygon), kind=KIND_GEOFENCE, number=number, marker=m.id)
            )
    if rally.finish is not None:
        finish = ROUTES_TEXTS.t("interchange.finish", lang)
        features.append(_feature(_point(rally.finish), kind=KIND_FINISH, name=finish))
    line = rally.waypoints()
    if len(line) >= 2:
        geometry = {"type": "LineString", "coordinates": [_pos(p) for p in line]}
        features.append(_feature(geometry, kind=KIND_ROUTE, name=pick(rally.title, lang)))
    if rally.play_area:
        area = ROUTES_TEXTS.t("interchange.play_area", lang)
        features.append(_feature(_polygon(rally.play_area), kind=KIND_PLAY_AREA, name=area))
    collection: dict[str, Any] = {
        "type": "FeatureCollection",
        "name": pick(rally.title, lang),
        "rally": {
            "id": rally.id,
            "slug": rally.slug,
            "title": dict(rally.title),
            "order_mode": rally.order_mode.value,
        },
        "features": features,
    }
    everything = [*line, *(rally.play_area or ())]
    if everything:
        lons = [round(p[1], 7) for p in everything]
        lats = [round(p[0], 7) for p in everything]
        collection["bbox"] = [min(lons), min(lats), max(lons), max(lats)]
    return collection


def dumps_geojson(rally: Rally, lang: str = "en", indent: int | None = 2) -> str:
    """export_geojson as UTF-8-ready JSON text."""
    return json.dumps(export_geojson(rally, lang), ensure_ascii=False, indent=indent) + "\n"


# --- import -----------------------------------------------------------------------------------


class _Feature:
    """What every imported feature has: its properties, and their "kind" (marker, geofence, ...)."""

    properties: Mapping[str, Any]

    @property
    def kind(self) -> Any:
        return self.properties.get("kind")


@dataclass(frozen=True)
class GeoJsonPoint(_Feature):
    """A Point feature: its position, its properties, and its index in "features"."""

    position: LatLon
    properties: Mapping[str, Any]
    feature: int


@dataclass(frozen=True)
class GeoJsonLine(_Feature):
    """A LineString feature: its positions, properties and index."""

    positions: tuple[LatLon, ...]
    properties: Mapping[str, Any]
    feature: int


@dataclass(frozen=True)
class GeoJsonPolygon(_Feature):
    """A Polygon feature: its outer ring (open: the closing position dropped), holes, index."""

    ring: tuple[LatLon, ...]
    properties: Mapping[str, Any]
    feature: int
    holes: int = 0


@dataclass
class GeoJsonData:
    """What a GeoJSON file holds, by geometry, with the collection's name and "rally" member."""

    name: str = ""
    rally: Mapping[str, Any] = field(default_factory=dict)
    points: list[GeoJsonPoint] = field(default_factory=list)
    lines: list[GeoJsonLine] = field(default_factory=list)
    polygons: list[GeoJsonPolygon] = field(default_factory=list)

    @property
    def stops(self) -> list[GeoJsonPoint]:
        """Every Point that is not a start or finish: in a foreign file, any point may be a stop."""
        return [p for p in self.points if p.kind not in (KIND_START, KIND_FINISH)]

    def _point_of(self, kind: str) -> LatLon | None:
        return next((p.position for p in self.points if p.kind == kind), None)

    @property
    def start(self) -> LatLon | None:
        return self._point_of(KIND_START)

    @property
    def finish(self) -> LatLon | None:
        return self._point_of(KIND_FINISH)

    @property
    def route(self) -> tuple[LatLon, ...] | None:
        """The LineString of kind "route", else the first LineString, else None."""
        line = next((ln for ln in self.lines if ln.kind == KIND_ROUTE), None)
        line = line or next(iter(self.lines), None)
        return line.positions if line else None

    @property
    def play_area(self) -> tuple[LatLon, ...] | None:
        """The outer ring of the Polygon of kind "play_area", else of the first non-geofence one."""
        areas = [p for p in self.polygons if p.kind != KIND_GEOFENCE]
        area = next((p for p in areas if p.kind == KIND_PLAY_AREA), None) or next(iter(areas), None)
        return area.ring if area else None


def _load(data: str | bytes) -> Any:
    check_size(data, GeoJsonError)
    if isinstance(data, bytes):
        try:
            source = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise GeoJsonError("geojson.not_utf8", line=data[: e.start].count(b"\n") + 1) from None
    else:
        source = data
    try:
        return json.loads(source.removeprefix("\ufeff"))
    except json.JSONDecodeError as e:
        raise GeoJsonError(
            "geojson.not_json", line=e.lineno, column=e.colno, reason=e.msg
        ) from None
    except RecursionError:
        raise GeoJsonError("geojson.nested_too_deeply") from None


def _short(value: Any) -> str:
    s = json.dumps(value, ensure_ascii=False, default=repr)
    return s if len(s) <= 60 else s[:57] + "..."


def _features(obj: Any) -> list[Any]:
    """The features of a FeatureCollection, or the one Feature or bare geometry obj is."""
    if not isinstance(obj, dict):
        raise GeoJsonError("geojson.not_an_object", found=_short(obj))
    kind = obj.get("type")
    if kind == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list):
            raise GeoJsonError("geojson.no_features")
        return features
    if kind == "Feature":
        return [obj]
    if kind in _GEOMETRIES or kind in _UNSUPPORTED:
        return [{"type": "Feature", "geometry": obj, "properties": {}}]
    raise GeoJsonError("geojson.unknown_type", type=_short(kind))


class _Reader:
    """Turns features into GeoJsonData, counting positions against MAX_POINTS."""

    def __init__(self) -> None:
        self.data = GeoJsonData()
        self.count = 0

    def position(self, c: Any, index: int, k: int | None = None) -> LatLon:
        """Position c of feature index (the k-th of a line or ring, when k is given)."""
        self.count += 1
        if self.count > MAX_POINTS:
            raise too_many_points(GeoJsonError, feature=index)
        if not isinstance(c, list) or len(c) < 2:
            raise GeoJsonError("geojson.not_a_position", feature=index, position=k, found=_short(c))
        return latlon(c[1], c[0], GeoJsonError, "geojson.lon_lat", feature=index, position=k)

    def positions(self, coords: Any, index: int, minimum: int, what: Text) -> tuple[LatLon, ...]:
        """The positions of a line or ring (what, a language map), at least minimum of them."""
        if not isinstance(coords, list) or len(coords) < minimum:
            n = len(coords) if isinstance(coords, list) else _short(coords)
            raise GeoJsonError(
                "geojson.too_few_positions", feature=index, what=what, minimum=minimum, found=n
            )
        return tuple(self.position(c, index, k) for k, c in enumerate(coords))

    def polygon(self, coords: Any, index: int) -> tuple[LatLon, ...]:
        if not isinstance(coords, list) or not coords:
            raise GeoJsonError("geojson.no_ring", feature=index)
        rings = []
        for r, ring in enumerate(coords):
            name = ROUTES_TEXTS.text_map("geojson.ring", ring=r)
            points = self.positions(ring, index, 4, name)
            if points[0] != points[-1]:
                raise GeoJsonError("geojson.ring_not_closed", feature=index, ring=r)
            rings.append(points[:-1])
        return rings[0]

    def feature(self, f: Any, index: int) -> None:
        if not isinstance(f, dict) or f.get("type") != "Feature":
            found = f.get("type") if isinstance(f, dict) else f
            raise GeoJsonError("geojson.not_a_feature", feature=index, found=_short(found))
        properties = f.get("properties")
        properties = {} if properties is None else properties
        if not isinstance(properties, dict):
            raise GeoJsonError("geojson.bad_properties", feature=index)
        geometry = f.get("geometry")
        if geometry is None:
            raise GeoJsonError("geojson.no_geometry", feature=index)
        if not isinstance(geometry, dict):
            raise GeoJsonError("geojson.bad_geometry", feature=index, found=_short(geometry))
        kind, coords = geometry.get("type"), cast(Any, geometry.get("coordinates"))
        if kind == "Point":
            self.data.points.append(GeoJsonPoint(self.position(coords, index), properties, index))
        elif kind == "LineString":
            line = self.positions(coords, index, 2, ROUTES_TEXTS.text_map("geojson.line"))
            self.data.lines.append(GeoJsonLine(line, properties, index))
        elif kind == "Polygon":
            ring = self.polygon(coords, index)
            polygon = GeoJsonPolygon(ring, properties, index, holes=len(coords) - 1)
            self.data.polygons.append(polygon)
        elif kind in _UNSUPPORTED:
            raise GeoJsonError("geojson.unsupported_geometry", feature=index, type=kind)
        else:
            raise GeoJsonError("geojson.unknown_geometry", feature=index, type=_short(kind))


def parse_geojson(data: str | bytes | Mapping[str, Any]) -> GeoJsonData:
    """Read GeoJSON text, bytes or an already decoded object; raise GeoJsonError if it is bad."""
    obj = dict(data) if isinstance(data, Mapping) else _load(data)
    reader = _Reader()
    for index, f in enumerate(_features(obj)):
        reader.feature(f, index)
    name, rally = obj.get("name"), obj.get("rally")
    reader.data.name = name if isinstance(name, str) else ""
    reader.data.rally = rally if isinstance(rally, dict) else {}
    return reader.data


# --- to a rally -------------------------------------------------------------------------------


def _title(value: Any, fallback: Any, lang: str, feature: int | None = None) -> Text:
    """A Text from {"de": ..., "en": ..., "de-x-ls"?: ...}, else from the plain string fallback
    (in lang)."""
    if isinstance(value, dict):
        if not all(isinstance(v, str) for v in value.values()):
            raise GeoJsonError("geojson.title_not_texts", example=_TITLE_EXAMPLE, feature=feature)
        return text(value.get("de", ""), value.get("en", ""), value.get(EASY_GERMAN, ""))
    if value is not None and not isinstance(value, str):
        raise GeoJsonError("geojson.title_not_text", found=_short(value), feature=feature)
    name = value or (fallback if isinstance(fallback, str) else "")
    return text(**{lang: name}) if lang in LANGUAGES else text(en=name)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _marker(
    point: GeoJsonPoint, marker_id: int, lang: str, polygon: tuple[LatLon, ...] | None
) -> Marker:
    props, feature = point.properties, point.feature
    radius = props.get("radius_m", 25.0)
    if not (_number(radius) and math.isfinite(radius) and radius > 0):
        raise GeoJsonError("geojson.bad_radius", found=_short(radius), feature=feature)
    venue = props.get("venue")
    if venue is not None and not isinstance(venue, str):
        raise GeoJsonError("geojson.venue_not_text", found=_short(venue), feature=feature)
    return Marker(
        id=marker_id,
        position=point.position,
        radius_m=float(radius),
        title=_title(props.get("title"), props.get("name"), lang, feature),
        polygon=polygon,
        venue=venue,
    )


def rally_from_geojson(
    data: str | bytes | Mapping[str, Any] | GeoJsonData, lang: str = "en"
) -> Rally:
    """A Rally from an exported (or foreign) GeoJSON file: stops by "number", else file order.

    Marker ids come from "marker" when every stop has a distinct one, else 1, 2, ... (the server
    assigns its own on import). Plain-string names become titles in lang.
    """
    g = data if isinstance(data, GeoJsonData) else parse_geojson(data)
    points = g.stops
    if all(_number(p.properties.get("number")) for p in points):
        points = sorted(points, key=lambda p: p.properties["number"])
    ids: list[Any] = [p.properties.get("marker") for p in points]
    if not all(_int(i) for i in ids) or len(set(ids)) < len(ids):
        ids = list(range(1, len(points) + 1))
    fences = {
        p.properties["marker"]: p.ring
        for p in g.polygons
        if p.kind == KIND_GEOFENCE and _int(p.properties.get("marker"))
    }
    stops = tuple(
        Stop(_marker(p, i, lang, fences.get(p.properties.get("marker"))))
        for p, i in zip(points, ids, strict=True)
    )
    meta = g.rally
    mode = meta.get("order_mode", OrderMode.FIXED.value)
    if mode not in {m.value for m in OrderMode}:
        raise GeoJsonError("geojson.unknown_order_mode", mode=_short(mode))
    rally_id, slug = meta.get("id"), meta.get("slug")
    return Rally(
        id=rally_id if _int(rally_id) else 0,
        slug=slug if isinstance(slug, str) else "",
        title=_title(meta.get("title"), g.name, lang),
        stops=stops,
        order_mode=OrderMode(mode),
        start=g.start,
        finish=g.finish,
        play_area=g.play_area,
    )
