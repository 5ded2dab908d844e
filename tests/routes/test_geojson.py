"""GeoJSON export validates against the FeatureCollection schema, round-trips, and bad files
give a clear error naming the feature or line."""

from __future__ import annotations

import functools
import itertools
import json

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.geo import LatLon
from routes.errors import MAX_FILE_BYTES, MAX_POINTS, InterchangeError
from routes.geojson import (
    GeoJsonError,
    dumps_geojson,
    export_geojson,
    parse_geojson,
    rally_from_geojson,
)
from routes.model import OrderMode, text
from tests.conftest import SCHEMAS
from tests.routes.helpers import KL_STOPS, make_marker, make_rally, venue

# Counter-clockwise in (lon, lat): south-west, south-east, north-east, north-west.
PLAY_AREA = [(49.433, 7.750), (49.433, 7.785), (49.450, 7.785), (49.450, 7.750)]
FOUNTAIN_SQUARE = (
    LatLon(49.4452, 7.7679),
    LatLon(49.4452, 7.7681),
    LatLon(49.4454, 7.7681),
    LatLon(49.4454, 7.7679),
)


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / "geojson-FeatureCollection.schema.json").read_text("utf-8"))
    return jsonschema.Draft7Validator(schema)


def assert_valid(collection: dict) -> None:
    errors = [e.message for e in _validator().iter_errors(collection)]
    assert not errors


def kl_rally(**fields):
    stops = [make_marker(i, name) for i, name in enumerate(KL_STOPS, 11)]
    stops[3] = make_marker(
        14,
        "Fackelbrunnen",
        radius=15.0,
        polygon=FOUNTAIN_SQUARE,
        title=text(de="Brunnen & Fackel", en='The "torch" fountain'),
    )
    return make_rally(
        stops,
        start="Hauptbahnhof",
        finish="Fruchthalle",
        play_area=PLAY_AREA,
        order_mode=OrderMode.FREE,
        slug="kl-2024",
        id=7,
        title=text(de="Art Caching Kaiserslautern: Kunst & Kultur", en="Art Caching <KL>"),
        **fields,
    )


def features(collection, kind):
    return [f for f in collection["features"] if f["properties"]["kind"] == kind]


# --- export -----------------------------------------------------------------------------------


def test_kaiserslautern_rally_validates_against_the_schema():
    collection = export_geojson(kl_rally())
    assert_valid(collection)
    assert_valid(json.loads(dumps_geojson(kl_rally(), lang="de")))


def test_export_features_and_their_properties():
    rally = kl_rally()
    c = export_geojson(rally)
    assert [f["properties"]["kind"] for f in c["features"]] == [
        "start",
        *["stop"] * 3,
        "stop",
        "geofence",
        *["stop"] * 4,
        "finish",
        "route",
        "play_area",
    ]
    fountain = features(c, "stop")[3]
    assert fountain["properties"] == {
        "kind": "stop",
        "number": 4,
        "marker": 14,
        "name": 'The "torch" fountain',
        "title": {"de": "Brunnen & Fackel", "en": 'The "torch" fountain'},
        "radius_m": 15.0,
        "venue": "Fackelbrunnen (Fackelwoog fountain)",
    }
    hbf = venue("Hauptbahnhof")
    assert features(c, "start")[0]["geometry"]["coordinates"] == [hbf.lon, hbf.lat]
    route = features(c, "route")[0]["geometry"]["coordinates"]
    assert route == [[p.lon, p.lat] for p in rally.waypoints()]
    assert c["rally"] == {
        "id": 7,
        "slug": "kl-2024",
        "title": {"de": "Art Caching Kaiserslautern: Kunst & Kultur", "en": "Art Caching <KL>"},
        "order_mode": "free",
    }
    assert c["bbox"] == [7.75, 49.433, 7.785, 49.45]
    assert features(export_geojson(rally, lang="de"), "finish")[0]["properties"]["name"] == "Ziel"


def test_export_keeps_clues_stories_and_solution_letters_out():
    rally = kl_rally(solution_word="KUNSTWEG")
    dumped = dumps_geojson(rally)
    for stop in rally.stops:
        for lang in ("de", "en"):
            assert stop.marker.story[lang] not in dumped
            assert stop.marker.clue[lang] not in dumped
    assert "KUNSTWEG" not in dumped


def test_coordinates_are_rounded_to_seven_decimals():
    rally = make_rally([(49.123456789, 7.987654321)])
    [stop] = features(export_geojson(rally), "stop")
    assert stop["geometry"]["coordinates"] == [7.9876543, 49.1234568]


@pytest.mark.parametrize("closed", [False, True])
@pytest.mark.parametrize("clockwise", [False, True])
def test_polygons_are_closed_and_counter_clockwise(closed, clockwise):
    area = list(reversed(PLAY_AREA)) if clockwise else list(PLAY_AREA)
    if closed:
        area.append(area[0])
    c = export_geojson(make_rally(["Fruchthalle"], play_area=area))
    [ring] = features(c, "play_area")[0]["geometry"]["coordinates"]
    assert len(ring) == 5 and ring[0] == ring[-1]
    twice_area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))
    assert twice_area > 0
    assert_valid(c)


def test_play_area_with_two_corners_is_refused():
    with pytest.raises(ValueError, match="at least 3 corners, got 2"):
        export_geojson(make_rally(["Fruchthalle"], play_area=PLAY_AREA[:2]))


def test_empty_rally_validates():
    c = export_geojson(make_rally([]))
    assert c["features"] == [] and "bbox" not in c
    assert_valid(c)


# --- round trips ------------------------------------------------------------------------------


def test_round_trip_rebuilds_the_rally():
    rally = kl_rally()
    back = rally_from_geojson(dumps_geojson(rally).encode("utf-8"))
    assert (back.id, back.slug, back.title, back.order_mode) == (
        rally.id,
        rally.slug,
        rally.title,
        rally.order_mode,
    )
    assert (back.start, back.finish, back.play_area) == (
        rally.start,
        rally.finish,
        rally.play_area,
    )
    for got, want in zip(back.markers, rally.markers, strict=True):
        assert (got.id, got.position, got.title, got.radius_m, got.venue, got.polygon) == (
            want.id,
            want.position,
            want.title,
            want.radius_m,
            want.venue,
            want.polygon,
        )
    assert parse_geojson(export_geojson(rally)).route == tuple(rally.waypoints())


def test_stops_are_ordered_by_number_not_by_file_order():
    c = export_geojson(kl_rally())
    c["features"].reverse()
    assert rally_from_geojson(c).markers == rally_from_geojson(export_geojson(kl_rally())).markers


titles = st.one_of(
    st.sampled_from(["Fackelbrunnen", "Schöne Aussicht & Café", '<"Zwiebel">', "Ärger's\n"]),
    st.text(max_size=30),
)
positions = st.builds(
    LatLon, st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(positions, titles, titles), min_size=1, max_size=6))
def test_round_trip_keeps_positions_and_titles(stops):
    markers = [
        make_marker(i, p, title=text(de=de, en=en)) for i, (p, de, en) in enumerate(stops, 1)
    ]
    back = rally_from_geojson(dumps_geojson(make_rally(markers)).encode("utf-8"))
    assert [m.title for m in back.markers] == [m.title for m in markers]
    for got, want in zip(back.markers, markers, strict=True):
        assert abs(got.position.lat - want.position.lat) <= 1e-7
        assert abs(got.position.lon - want.position.lon) <= 1e-7


# --- foreign input ----------------------------------------------------------------------------


def test_single_feature_and_bare_geometry():
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [7.770361, 49.445667, 235.0]},
        "properties": None,
    }
    [point] = parse_geojson(feature).stops
    assert (point.position, point.feature, dict(point.properties)) == (
        LatLon(49.445667, 7.770361),
        0,
        {},
    )
    line = parse_geojson('{"type": "LineString", "coordinates": [[7.7, 49.4], [7.8, 49.5]]}')
    assert line.route == (LatLon(49.4, 7.7), LatLon(49.5, 7.8))
    assert line.stops == []


def test_foreign_collection_becomes_a_rally():
    collection = {
        "type": "FeatureCollection",
        "name": "Brunnen in Kaiserslautern",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Kaiserbrunnen"},
                "geometry": {"type": "Point", "coordinates": [7.776528, 49.448278]},
            },
            {
                "type": "Feature",
                "properties": {"name": "Altenwoogbrunnen", "marker": 3},
                "geometry": {"type": "Point", "coordinates": [7.779167, 49.443056]},
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[7.75, 49.43], [7.79, 49.43], [7.79, 49.45], [7.75, 49.43]],
                        [[7.76, 49.435], [7.77, 49.435], [7.77, 49.44], [7.76, 49.435]],
                    ],
                },
            },
        ],
    }
    data = parse_geojson(collection)
    assert data.polygons[0].holes == 1
    rally = rally_from_geojson(data, lang="de")
    assert rally.title == text(de="Brunnen in Kaiserslautern")
    assert [(m.id, m.title, m.radius_m) for m in rally.markers] == [
        (1, text(de="Kaiserbrunnen"), 25.0),
        (2, text(de="Altenwoogbrunnen"), 25.0),
    ]
    assert rally.play_area == (LatLon(49.43, 7.75), LatLon(49.43, 7.79), LatLon(49.45, 7.79))
    assert rally.order_mode is OrderMode.FIXED and rally.start is None


# --- errors -----------------------------------------------------------------------------------


def collection(*geometries, properties=None):
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": properties or {}, "geometry": g}
                for g in geometries
            ],
        }
    )


OK = {"type": "Point", "coordinates": [7.77, 49.44]}

BAD_FEATURES = {
    "no geometry": (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}}]}',
        0,
        "the feature has no geometry",
    ),
    "null geometry": (collection(OK, None), 1, "the feature has no geometry"),
    "geometry not an object": (
        collection(OK, "Point"),
        1,
        'geometry must be an object, got "Point"',
    ),
    "not a feature": (
        '{"type": "FeatureCollection", "features": [{"type": "Point", "coordinates": [7, 49]}]}',
        0,
        'not a Feature (found "Point")',
    ),
    "swapped order": (
        collection(OK, OK, {"type": "Point", "coordinates": [49.44, 107.77]}),
        2,
        "latitude 107.77 out of range (-90..90); GeoJSON positions are [longitude, latitude]",
    ),
    "longitude out of range": (
        collection({"type": "Point", "coordinates": [187.7, 49.4]}),
        0,
        "longitude 187.7 out of range (-180..180)",
    ),
    "one number": (
        collection({"type": "Point", "coordinates": [7.77]}),
        0,
        "coordinates must be [lon, lat], got [7.77]",
    ),
    "coordinates a string": (
        collection({"type": "Point", "coordinates": "7.77, 49.44"}),
        0,
        'coordinates must be [lon, lat], got "7.77, 49.44"',
    ),
    "no coordinates": (
        collection({"type": "Point"}),
        0,
        "coordinates must be [lon, lat], got null",
    ),
    "latitude a string": (
        collection({"type": "LineString", "coordinates": [[7.7, 49.4], [7.8, "49.5"]]}),
        0,
        "position 1: latitude '49.5' is not a number",
    ),
    "line with one point": (
        collection(OK, {"type": "LineString", "coordinates": [[7.7, 49.4]]}),
        1,
        "a LineString needs at least 2 positions, got 1",
    ),
    "unknown geometry": (
        collection({"type": "Circle", "coordinates": [7.7, 49.4], "radius": 20}),
        0,
        'unknown geometry type "Circle" (expected Point, LineString, Polygon)',
    ),
    "multipoint": (
        collection({"type": "MultiPoint", "coordinates": [[7.7, 49.4]]}),
        0,
        "geometry type MultiPoint is not supported",
    ),
    "open ring": (
        collection({"type": "Polygon", "coordinates": [[[7, 49], [8, 49], [8, 50], [7, 50]]]}),
        0,
        "ring 0 of the Polygon is not closed",
    ),
    "short ring": (
        collection({"type": "Polygon", "coordinates": [[[7, 49], [8, 49], [7, 49]]]}),
        0,
        "ring 0 of the Polygon needs at least 4 positions, got 3",
    ),
    "polygon without rings": (
        collection({"type": "Polygon", "coordinates": []}),
        0,
        "a Polygon needs at least one ring",
    ),
    "properties a list": (
        collection(OK, properties=["a"]),
        0,
        "properties must be an object or null",
    ),
}


@pytest.mark.parametrize(("data", "feature", "message"), BAD_FEATURES.values(), ids=BAD_FEATURES)
def test_bad_feature_error_names_the_feature(data, feature, message):
    with pytest.raises(GeoJsonError) as err:
        parse_geojson(data)
    assert err.value.feature == feature and err.value.line is None
    assert str(err.value).startswith(f"feature {feature}: {message}")
    assert err.value.message("de").startswith(f"Feature {feature}: ")


BAD_PROPERTIES = {
    "negative radius": ({"radius_m": -5}, "radius_m must be a positive number of metres, got -5"),
    "radius a string": (
        {"radius_m": "20"},
        'radius_m must be a positive number of metres, got "20"',
    ),
    "title a number": ({"title": 12}, "title must be a text, got 12"),
    "title with a list": ({"title": {"de": ["x"]}}, "title must be an object of texts"),
    "venue an object": ({"venue": {"x": 1}}, 'venue must be a text, got {"x": 1}'),
}


@pytest.mark.parametrize(("properties", "message"), BAD_PROPERTIES.values(), ids=BAD_PROPERTIES)
def test_bad_stop_properties_name_the_feature(properties, message):
    with pytest.raises(GeoJsonError) as err:
        rally_from_geojson(collection(OK, OK, properties=properties))
    assert str(err.value).startswith(f"feature 0: {message}")


BAD_FILES = {
    "not json": ('{\n  "type": "FeatureCollection",\n  "features": [,]\n}', 3, "not valid JSON"),
    "trailing comma": ('{"type": "Feature",\n\n}', 3, "not valid JSON (column 1)"),
    "not utf-8": (
        b'{"type":\n"Feature", "properties": {"name": "K\xf6ln"}}',
        2,
        "the file is not UTF-8 encoded",
    ),
}


@pytest.mark.parametrize(("data", "line", "message"), BAD_FILES.values(), ids=BAD_FILES)
def test_bad_json_error_names_the_line(data, line, message):
    with pytest.raises(GeoJsonError) as err:
        parse_geojson(data)
    assert err.value.line == line
    assert str(err.value).startswith(f"line {line}: {message}")
    assert err.value.message("de").startswith(f"Zeile {line}: ")


BAD_DOCUMENTS = {
    "array": ("[1, 2]", "expected a GeoJSON object, got [1, 2]"),
    "topology": (
        '{"type": "Topology"}',
        'not a FeatureCollection, a Feature or a geometry (type "Topology")',
    ),
    "no type": ('{"features": []}', "not a FeatureCollection, a Feature or a geometry (type null)"),
    "features not a list": (
        '{"type": "FeatureCollection", "features": {}}',
        'the FeatureCollection has no "features" list',
    ),
    "empty": ("  \n", "the file is empty"),
    "empty bytes": (b"", "the file is empty"),
    "nested too deeply": ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
}


@pytest.mark.parametrize(("data", "message"), BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS)
def test_bad_document(data, message):
    with pytest.raises(GeoJsonError) as err:
        parse_geojson(data)
    assert str(err.value) == message
    assert isinstance(err.value, InterchangeError)


def test_unknown_order_mode():
    c = export_geojson(kl_rally())
    c["rally"]["order_mode"] = "random"
    with pytest.raises(GeoJsonError, match=r'^rally.order_mode "random" is unknown'):
        rally_from_geojson(c)


def test_oversize_file():
    with pytest.raises(GeoJsonError, match=r"^the file is 10\.0 MB, more than the limit of 10 MB"):
        parse_geojson(" " * (MAX_FILE_BYTES + 1))


def test_too_many_points():
    line = {"type": "LineString", "coordinates": [[7.7, 49.4]] * (MAX_POINTS + 1)}
    with pytest.raises(GeoJsonError, match=rf"^feature 1: more than {MAX_POINTS} points"):
        parse_geojson(collection(OK, line))
