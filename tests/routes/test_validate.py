"""routes.validate: each finding code triggered by a real case, and a clean rally with none."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

import routes.validate as validate_module
from markers.geo import LatLon, destination, distance_m
from routes.model import Marker, OrderMode, Rally, Stop, Text, text
from routes.tasks import Hint, Task, TaskType
from routes.validate import CODES, Finding, Limits, Severity, has_errors, validate
from tests.routes.helpers import make_marker, make_rally, venue

AREA = [(49.430, 7.745), (49.430, 7.790), (49.452, 7.790), (49.452, 7.745)]
"""A rectangle around Kaiserslautern's centre, from the station to the Gartenschau."""

CENTRE = [(49.443, 7.765), (49.443, 7.775), (49.448, 7.775), (49.448, 7.765)]
"""A small rectangle around the old town: the station lies outside it."""

FIVE = ["Fruchthalle", "Stiftskirche", "St. Martinskirche", "Unionskirche", "Pfalztheater"]


def clean_rally(**changes) -> Rally:
    """Five old-town venues from the station to the City Hall: nothing to find."""
    rally = make_rally(
        FIVE,
        solution_word="KUNST",
        start="Hauptbahnhof",
        finish="Rathaus",
        play_area=AREA,
        intro=text(
            de="Treffpunkt: Fruchthalle.",
            en="Meet at the Fruchthalle.",
            ls="Wir treffen uns an der Fruchthalle.",
        ),
    )
    return replace(rally, **changes)


def with_stop(rally: Rally, index: int, marker: Marker) -> Rally:
    stops = list(rally.stops)
    stops[index] = Stop(marker)
    return replace(rally, stops=tuple(stops))


def pair(radius_a: float, radius_b: float, apart_m: float) -> Rally:
    a = venue("Fruchthalle")
    b = destination(a, 200.0, apart_m)
    name = text(de="Fruchthalle", en="Fruchthalle", ls="Fruchthalle")
    return make_rally([make_marker(1, a, radius_a, title=name), make_marker(2, b, radius_b)])


def easy(de: str, en: str) -> Text:
    """A text in German, English and (here simply the German) Leichte Sprache."""
    return text(de=de, en=en, ls=de)


Q = easy("Welche Farbe hat das Tor?", "What colour is the gate?")
RED, GREEN, BLUE = easy("Rot", "Red"), easy("Grün", "Green"), easy("Blau", "Blue")
HINT = Hint(easy("Schau nach oben.", "Look up."))


def with_task(task: Task | None = None, hints: tuple[Hint, ...] = (), index: int = 1, **fields):
    """clean_rally() with a task, hints or other fields at stop ``index``."""
    rally = clean_rally()
    stops = list(rally.stops)
    stops[index] = replace(stops[index], task=task, hints=hints, **fields)
    return replace(rally, stops=tuple(stops))


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


@pytest.mark.parametrize("mode", list(OrderMode))
def test_clean_rally_has_no_findings(mode):
    rally = clean_rally(order_mode=mode)
    assert validate(rally) == []
    assert not has_errors(validate(rally))


BAD_POLYGON = ((49.4457, 7.7703), (49.4458, 7.7704), (95.0, 7.77))

# (case id, rally, limits, code, stop_index, other_stop_index, words in English, words in German)
CASES = [
    (
        "empty",
        clean_rally(stops=(), solution_word=None),
        Limits(),
        "empty_rally",
        None,
        None,
        ["no stops"],
        ["keine Stationen"],
    ),
    (
        "too-many",
        clean_rally(),
        Limits(max_stops=4),
        "too_many_stops",
        None,
        None,
        ["5 stops", "more than 4"],
        ["5 Stationen", "mehr als 4"],
    ),
    (
        "duplicate",
        make_rally([*FIVE, make_marker(1, "Fruchthalle")], solution_word="KUNSTE"),
        Limits(),
        "duplicate_marker",
        5,
        0,
        ["Stops 1 and 6", "id 1"],
        ["Stationen 1 und 6", "denselben Marker (ID 1)"],
    ),
    (
        "lat-95",
        with_stop(clean_rally(), 2, make_marker(3, (95.0, 7.77))),
        Limits(),
        "coordinates_out_of_range",
        2,
        None,
        ["Stop 3", "latitude 95.0, longitude 7.77"],
        ["Station 3", "Breite 95,0, Länge 7,77"],
    ),
    (
        "lat-nan",
        with_stop(clean_rally(), 2, make_marker(3, (math.nan, 7.77))),
        Limits(),
        "coordinates_out_of_range",
        2,
        None,
        ["latitude nan"],
        ["Breite nan"],
    ),
    (
        "lon-181",
        with_stop(clean_rally(), 0, make_marker(1, (49.44, 181.0))),
        Limits(),
        "coordinates_out_of_range",
        0,
        None,
        ["longitude 181.0"],
        ["Länge 181,0"],
    ),
    (
        "position-none",
        with_stop(clean_rally(), 1, replace(make_marker(2, "Stiftskirche"), position=None)),
        Limits(),
        "coordinates_out_of_range",
        1,
        None,
        ["(None)"],
        ["(None)"],
    ),
    (
        "start-inf",
        clean_rally(start=LatLon(49.44, math.inf)),
        Limits(),
        "coordinates_out_of_range",
        None,
        None,
        ["The start", "longitude inf"],
        ["Der Start"],
    ),
    (
        "finish-91",
        clean_rally(finish=LatLon(-91.0, 7.7)),
        Limits(),
        "coordinates_out_of_range",
        None,
        None,
        ["The finish", "latitude -91.0"],
        ["Das Ziel", "Breite -91,0"],
    ),
    (
        "play-area-corner",
        clean_rally(play_area=(*AREA[:3], (49.452, 200.0))),
        Limits(),
        "coordinates_out_of_range",
        None,
        None,
        ["Corner 4 of the play area"],
        ["Ecke 4 des Spielgebiets"],
    ),
    (
        "polygon-corner",
        with_stop(clean_rally(), 0, make_marker(1, "Fruchthalle", polygon=BAD_POLYGON)),
        Limits(),
        "coordinates_out_of_range",
        0,
        None,
        ["Corner 3 of the polygon of stop 1"],
        ["Ecke 3 des Polygons von Station 1"],
    ),
    (
        "radius-2",
        with_stop(clean_rally(), 3, make_marker(4, "Unionskirche", 2.0)),
        Limits(),
        "radius_out_of_range",
        3,
        None,
        ["radius of 2 m", "5 m to 500 m"],
        ["Radius des Fundbereichs von 2 m", "außerhalb der erlaubten 5 m bis 500 m"],
    ),
    (
        "radius-600",
        with_stop(clean_rally(), 3, make_marker(4, "Unionskirche", 600.0)),
        Limits(),
        "radius_out_of_range",
        3,
        None,
        ["radius of 600 m"],
        ["von 600 m"],
    ),
    (
        "radius-nan",
        with_stop(clean_rally(), 3, make_marker(4, "Unionskirche", math.nan)),
        Limits(),
        "radius_out_of_range",
        3,
        None,
        ["nan m"],
        ["nan m"],
    ),
    (
        "polygon-2",
        with_stop(clean_rally(), 0, make_marker(1, "Fruchthalle", polygon=BAD_POLYGON[:2])),
        Limits(),
        "polygon_too_small",
        0,
        None,
        ["only 2 corners", "at least 3"],
        ["nur 2 Ecken", "mindestens 3"],
    ),
    (
        "play-area-2",
        clean_rally(play_area=tuple(AREA[:2])),
        Limits(),
        "polygon_too_small",
        None,
        None,
        ["play area has only 2 corners"],
        ["Spielgebiet hat nur 2 Ecken"],
    ),
    (
        "overlap",
        pair(25.0, 30.0, 40.0),
        Limits(),
        "geofences_overlap",
        0,
        1,
        ["Stops 1 (Fruchthalle) and 2", "(25 m and 30 m)", "need 55 m", "only 40 m apart"],
        [
            "Die Stationen 1 (Fruchthalle) und 2",
            "(25 m und 30 m)",
            "bräuchten 55 m",
            "nur 40 m auseinander",
            "überschneiden sich",
        ],
    ),
    (
        "too-close",
        pair(10.0, 10.0, 30.0),
        Limits(),
        "stops_too_close",
        0,
        1,
        ["only 30 m apart", "at least 40 m"],
        ["nur 30 m auseinander", "mindestens 40 m"],
    ),
    (
        "too-close-limit",
        pair(10.0, 10.0, 120.0),
        Limits(min_spacing_m=150.0),
        "stops_too_close",
        0,
        1,
        ["only 120 m apart", "at least 150 m"],
        ["nur 120 m auseinander"],
    ),
    (
        "leg-to-finish",
        clean_rally(finish=venue("Gartenschau")),
        Limits(),
        "leg_too_long",
        4,
        None,
        ["from stop 5 (Pfalztheater) to the finish is 1,530 m long", "more than 1,500 m"],
        ["von Station 5 (Pfalztheater) zum Ziel ist 1.530 m lang", "mehr als 1.500 m"],
    ),
    (
        "leg-from-start",
        clean_rally(start=venue("Gartenschau")),
        Limits(),
        "leg_too_long",
        0,
        None,
        ["from the start to stop 1 (Fruchthalle) is 1,639 m long"],
        ["vom Start zu Station 1 (Fruchthalle) ist 1.639 m lang"],
    ),
    (
        "leg-between-stops",
        make_rally(["Fruchthalle", "Gartenschau"]),
        Limits(),
        "leg_too_long",
        1,
        0,
        ["from stop 1 (Fruchthalle) to stop 2 (Gartenschau Kaiserslautern)"],
        ["von Station 1 (Fruchthalle) zu Station 2 (Gartenschau Kaiserslautern)"],
    ),
    (
        "stop-outside",
        with_stop(clean_rally(), 4, make_marker(5, (49.455, 7.77))),
        Limits(),
        "outside_play_area",
        4,
        None,
        ["lies 334 m outside the play area"],
        ["liegt 334 m außerhalb des Spielgebiets"],
    ),
    (
        "start-outside",
        clean_rally(play_area=tuple(CENTRE)),
        Limits(),
        "outside_play_area",
        None,
        None,
        ["The start lies 789 m outside"],
        ["Der Start liegt 789 m außerhalb"],
    ),
    (
        "word-short",
        clean_rally(solution_word="KUNS"),
        Limits(),
        "solution_word_length",
        None,
        None,
        ['"KUNS" has 4 characters', "5 stops"],
        ["„KUNS“ hat 4 Zeichen", "5 Stationen"],
    ),
    (
        "word-long",
        make_rally(["Fruchthalle"], solution_word="KUNST"),
        Limits(),
        "solution_word_length",
        None,
        None,
        ["has 5 characters", "has 1 stop;"],
        ["die Rallye aber 1 Station;"],
    ),
    (
        "word-space",
        clean_rally(solution_word="KU ST"),
        Limits(),
        "solution_word_characters",
        None,
        None,
        ["letters only, not: space."],
        ["nur Buchstaben", "nicht: Leerzeichen."],
    ),
    (
        "word-digit",
        clean_rally(solution_word="KUN5T"),
        Limits(),
        "solution_word_characters",
        None,
        None,
        ['not: "5".'],
        ["nicht: „5“."],
    ),
    (
        "clue-en",
        with_stop(
            clean_rally(), 1, make_marker(2, "Stiftskirche", clue=text(de="Hinweis", ls="Hinweis"))
        ),
        Limits(),
        "missing_translation",
        1,
        None,
        ["Stop 2", "the clue is missing in English"],
        ["Station 2", "Der Hinweis fehlt auf Englisch"],
    ),
    (
        "stop-clue",
        replace(
            clean_rally(),
            stops=(
                Stop(
                    make_marker(1, "Fruchthalle"),
                    clue=text(en="Find the hall", ls="Such die Halle."),
                ),
                *clean_rally().stops[1:],
            ),
        ),
        Limits(),
        "missing_translation",
        0,
        None,
        ["the clue is missing in German"],
        ["Der Hinweis fehlt auf Deutsch"],
    ),
    (
        "story-both",
        with_stop(clean_rally(), 2, make_marker(3, "St. Martinskirche", story=text())),
        Limits(),
        "missing_translation",
        2,
        None,
        ["the story is missing in German and English"],
        ["Die Geschichte fehlt auf Deutsch und Englisch"],
    ),
    (
        "rally-title",
        clean_rally(title=text(en="Art walk", ls="Kunst-Weg")),
        Limits(),
        "missing_translation",
        None,
        None,
        ["Rally: the title is missing in German"],
        ["Rallye: Der Titel fehlt auf Deutsch"],
    ),
    (
        "intro",
        clean_rally(intro=text(de="Treffpunkt: Fruchthalle.", en=" ", ls="Treffpunkt")),
        Limits(),
        "missing_translation",
        None,
        None,
        ["the introduction is missing in English"],
        ["Die Einführung fehlt auf Englisch"],
    ),
    (
        "choice-one-option",
        with_task(Task(TaskType.CHOICE, Q, (RED,), 0)),
        Limits(),
        "task_options",
        1,
        None,
        ["Stop 2", "a choice task needs 2 to 6 options", "it has 1 option."],
        ["Station 2", "2 bis 6 Antwortmöglichkeiten", "sie hat 1 Antwortmöglichkeit."],
    ),
    (
        "choice-seven-options",
        with_task(Task(TaskType.CHOICE, Q, (RED, GREEN, BLUE) * 2 + (RED,), 0)),
        Limits(),
        "task_options",
        1,
        None,
        ["it has 7 options."],
        ["sie hat 7 Antwortmöglichkeiten."],
    ),
    (
        "choice-answer-out-of-range",
        with_task(Task(TaskType.CHOICE, Q, (RED, GREEN), 2)),
        Limits(),
        "task_answer",
        1,
        None,
        ["exactly one option", "names 3 as right", "options are 1 to 2"],
        ["genau eine Antwortmöglichkeit", "als richtig ist 3 angegeben", "1 bis 2"],
    ),
    (
        "choice-answer-bool",
        with_task(Task(TaskType.CHOICE, Q, (RED, GREEN), True)),
        Limits(),
        "task_answer",
        1,
        None,
        ["names True as right"],
        ["als richtig ist True angegeben"],
    ),
    (
        "number-answer-nan",
        with_task(Task(TaskType.NUMBER, Q, (), math.nan)),
        Limits(),
        "task_answer",
        1,
        None,
        ["needs a finite number as its answer, not nan"],
        ["braucht eine endliche Zahl als Lösung, nicht nan"],
    ),
    (
        "number-tolerance",
        with_task(Task(TaskType.NUMBER, Q, (), 3, tolerance=-1.0)),
        Limits(),
        "task_tolerance",
        1,
        None,
        ["tolerance of the number task must be 0 or more, not -1.0"],
        ["Toleranz der Zahlenaufgabe muss 0 oder mehr sein"],
    ),
    (
        "text-no-answer",
        with_task(Task(TaskType.TEXT, Q, (), (" ", ""))),
        Limits(),
        "task_answer",
        1,
        None,
        ["at least one accepted answer that is not empty"],
        ["mindestens eine nicht leere richtige Antwort"],
    ),
    (
        "attempts",
        with_task(Task(TaskType.TEXT, Q, (), ("rot",), attempts=0)),
        Limits(),
        "task_attempts",
        1,
        None,
        ["a task allows 1 to 10 attempts, not 0."],
        ["1 bis 10 Versuche, nicht 0."],
    ),
    (
        "points",
        with_task(Task(TaskType.TEXT, Q, (), ("rot",), points=-5)),
        Limits(),
        "task_points",
        1,
        None,
        ["points must be 0 or more, not -5."],
        ["Punkte der Aufgabe müssen 0 oder mehr sein, nicht -5."],
    ),
    (
        "four-hints",
        with_task(hints=(HINT,) * 4, index=2),
        Limits(),
        "too_many_hints",
        2,
        None,
        ["Stop 3", "has 4 hints; a stop may have at most 3."],
        ["Station 3", "hat 4 Tipps; eine Station darf höchstens 3 haben."],
    ),
    (
        "hint-cost",
        with_task(hints=(HINT, Hint(HINT.text, -5))),
        Limits(),
        "hint_cost",
        1,
        None,
        ["hint 2 costs -5 points"],
        ["Tipp 2 kostet -5 Punkte"],
    ),
    (
        "easy-german",
        with_stop(clean_rally(), 1, make_marker(2, "Stiftskirche", story=text(de="G", en="S"))),
        Limits(),
        "missing_easy_german",
        None,
        None,
        ["missing for 1 text;", "read the German text instead: Stop 2 (", "): the story."],
        ["Für 1 Text fehlt die Leichte Sprache", "Station 2 (", "): Die Geschichte."],
    ),
    (
        "not-step-free",
        with_stop(clean_rally(), 2, make_marker(3, "St. Martinskirche", step_free=False)),
        Limits(),
        "not_step_free",
        2,
        None,
        ["Stop 3", "cannot be reached without steps"],
        ["Station 3", "nicht ohne Stufen erreichbar"],
    ),
    (
        "clue-moved",
        with_task(index=2, clue_from=1),
        Limits(),
        "clue_predecessor_changed",
        2,
        0,
        ["Stop 3", "written for the way from stop 1 (Fruchthalle)", "before it is now stop 2 ("],
        ["Station 3", "Weg von Station 1 (Fruchthalle)", "davor liegt jetzt aber Station 2 ("],
    ),
    (
        "clue-now-first",
        with_task(index=0, clue_from=99),
        Limits(),
        "clue_predecessor_changed",
        0,
        None,
        ["from marker 99 (not in this rally), but it is now the first stop"],
        ["von Marker 99 (nicht in dieser Rallye)", "die erste Station"],
    ),
    (
        "too-long",
        clean_rally(dwell_s=3000.0),
        Limits(),
        "rally_too_long",
        None,
        None,
        [
            "takes about 4 h 35 min: 25 min to walk 1,817 m plus 5 stops of 50 min each",
            "more than 3 h.",
        ],
        [
            "dauert etwa 4 Std. 35 Min.: 25 Min. für 1.817 m Weg und 5 Stationen zu je 50 Min.",
            "mehr als 3 Std.",
        ],
    ),
]


@pytest.mark.parametrize(
    ("rally", "limits", "code", "stop_index", "other", "en_words", "de_words"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_each_case_gives_exactly_its_finding(
    rally, limits, code, stop_index, other, en_words, de_words
):
    findings = validate(rally, limits)
    assert [f.code for f in findings] == [code]
    (f,) = findings
    assert f.severity is CODES[code]
    assert (f.stop_index, f.other_stop_index) == (stop_index, other)
    if stop_index is not None:
        assert f.marker_id == rally.stops[stop_index].marker.id
    for word in en_words:
        assert word in f.message["en"]
    for word in de_words:
        assert word in f.message["de"]
    assert has_errors(findings) == (f.severity is Severity.ERROR)


def test_every_code_has_a_case():
    assert {c[3] for c in CASES} == set(CODES)


def test_overlap_details_and_json():
    (f,) = validate(pair(25.0, 30.0, 40.0))
    assert f.details["distance_m"] == pytest.approx(40.0, abs=1e-6)
    assert f.details["overlap_m"] == pytest.approx(15.0, abs=1e-6)
    data = json.loads(json.dumps(f.as_dict()))
    assert data["code"] == "geofences_overlap"
    assert data["severity"] == "warning"
    assert set(data["message"]) == {"de", "en"}
    assert (data["stop_index"], data["other_stop_index"], data["marker_id"]) == (0, 1, 1)


def test_touching_geofences_do_not_overlap_but_polygons_count_by_their_reach():
    assert codes(validate(pair(20.0, 20.0, 41.0))) == set()
    a = venue("Fruchthalle")
    square = tuple(destination(a, b, 30.0) for b in (45.0, 135.0, 225.0, 315.0))
    b = destination(a, 90.0, 35.0)
    circles = make_rally([make_marker(1, a, 10.0), make_marker(2, b, 10.0)])
    assert codes(validate(circles)) == {"stops_too_close"}
    rally = make_rally([make_marker(1, a, 10.0, polygon=square), make_marker(2, b, 10.0)])
    (f,) = validate(rally)
    assert f.code == "geofences_overlap"
    assert f.details["reach_m"] == pytest.approx((30.0, 10.0), abs=1e-6)


def test_the_same_marker_twice_is_a_duplicate_not_an_overlap():
    rally = make_rally(["Fruchthalle", "Stiftskirche", make_marker(1, "Fruchthalle")])
    assert [f.code for f in validate(rally)] == ["duplicate_marker"]


def test_findings_are_ordered_by_stop_then_code():
    rally = clean_rally(solution_word="KU", finish=venue("Gartenschau"))
    story = text(de="Geschichte", ls="Geschichte")
    rally = with_stop(rally, 3, make_marker(4, "Unionskirche", 2.0, story=story))
    rally = with_stop(rally, 1, make_marker(2, (95.0, 7.77)))
    found = [(f.stop_index, f.code) for f in validate(rally)]
    assert found == [
        (None, "solution_word_length"),
        (1, "coordinates_out_of_range"),
        (3, "missing_translation"),
        (3, "radius_out_of_range"),
        (4, "leg_too_long"),
    ]
    assert has_errors(validate(rally))


def test_a_broken_stop_is_left_out_of_geometry_checks():
    # Stop 2 lies at latitude 95: no legs or pairs with it, no duration, and no crash.
    rally = with_stop(clean_rally(dwell_s=3000.0), 1, make_marker(2, (95.0, 7.77), 10_000.0))
    assert codes(validate(rally)) == {"coordinates_out_of_range", "radius_out_of_range"}


def test_pair_checks_skip_far_pairs(monkeypatch):
    """A 10 x 10 grid 100 m apart: only pairs in the same row are near enough in latitude."""
    calls = []

    def counting(a, b):
        calls.append((a, b))
        return distance_m(a, b)

    monkeypatch.setattr(validate_module, "distance_m", counting)
    origin = venue("Pfaff")
    points = [
        destination(destination(origin, 0.0, 100.0 * r), 90.0, 100.0 * c)
        for r in range(10)
        for c in range(10)
    ]
    rally = make_rally(points, dwell_s=0.0, walking_speed_mps=5.0)
    assert validate(rally) == []
    assert len(calls) <= 10 * 45 + 100


@given(
    st.lists(
        st.builds(LatLon, st.floats(49.440, 49.446), st.floats(7.765, 7.774)),
        min_size=2,
        max_size=12,
    ),
    st.lists(st.floats(5.0, 60.0), min_size=12, max_size=12),
)
def test_pair_findings_match_brute_force(points, radii):
    rally = make_rally([make_marker(i + 1, p, radii[i]) for i, p in enumerate(points)])
    found = {
        (f.code, f.stop_index, f.other_stop_index)
        for f in validate(rally)
        if f.code in ("geofences_overlap", "stops_too_close")
    }
    expected = set()
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            d = distance_m(points[i], points[j])
            if d < radii[i] + radii[j]:
                expected.add(("geofences_overlap", i, j))
            elif d < 40.0:
                expected.add(("stops_too_close", i, j))
    assert found == expected


any_float = st.floats(allow_nan=True, allow_infinity=True)


@given(
    st.lists(st.tuples(st.integers(1, 4), any_float, any_float, any_float), max_size=6),
    st.none() | st.text(max_size=8),
    st.none() | st.tuples(any_float, any_float),
)
def test_validate_never_raises_and_findings_are_well_formed(stops, word, start):
    markers = [Marker(id=i, position=LatLon(lat, lon), radius_m=r) for i, lat, lon, r in stops]
    rally = replace(make_rally(markers, solution_word=word), start=start)
    findings = validate(rally)
    for f in findings:
        assert f.severity is CODES[f.code]
        assert f.message["de"] and f.message["en"] and f.message["de"] != f.message["en"]
        json.dumps(f.as_dict())
    keys = [(f.stop_index is not None, f.stop_index or 0, f.code) for f in findings]
    assert keys == sorted(keys)


def test_tasks_and_hints_that_are_right_and_a_known_predecessor_give_nothing():
    stops = list(clean_rally().stops)
    stops[0] = replace(stops[0], task=Task(TaskType.CHOICE, Q, (RED, GREEN), 1), hints=(HINT,) * 3)
    stops[1] = replace(stops[1], task=Task(TaskType.NUMBER, Q, (), 1232, 0.5), clue_from=1)
    stops[2] = replace(stops[2], task=Task(TaskType.TEXT, Q, (), ("", "Kaiser"), points=0))
    stops[3] = replace(stops[3], marker=replace(stops[3].marker, step_free=True))
    assert validate(replace(clean_rally(), stops=tuple(stops))) == []


def test_task_and_hint_texts_need_german_and_english():
    task = Task(TaskType.CHOICE, text(de="Frage", ls="Frage"), (RED, text(de="Grün")), 0)
    rally = with_task(task, (Hint(text(en="Up", ls="Oben")),))
    found = [(f.code, f.details.get("field"), f.message["en"]) for f in validate(rally)]
    assert found == [
        ("missing_easy_german", None, found[0][2]),
        ("missing_translation", "question", found[1][2]),
        ("missing_translation", "options[1]", found[2][2]),
        ("missing_translation", "hints[0]", found[3][2]),
    ]
    assert "the task's question is missing in English" in found[1][2]
    assert "option 2 of the task is missing in English and Leichte" not in found[2][2]
    assert "option 2 of the task is missing in English" in found[2][2]
    assert "hint 1 is missing in German" in found[3][2]
    assert "1 text" in found[0][2] and "option 2 of the task" in found[0][2]


def test_one_easy_german_finding_names_the_first_three_texts_and_counts_the_rest():
    rally = clean_rally(title=text(de="Kunst", en="Art"))
    stops = [
        replace(s, marker=replace(s.marker, clue=text(de="Geh", en="Go"))) for s in rally.stops
    ]
    stops[0] = replace(stops[0], hints=(Hint(text(de="Tipp", en="Tip")),))
    rally = replace(rally, stops=tuple(stops))
    (f,) = validate(rally)
    assert f.code == "missing_easy_german" and f.severity is Severity.INFO
    assert not has_errors([f])
    assert f.details["count"] == 7
    assert f.details["texts"][:3] == (
        {"stop_index": None, "field": "title"},
        {"stop_index": 0, "field": "clue"},
        {"stop_index": 0, "field": "hints[0]"},
    )
    assert f.message["en"].endswith(
        "missing for 7 texts; players who choose it read the German text instead: Rally: the "
        "title; Stop 1 (Fruchthalle): the clue; Stop 1 (Fruchthalle): hint 1, and 4 more."
    )
    assert f.message["de"].startswith("Für 7 Texte fehlt die Leichte Sprache")
    assert f.message["de"].endswith(" und 4 weitere.")
    json.dumps(f.as_dict())


def test_blank_texts_need_no_leichte_sprache_and_a_stop_clue_replaces_the_markers():
    rally = clean_rally(intro=text())
    stops = list(rally.stops)
    stops[0] = replace(stops[0], clue=easy("Geh los", "Go"))
    stops[0] = replace(stops[0], marker=replace(stops[0].marker, clue=text(de="alt", en="old")))
    assert validate(replace(rally, stops=tuple(stops))) == []


hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.lists(st.text(max_size=3), max_size=2).map(tuple),
)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(TaskType),
            st.lists(st.just(RED), max_size=8).map(tuple),
            hostile,
            hostile,
            hostile,
            hostile,
            st.lists(hostile, max_size=5),
            st.none() | st.integers(0, 8),
            st.none() | st.booleans(),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_validate_never_raises_on_hostile_tasks_and_hints(stops):
    built = []
    for i, (kind, options, answer, tolerance, points, attempts, costs, after, free) in enumerate(
        stops
    ):
        task = Task(kind, Q, options, answer, tolerance, points, attempts)  # type: ignore[arg-type]
        hints = tuple(Hint(HINT.text, cost) for cost in costs)  # type: ignore[arg-type]
        marker = make_marker(i + 1, (49.44 + 0.001 * i, 7.77), step_free=free)
        built.append(Stop(marker, task=task, hints=hints, clue_from=after))
    findings = validate(make_rally(built))
    for f in findings:
        assert f.severity is CODES[f.code]
        assert f.message["de"] and f.message["en"] and f.message["de"] != f.message["en"]
        json.dumps(f.as_dict())
