"""The Kaiserslautern demo rally: a good walk, true to its venues, in German and English."""

from __future__ import annotations

import re
from itertools import combinations, pairwise

import pytest

from markers.geo import centroid, distance_m
from markers.geofence import Geofence
from markers.i18n import LANGUAGES
from routes.geometry import summarize
from routes.rallyfile import DEMO_RALLY_PATH, demo_rally, load_venues, read_rally_file
from routes.validate import Severity, validate

RALLY = demo_rally()
VENUES = {v.name: v for v in load_venues()}
START_VENUES = ("Kaiserslautern Hauptbahnhof (rally start)", "Fruchthalle")

GENERIC_WORDS = {"kaiserslautern", "building", "former", "closed", "geschlossen"}
"""Words of venue names and titles that describe rather than name a venue."""

SENTENCE_END = re.compile(r"(?<!\b\d)(?<!\b\d\d)[.!?](?=\s|$)")
"""A full stop, but not the one of a German date such as "17. Juli"."""

LEG_IN_CLUE = re.compile(r"\b(?:rund|etwa|gut|about|good) (\d+) (?:Meter|metres)\b", re.I)


def test_has_eight_to_ten_stops_and_one_solution_letter_each():
    assert 8 <= len(RALLY.stops) <= 10
    word = RALLY.solution_word
    assert word is not None and re.fullmatch(r"[A-Z]+", word)
    assert len(word) == len(RALLY.stops)
    assert "".join(RALLY.letter(i) for i in range(len(RALLY.stops))) == word


def test_starts_at_the_station_or_the_fruchthalle():
    assert RALLY.start is not None
    assert min(distance_m(RALLY.start, VENUES[n].position) for n in START_VENUES) <= 50.0


def test_takes_about_ninety_minutes_walking_and_stopping():
    summary = summarize(RALLY)
    assert 75 * 60 <= summary.duration_s <= 105 * 60
    assert summary.dwell_s == RALLY.dwell_s * len(RALLY.stops)
    assert len(summary.legs) == len(RALLY.stops)
    assert max(summary.legs) < 1000.0


def test_every_marker_sits_on_its_venue_and_keeps_its_source():
    rally_file = read_rally_file(DEMO_RALLY_PATH)
    for marker in RALLY.markers:
        venue = VENUES[marker.venue]
        assert marker.position == venue.position, marker.venue
        assert rally_file.sources[marker.id] == venue.source
    assert len({m.venue for m in RALLY.markers}) == len(RALLY.markers)
    assert not any("Pfalzgalerie" in m.venue for m in RALLY.markers)


def test_every_text_exists_in_german_and_english():
    for lang in LANGUAGES:
        assert RALLY.title[lang].strip() and RALLY.intro[lang].strip()
        for stop in RALLY.stops:
            for value in (stop.marker.title, stop.effective_clue, stop.marker.story):
                assert value[lang].strip(), (stop.marker.venue, lang)
    for stop in RALLY.stops:
        for lang in LANGUAGES:
            sentences = len(SENTENCE_END.findall(stop.marker.story[lang]))
            assert 2 <= sentences <= 4, (stop.marker.venue, lang, sentences)


def distinctive_words(*names: str) -> set[str]:
    words = {w.lower() for n in names for w in re.findall(r"[^\W\d_]+", n) if len(w) >= 4}
    return words - GENERIC_WORDS


@pytest.mark.parametrize("stop", RALLY.stops, ids=lambda s: s.marker.venue)
def test_a_clue_does_not_name_its_venue(stop):
    m = stop.marker
    forbidden = distinctive_words(m.venue, *m.title.values())
    assert forbidden
    for lang in LANGUAGES:
        clue = stop.effective_clue[lang].lower()
        assert not [w for w in forbidden if w in clue], (lang, clue)


def test_each_clue_gives_the_distance_of_its_leg():
    legs = summarize(RALLY).legs
    for stop, leg in zip(RALLY.stops, legs, strict=True):
        said = {
            lang: [int(n) for n in LEG_IN_CLUE.findall(stop.effective_clue[lang])]
            for lang in LANGUAGES
        }
        assert said["de"] == said["en"] and len(said["de"]) == 1, (stop.marker.venue, said)
        assert said["de"][0] == pytest.approx(leg, rel=0.15), stop.marker.venue


def test_geofences_neither_overlap_nor_crowd():
    for a, b in combinations(RALLY.markers, 2):
        gap = distance_m(a.position, b.position)
        assert gap >= 40.0 and gap > a.radius_m + b.radius_m, (a.venue, b.venue, gap)
    assert all(20.0 <= m.radius_m <= 35.0 for m in RALLY.markers)


def test_the_walk_does_not_double_back_on_itself():
    points = RALLY.waypoints()
    for (a, b), (c, d) in combinations(pairwise(points), 2):
        if b != c:
            assert not _crosses(a, b, c, d), (a, b, c, d)


def _crosses(a, b, c, d) -> bool:
    def side(p, q, r) -> float:
        return (q[1] - p[1]) * (r[0] - p[0]) - (q[0] - p[0]) * (r[1] - p[1])

    return side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0


def test_everything_lies_in_the_play_area():
    assert RALLY.play_area is not None
    area = Geofence(centroid(list(RALLY.play_area)), 1.0, RALLY.play_area)
    for p in [*RALLY.waypoints()]:
        assert area.distance_outside_m(p) == 0.0, p


def test_validation_finds_nothing_to_fix():
    findings = validate(RALLY)
    assert not [f for f in findings if f.severity is Severity.ERROR]
    # Leichte Sprache (an info finding) comes with the demo's de-x-ls texts (issue 12).
    assert [f.message["en"] for f in findings if f.code != "missing_easy_german"] == []
