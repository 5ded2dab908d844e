"""GPX export validates against the GPX 1.1 XSD, round-trips, and bad files give a clear error."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from markers.geo import LatLon
from routes.errors import MAX_FILE_BYTES, MAX_POINTS, InterchangeError
from routes.gpx import (
    GPX10,
    GPX11,
    GpxError,
    GpxWaypoint,
    candidate_stops,
    export_gpx,
    export_track,
    parse_gpx,
)
from routes.model import Stop, text
from tests.conftest import SCHEMAS
from tests.routes.helpers import KL_STOPS, make_marker, make_rally, venue

DATA_DIR = Path(__file__).parent / "data"


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "gpx-1.1.xsd")))


def assert_valid(xml: str) -> None:
    schema = _schema()
    doc = etree.fromstring(xml.encode("utf-8"))
    assert schema.validate(doc), str(schema.error_log)


def kl_rally(**fields):
    return make_rally(
        KL_STOPS,
        start="Hauptbahnhof",
        finish="Fruchthalle",
        title=text(de="Art Caching Kaiserslautern: Kunst & Kultur", en="Art Caching <KL> & more"),
        **fields,
    )


def gpx(body: str, ns: str = GPX11) -> str:
    """A GPX document: the declaration on line 1, <gpx> on line 2, body from line 3 on."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" xmlns="{ns}">\n{body}\n</gpx>'
    )


# --- export -----------------------------------------------------------------------------------


def test_kaiserslautern_rally_validates_against_the_xsd():
    rally = kl_rally()
    xml = export_gpx(rally, time=datetime(2024, 9, 14, 18, 0, tzinfo=UTC))
    assert_valid(xml)
    assert_valid(export_gpx(rally, lang="de"))


def test_export_has_a_waypoint_per_stop_start_and_finish_and_the_route():
    rally = kl_rally()
    data = parse_gpx(export_gpx(rally))
    assert data.name == "Art Caching <KL> & more"
    assert [w.kind for w in data.waypoints] == ["start", *["stop"] * len(KL_STOPS), "finish"]
    assert data.waypoints[1].name == "1. Fruchthalle"
    assert data.waypoints[1].description == "Fruchthalle"
    assert data.waypoints[0].position == venue("Hauptbahnhof")
    assert [p.position for p in data.routes[0]] == rally.waypoints()
    assert data.tracks == []


def test_export_keeps_clues_stories_and_solution_letters_out():
    rally = kl_rally(solution_word="QUADRATX")
    xml = export_gpx(rally)
    for stop in rally.stops:
        assert stop.marker.story["en"] not in xml
        assert stop.marker.clue["en"] not in xml
    assert "QUADRATX" not in xml


def test_export_in_german_names_the_finish_ziel():
    data = parse_gpx(export_gpx(kl_rally(), lang="de"))
    assert data.name == "Art Caching Kaiserslautern: Kunst & Kultur"
    assert data.waypoints[-1].name == "Ziel"


def test_empty_rally_still_validates():
    rally = make_rally([])
    xml = export_gpx(rally)
    assert_valid(xml)
    assert parse_gpx(xml).routes == []


def test_longitude_180_and_control_characters_still_validate():
    marker = make_marker(1, (10.0, 180.0), title=text(en="bell\x07 \x00here\r\nnow"))
    xml = export_gpx(make_rally([marker]))
    assert_valid(xml)
    w = parse_gpx(xml).waypoints[0]
    assert w.position == LatLon(10.0, -180.0)
    assert w.name == "1. bell here\nnow"


def test_exported_track_validates_and_keeps_its_times():
    tz = timezone(timedelta(hours=2))
    t0 = datetime(2024, 9, 14, 20, 0, tzinfo=tz)
    points = [
        (venue("Hauptbahnhof"), t0),
        (venue("Fruchthalle"), t0 + timedelta(minutes=12, microseconds=250_000)),
        (venue("Stiftskirche"), None),
        (venue("Pfalztheater"), datetime(2024, 9, 14, 18, 30)),  # naive: taken as UTC
    ]
    xml = export_track(points, name="Walk & talk")
    assert_valid(xml)
    [track] = parse_gpx(xml).tracks
    assert [p.position for p in track] == [p for p, _ in points]
    assert [p.time for p in track] == [
        t0,
        t0 + timedelta(minutes=12, microseconds=250_000),
        None,
        datetime(2024, 9, 14, 18, 30, tzinfo=UTC),
    ]
    assert track[0].time.tzinfo == UTC
    assert track[0].line == 6  # declaration, <gpx>, <trk>, <name>, <trkseg>, <trkpt>


names = st.one_of(
    st.sampled_from(["Fackelbrunnen", "Schöne Aussicht & Café", '<"Zwiebel">', "1. FC", "Ärger's"]),
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn")), max_size=30),
).filter(lambda s: s == s.strip())
positions = st.builds(
    LatLon,
    st.floats(-90, 90, allow_nan=False),
    st.floats(-180, 180, allow_nan=False, exclude_max=True),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(positions, names), min_size=1, max_size=6))
def test_round_trip_keeps_positions_and_names(stops):
    markers = [
        make_marker(i, p, title=text(de=name, en=name)) for i, (p, name) in enumerate(stops, 1)
    ]
    xml = export_gpx(make_rally([Stop(m) for m in markers]))
    found = candidate_stops(parse_gpx(xml))
    assert [name for _, name in found] == [name for _, name in stops]
    for (got, _), (want, _) in zip(found, stops, strict=True):
        assert abs(got.lat - want.lat) <= 1e-7
        assert abs((got.lon - want.lon + 180) % 360 - 180) <= 1e-7  # 180 is written as -180


# --- import -----------------------------------------------------------------------------------


def test_gpx_1_0_input():
    data = parse_gpx((DATA_DIR / "walk-1.0.gpx").read_bytes())
    assert data.name == "Kaiserslautern 1.0"
    assert [(w.name, w.description) for w in data.waypoints] == [
        ("Fruchthalle", "Konzerthaus"),
        ("Stiftskirche", ""),
    ]
    assert candidate_stops(data) == [
        (LatLon(49.445667, 7.770361), "Fruchthalle"),
        (LatLon(49.444444, 7.770833), "Stiftskirche"),
    ]
    assert len(data.routes) == 1 and len(data.routes[0]) == 2
    [track] = data.tracks
    assert len(track) == 3  # two segments, joined
    assert track[0].time == datetime(2024, 9, 14, 18, 0, 0, tzinfo=UTC)
    assert track[1].time == datetime(2024, 9, 14, 18, 0, 5, 123456, tzinfo=UTC)
    assert track[2].time == datetime(2024, 9, 14, 16, 0, 10, tzinfo=UTC)  # +02:00 in the file


def test_namespace_less_input_and_foreign_extensions():
    xml = (
        '<gpx version="1.1" xmlns:x="urn:x">\n'
        '<wpt lat="49.4" lon="7.7"><name> A </name>'
        '<extensions><x:wpt lat="999"/><x:name>ignored</x:name></extensions></wpt>\n'
        "</gpx>"
    )
    data = parse_gpx(xml)
    assert data.waypoints == [GpxWaypoint(LatLon(49.4, 7.7), "A", "", 2, "")]


def test_declared_encoding_is_honoured_for_bytes_and_ignored_for_text():
    body = f'<gpx xmlns="{GPX10}"><wpt lat="1" lon="2"><name>Köln</name></wpt></gpx>'
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?>' + body
    assert parse_gpx(latin.encode("latin-1")).waypoints[0].name == "Köln"
    assert parse_gpx(latin).waypoints[0].name == "Köln"


def test_candidate_stops_leave_out_start_and_finish_and_strip_one_number():
    marker = make_marker(1, "Fruchthalle", title=text(en="1. FC Kaiserslautern"))
    rally = make_rally([marker], start="Hauptbahnhof", finish="Rathaus")
    assert candidate_stops(parse_gpx(export_gpx(rally))) == [
        (venue("Fruchthalle"), "1. FC Kaiserslautern")
    ]


BOMB = """<?xml version="1.0"?>
<!DOCTYPE gpx [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><metadata><name>&c;</name></metadata></gpx>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<gpx version="1.1"><wpt lat="1" lon="2"><name>&xxe;</name></wpt></gpx>
"""

BAD = {
    "not xml": ("just some text\n", 1, "not well-formed XML (column 1: syntax error)"),
    "mismatched tag": (
        gpx('<wpt lat="1" lon="2">\n<name>x</nam>\n</wpt>'),
        4,
        "not well-formed XML (column 10: mismatched tag)",
    ),
    "entity bomb": (BOMB, 2, "DOCTYPE and ENTITY declarations are not allowed"),
    "xxe": (XXE, 2, "DOCTYPE and ENTITY declarations are not allowed"),
    "undeclared entity": (
        gpx('<wpt lat="1" lon="2"><name>&xxe;</name></wpt>'),
        3,
        "undefined entity",
    ),
    "lat 91.5": (gpx('<wpt lat="91.5" lon="7.7"/>'), 3, "latitude 91.5 out of range (-90..90)"),
    "lat 91": (gpx('\n<wpt lat="91" lon="7.7"/>'), 4, "latitude 91 out of range (-90..90)"),
    "lon 180.5": (
        gpx('<rte><rtept lat="49" lon="180.5"/></rte>'),
        3,
        "longitude 180.5 out of range (-180..180)",
    ),
    "lon abc": (gpx('<wpt lat="49.4" lon="abc"/>'), 3, "longitude 'abc' is not a number"),
    "lat nan": (gpx('<wpt lat="nan" lon="7"/>'), 3, "latitude 'nan' is not a number"),
    "missing lat": (
        gpx('<trk><trkseg>\n<trkpt lon="7.7"/></trkseg></trk>'),
        4,
        "<trkpt> has no lat attribute",
    ),
    "bad time": (
        gpx('<trk><trkseg><trkpt lat="1" lon="2">\n<time>yesterday</time></trkpt></trkseg></trk>'),
        4,
        "time 'yesterday' is not an ISO 8601 date and time",
    ),
    "impossible time": (
        gpx(
            '<trk><trkseg><trkpt lat="1" lon="2"><time>2024-02-30T10:00:00Z</time>'
            "</trkpt></trkseg></trk>"
        ),
        3,
        "time '2024-02-30T10:00:00Z' is not an ISO 8601",
    ),
    "wrong root": (
        '<?xml version="1.0"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"/>',
        2,
        "the root element is <kml>, expected <gpx>",
    ),
    "unknown namespace": (
        gpx("", ns="http://example.org/gpx"),
        2,
        "unknown GPX namespace 'http://example.org/gpx'",
    ),
    "not utf-8": (
        gpx('<wpt lat="1" lon="2">\n<name>K\udcf6ln</name></wpt>'),
        4,
        "not well-formed XML",
    ),
}


@pytest.mark.parametrize(("data", "line", "message"), BAD.values(), ids=BAD.keys())
def test_bad_file_error_names_the_line(data, line, message):
    with pytest.raises(GpxError) as err:
        parse_gpx(data)
    assert err.value.line == line
    assert str(err.value).startswith(f"line {line}: ")
    assert message in str(err.value)
    assert err.value.message("de").startswith(f"Zeile {line}: ")
    assert err.value.text["en"] == str(err.value)


def test_bad_file_as_bytes_names_the_line():
    with pytest.raises(GpxError, match=r"^line 4: not well-formed XML \(column 8: not well-formed"):
        parse_gpx(gpx('<wpt lat="1" lon="2">\n<name>K\xf6ln</name></wpt>').encode("latin-1"))


@pytest.mark.parametrize("data", ["", "  \n", b"", b"\n\t "])
def test_empty_file(data):
    with pytest.raises(GpxError, match=r"^the file is empty$") as err:
        parse_gpx(data)
    assert err.value.message("de") == "die Datei ist leer"


def test_oversize_file():
    data = b" " * (MAX_FILE_BYTES + 1)
    with pytest.raises(GpxError, match=r"^the file is 10\.0 MB, more than the limit of 10 MB$"):
        parse_gpx(data)


def test_too_many_points():
    points = "\n".join('<wpt lat="49.4" lon="7.7"/>' for _ in range(MAX_POINTS + 1))
    with pytest.raises(GpxError, match=rf"^line {MAX_POINTS + 3}: more than {MAX_POINTS} points"):
        parse_gpx(gpx(points))


def test_gpx_error_is_an_interchange_error_and_a_value_error():
    with pytest.raises(InterchangeError):
        parse_gpx("<gpx")
    assert issubclass(GpxError, ValueError)
