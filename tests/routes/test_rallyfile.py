"""routes.rallyfile: the rally file format, its errors, the venues file and the round trip."""

from __future__ import annotations

import copy
import json
import math
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from markers.geo import LatLon
from markers.geofence import MAX_RADIUS_M, MIN_RADIUS_M
from routes.model import Marker, OrderMode, Rally, Stop, text
from routes.rallyfile import (
    DEMO_RALLY_PATH,
    FORMAT,
    VENUES_PATH,
    RallyFile,
    RallyFileError,
    demo_rally,
    dump_rally,
    load_rally,
    load_venues,
    read_rally_file,
)
from routes.tasks import Hint, LetterOn, Task, TaskType
from tests.routes.helpers import make_rally, venue


def minimal() -> dict:
    """A small valid rally file: the Fruchthalle and the Stiftskirche."""
    return {
        "format": FORMAT,
        "slug": "two-stops",
        "title": {"de": "Zwei Stationen", "en": "Two stops"},
        "markers": [
            {"key": "a", "venue": "Fruchthalle", "lat": 49.445667, "lon": 7.770361},
            {
                "key": "b",
                "venue": "Stiftskirche (Collegiate Church)",
                "lat": 49.444444,
                "lon": 7.770833,
                "radius_m": 30,
            },
        ],
        "stops": [{"marker": "a"}, {"marker": "b"}],
    }


CHOICE_TASK = {
    "type": "choice",
    "question": {"de": "Welche Farbe?", "en": "Which colour?", "de-x-ls": "Welche Farbe?"},
    "options": [{"de": "Rot", "en": "Red"}, {"de": "Grün", "en": "Green"}, {"de": "Blau"}],
    "answer": 1,
    "points": 40,
    "attempts": 2,
    "letter": "answer",
}
NUMBER_TASK = {
    "type": "number",
    "question": {"de": "Seit wann?", "en": "Since when?"},
    "answer": 1232,
    "tolerance": 0.5,
    "points": 50,
    "attempts": 3,
    "letter": "find",
}
TEXT_TASK = {
    "type": "text",
    "question": {"de": "Wer?", "en": "Who?"},
    "answer": ["Kaiser", "Barbarossa"],
    "points": 0,
    "attempts": 10,
    "letter": "find",
}
HINT = {"text": {"de": "Schau hoch.", "en": "Look up.", "de-x-ls": "Schau nach oben."}, "cost": 10}


def changed(path: str, value: object) -> dict:
    """minimal() with the value at a dotted path (list indices as numbers) set or deleted."""
    data = copy.deepcopy(minimal())
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = data
    for p in parents:
        node = node[p]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


DELETE = object()


def test_minimal_file_loads_with_defaults_and_ids_in_file_order():
    rally = load_rally(minimal())
    assert isinstance(rally, Rally)
    assert (rally.id, rally.slug, rally.order_mode) == (1, "two-stops", OrderMode.FIXED)
    assert [m.id for m in rally.markers] == [1, 2]
    assert [m.radius_m for m in rally.markers] == [25.0, 30.0]
    assert rally.markers[0].position == LatLon(49.445667, 7.770361)
    assert rally.markers[0].venue == "Fruchthalle"
    assert rally.title == text(de="Zwei Stationen", en="Two stops")
    assert rally.markers[0].story == text()
    assert rally.start is None and rally.solution_word is None and rally.play_area is None


def test_given_ids_are_kept_and_the_rest_numbered_by_place():
    data = changed("markers.0.id", 7)
    rally = load_rally(data)
    assert [m.id for m in rally.markers] == [7, 2]
    assert dump_rally(read_rally_file(data))["markers"][0]["id"] == 7
    assert "id" not in dump_rally(read_rally_file(data))["markers"][1]


def test_stops_may_override_the_clue_and_share_a_marker():
    data = minimal()
    data["stops"] = [
        {"marker": "a", "clue": {"de": "Geh!", "en": "Go!"}},
        {"marker": "b"},
        {"marker": "a", "clue": {}},
    ]
    rally = load_rally(data)
    assert rally.stops[0].effective_clue == text(de="Geh!", en="Go!")
    assert rally.stops[2].clue is None
    assert rally.stops[0].marker is rally.stops[2].marker
    assert dump_rally(read_rally_file(data))["stops"][2] == {"marker": "a"}


BAD = [
    (["not", "an", "object"], "a rally file must hold a JSON object, got an array"),
    (changed("format", DELETE), "format: must be 'art-caching-rally/1', got None"),
    (changed("format", "art-caching-rally/2"), "format: must be 'art-caching-rally/1'"),
    (changed("colour", "red"), "colour: unknown field"),
    (changed("slug", "Two Stops"), "slug: must be lowercase letters and digits joined by '-'"),
    (changed("slug", 3), "slug: must be a string, got a number"),
    (changed("title", DELETE), "title: is required"),
    (changed("title", {"fr": "Deux"}), "title.fr: unknown language (known: de, en, de-x-ls)"),
    (changed("title", {"de": 5}), "title.de: must be a string, got a number"),
    (
        changed("title", {"de": " ", "en": ""}),
        "title: needs a text in at least one of de, en, de-x-ls",
    ),
    (changed("title", "Zwei"), "title: must be an object of texts by language, got a string"),
    (changed("id", 0), "id: must be a whole number of 1 or more, got 0"),
    (changed("order_mode", "random"), "order_mode: must be one of ['fixed', 'free']"),
    (changed("start", {"lat": 91, "lon": 7.7}), "start.lat: must lie between -90 and 90, got 91"),
    (changed("start", {"lat": 49.4}), "start.lon: is required"),
    (changed("finish", {"lat": 49.4, "lon": 7.7, "name": ""}), "finish.name: must not be empty"),
    (changed("solution_word", "AB1"), "solution_word: must be letters only, got 'AB1'"),
    (changed("walking_speed_mps", 0), "walking_speed_mps: must be more than 0, got 0.0"),
    (changed("walking_speed_mps", "fast"), "walking_speed_mps: must be a number, got 'fast'"),
    (changed("walking_speed_mps", True), "walking_speed_mps: must be a number, got True"),
    (changed("dwell_s", -1), "dwell_s: must be 0 or more, got -1.0"),
    (changed("dwell_s", math.inf), "dwell_s: must be a finite number, got inf"),
    (
        changed("play_area", [[49.4, 7.7], [49.5, 7.8]]),
        "play_area: a polygon needs at least three corners, got 2",
    ),
    (
        changed("play_area", [[49.4, 7.7], [49.5, 7.8], [49.5]]),
        "play_area[2]: must be [lat, lon], got 1 values",
    ),
    (
        changed("play_area", [[49.4, 7.7], [49.5, "x"], [49.5, 7.7]]),
        "play_area[1][1]: must be a number, got 'x'",
    ),
    (changed("markers", {"a": {}}), "markers: must be an array, got an object"),
    (changed("markers.1.lat", "x"), "markers[1].lat: must be a number, got 'x'"),
    (changed("markers.1.lon", 200), "markers[1].lon: must lie between -180 and 180, got 200"),
    (changed("markers.0.lat", None), "markers[0].lat: must be a number, got None"),
    (changed("markers.0.key", DELETE), "markers[0].key: is required"),
    (changed("markers.1.key", "a"), "markers[1].key: 'a' is already the key of markers[0]"),
    (changed("markers.1.id", 1), "markers[1].id: 1 is already the id of markers[0]"),
    (changed("markers.0.id", True), "markers[0].id: must be a whole number of 1 or more"),
    (
        changed("markers.0.radius_m", 1),
        f"markers[0].radius_m: must lie between {MIN_RADIUS_M:g} and {MAX_RADIUS_M:g} metres",
    ),
    (changed("markers.0.radius_m", math.nan), "markers[0].radius_m: must be a finite number"),
    (changed("markers.0.title", {"de": None}), "markers[0].title.de: must be a string, got null"),
    (
        changed("markers.0.polygon", [[49.4, 7.7]]),
        "markers[0].polygon: a polygon needs at least three corners, got 1",
    ),
    (changed("markers.0.radius", 20), "markers[0].radius: unknown field"),
    (changed("markers.0", "Fruchthalle"), "markers[0]: must be an object, got a string"),
    (changed("stops.0.marker", "zzz"), "stops[0].marker: no marker has the key 'zzz'"),
    (changed("stops.0", {}), "stops[0].marker: is required"),
    (changed("stops.1", {"marker": "a"}), "markers[1]: marker 'b' is used by no stop"),
    (changed("markers.0.step_free", "yes"), "markers[0].step_free: must be true or false, got a"),
    (changed("markers.0.story", {"de-x-LS": "x"}), "markers[0].story.de-x-LS: unknown language"),
    (changed("stops.0.task", "Wie alt?"), "stops[0].task: must be an object, got a string"),
    (changed("stops.0.task", {"type": "text"}), "stops[0].task.answer: is required"),
    (
        changed("stops.0.task", {**TEXT_TASK, "type": "essay"}),
        "stops[0].task.type: must be one of ['choice', 'number', 'text'], got 'essay'",
    ),
    (changed("stops.0.task", {**TEXT_TASK, "type": 1}), "stops[0].task.type: must be a string"),
    (
        changed("stops.0.task", {**TEXT_TASK, "options": [{"de": "a"}, {"de": "b"}]}),
        "stops[0].task.options: only a choice task has options, not a text task",
    ),
    (
        changed("stops.0.task", {**NUMBER_TASK, "options": []}),
        "stops[0].task.options: only a choice task has options, not a number task",
    ),
    (
        changed("stops.0.task", {**TEXT_TASK, "tolerance": 1}),
        "stops[0].task.tolerance: only a number task has a tolerance, not a text task",
    ),
    (
        changed("stops.0.task", {**CHOICE_TASK, "options": CHOICE_TASK["options"][:1]}),
        "stops[0].task.options: a choice task needs 2 to 6 options, got 1",
    ),
    (
        changed("stops.0.task", {**CHOICE_TASK, "options": CHOICE_TASK["options"] * 3}),
        "stops[0].task.options: a choice task needs 2 to 6 options, got 9",
    ),
    (
        changed("stops.0.task", {k: v for k, v in CHOICE_TASK.items() if k != "options"}),
        "stops[0].task.options: is required for a choice task",
    ),
    (
        changed("stops.0.task", {**CHOICE_TASK, "options": [{"de": "a"}, {"fr": "b"}]}),
        "stops[0].task.options[1].fr: unknown language",
    ),
    (
        changed("stops.0.task", {**CHOICE_TASK, "options": [{"de": "a"}, {}]}),
        "stops[0].task.options[1]: needs a text",
    ),
    (
        changed("stops.0.task", {**CHOICE_TASK, "answer": 3}),
        "stops[0].task.answer: must be a whole number from 0 to 2, got 3",
    ),
    (
        changed("stops.0.task", {**CHOICE_TASK, "answer": -1}),
        "stops[0].task.answer: must be a whole number from 0 to 2, got -1",
    ),
    (
        changed("stops.0.task", {**CHOICE_TASK, "answer": True}),
        "stops[0].task.answer: must be a whole number from 0 to 2, got True",
    ),
    (
        changed("stops.0.task", {**CHOICE_TASK, "answer": "1"}),
        "stops[0].task.answer: must be a whole number from 0 to 2, got '1'",
    ),
    (
        changed("stops.0.task", {**NUMBER_TASK, "answer": "1232"}),
        "stops[0].task.answer: must be a number, got '1232'",
    ),
    (
        changed("stops.0.task", {**NUMBER_TASK, "answer": math.nan}),
        "stops[0].task.answer: must be a finite number, got nan",
    ),
    (
        changed("stops.0.task", {**NUMBER_TASK, "tolerance": -0.5}),
        "stops[0].task.tolerance: must be 0 or more, got -0.5",
    ),
    (
        changed("stops.0.task", {**TEXT_TASK, "answer": []}),
        "stops[0].task.answer: needs at least one accepted answer",
    ),
    (
        changed("stops.0.task", {**TEXT_TASK, "answer": ["Kaiser", " "]}),
        "stops[0].task.answer[1]: must not be empty",
    ),
    (
        changed("stops.0.task", {**TEXT_TASK, "answer": None}),
        "stops[0].task.answer: must be a string or an array of strings, got null",
    ),
    (
        changed("stops.0.task", {**TEXT_TASK, "answer": "x" * 201}),
        "stops[0].task.answer: may have at most 200 characters",
    ),
    (
        changed("stops.0.task", {**TEXT_TASK, "points": -5}),
        "stops[0].task.points: must be a whole number of 0 or more, got -5",
    ),
    (
        changed("stops.0.task", {**TEXT_TASK, "points": 2.5}),
        "stops[0].task.points: must be a whole number of 0 or more, got 2.5",
    ),
    (
        changed("stops.0.task", {**TEXT_TASK, "attempts": 0}),
        "stops[0].task.attempts: must be a whole number from 1 to 10, got 0",
    ),
    (
        changed("stops.0.task", {**TEXT_TASK, "attempts": 11}),
        "stops[0].task.attempts: must be a whole number from 1 to 10, got 11",
    ),
    (
        changed("stops.0.task", {**TEXT_TASK, "letter": "never"}),
        "stops[0].task.letter: must be one of ['find', 'answer'], got 'never'",
    ),
    (
        changed("stops.0.task", {**TEXT_TASK, "question": {"es": "¿Qué?"}}),
        "stops[0].task.question.es: unknown language (known: de, en, de-x-ls)",
    ),
    (changed("stops.0.task", {**TEXT_TASK, "hint": "x"}), "stops[0].task.hint: unknown field"),
    (changed("stops.0.hints", {"text": {}}), "stops[0].hints: must be an array, got an object"),
    (
        changed("stops.0.hints", [HINT] * 4),
        "stops[0].hints: a stop has at most 3 hints, got 4",
    ),
    (
        changed("stops.0.hints", [HINT, {"text": {"de": "x"}, "cost": -1}]),
        "stops[0].hints[1].cost: must be a whole number of 0 or more, got -1",
    ),
    (changed("stops.0.hints", [{"cost": 5}]), "stops[0].hints[0].text: is required"),
    (
        changed("stops.0.hints", [{"text": {"de": "x", "fr": "y"}}]),
        "stops[0].hints[0].text.fr: unknown language (known: de, en, de-x-ls)",
    ),
]


def full() -> dict:
    """minimal() with everything a rally file may hold: tasks of each kind, hints, step_free and
    Leichte Sprache, in the canonical form dump_rally writes."""
    data = minimal()
    data.update(
        id=3,
        title={**data["title"], "de-x-ls": "2 Stationen"},
        intro={"de": "Treffpunkt", "en": "Meet", "de-x-ls": "Wir treffen uns."},
        order_mode="free",
        start={"lat": 49.4, "lon": 7.7, "name": "Bahnhof"},
        solution_word="AB",
        walking_speed_mps=1.2,
        dwell_s=300.0,
    )
    data["markers"][0].update(
        radius_m=25.0,
        step_free=True,
        title={"de": "Halle", "en": "Hall", "de-x-ls": "Halle"},
        story={"de": "Alt.", "de-x-ls": "Das Haus ist alt."},
        source="https://example.org",
    )
    data["markers"][1].update(radius_m=30.0, step_free=False)
    data["stops"] = [
        {
            "marker": "a",
            "clue": {"de": "Geh!", "de-x-ls": "Geh los."},
            "task": CHOICE_TASK,
            "hints": [HINT, {"text": {"de": "Rot ist es nicht."}, "cost": 0}],
        },
        {"marker": "b", "task": NUMBER_TASK, "hints": [HINT] * 3},
        {"marker": "a", "task": {**TEXT_TASK, "answer": "Kaiser"}},
    ]
    return data


def test_a_file_with_tasks_hints_step_free_and_leichte_sprache_round_trips():
    data = full()
    loaded = read_rally_file(data)
    assert dump_rally(loaded) == data
    assert read_rally_file(json.loads(json.dumps(dump_rally(loaded)))) == loaded
    first, second, third = loaded.rally.stops
    assert first.task is not None and first.task.type is TaskType.CHOICE
    assert first.task.options[2] == text(de="Blau")
    assert (first.task.answer, first.task.points, first.task.attempts) == (1, 40, 2)
    assert first.task.letter_on is LetterOn.ANSWER
    assert first.hints == (
        Hint(text(de="Schau hoch.", en="Look up.", ls="Schau nach oben."), 10),
        Hint(text(de="Rot ist es nicht."), 0),
    )
    assert first.clue == {"de": "Geh!", "en": "", "de-x-ls": "Geh los."}
    assert second.task == Task(
        TaskType.NUMBER, text(de="Seit wann?", en="Since when?"), (), 1232, tolerance=0.5
    )
    assert third.task is not None and third.task.answer == ("Kaiser",)
    assert loaded.rally.title["de-x-ls"] == "2 Stationen"
    assert [m.step_free for m in loaded.rally.markers] == [True, False, True]


def test_defaults_of_a_task_and_a_hint():
    data = changed("stops.0.task", {"type": "text", "question": {"de": "Wer?"}, "answer": "X"})
    data["stops"][0]["hints"] = [{"text": {"en": "Up"}}]
    stop = load_rally(data).stops[0]
    assert stop.task == Task(TaskType.TEXT, text(de="Wer?"), (), ("X",))
    assert (stop.task.points, stop.task.attempts, stop.task.letter_on) == (50, 3, LetterOn.FIND)
    assert stop.hints == (Hint(text(en="Up"), 10),)
    assert dump_rally(read_rally_file(data))["stops"][0]["task"] == {
        "type": "text",
        "question": {"de": "Wer?"},
        "answer": "X",
        "points": 50,
        "attempts": 3,
        "letter": "find",
    }


def test_step_free_comes_from_the_venue_unless_the_marker_says_so(tmp_path):
    entries = json.loads(VENUES_PATH.read_text(encoding="utf-8"))
    for entry in entries:
        if entry["name"] == "Fruchthalle":
            entry["step_free"] = False
    path = tmp_path / "venues.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    venues = load_venues(path)
    assert {v.name: v.step_free for v in venues}["Fruchthalle"] is False
    assert all(v.step_free is None for v in load_venues())
    assert load_rally(minimal(), venues).markers[0].step_free is False
    assert load_rally(minimal()).markers[0].step_free is None
    with pytest.raises(
        RallyFileError, match=r"^markers\[0\]\.step_free: is true, but its venue 'Fruchthalle'"
    ):
        load_rally(changed("markers.0.step_free", True), venues)
    entries[0]["step_free"] = "no"
    path.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(RallyFileError, match=r"\[0\]\.step_free: must be true or false"):
        load_venues(path)


@pytest.mark.parametrize(("data", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_each_problem_is_named_by_its_json_path(data, message):
    with pytest.raises(RallyFileError) as caught:
        load_rally(data)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ValueError)
    error = caught.value
    assert str(error) == ": ".join(p for p in (error.where, error.problem) if p)


def test_file_errors_name_the_file_and_the_place(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "art-caching-rally/1",\n  "slug": }', encoding="utf-8")
    with pytest.raises(RallyFileError, match=r"broken\.json: line 2, column 11: invalid JSON"):
        load_rally(broken)

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(changed("markers.1.lat", "x")), encoding="utf-8")
    with pytest.raises(RallyFileError) as caught:
        load_rally(str(wrong))
    assert str(caught.value) == f"{wrong}: markers[1].lat: must be a number, got 'x'"
    assert caught.value.file == str(wrong)

    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"slug": "Straße"}'.encode("latin-1"))
    with pytest.raises(RallyFileError, match="not UTF-8 text"):
        load_rally(latin1)

    with pytest.raises(RallyFileError, match=r"missing\.json: cannot read the file"):
        load_rally(tmp_path / "missing.json")


def test_venues_file_holds_the_21_kaiserslautern_venues():
    venues = load_venues()
    assert len(venues) == 21
    by_name = {v.name: v for v in venues}
    fruchthalle = by_name["Fruchthalle"]
    assert fruchthalle.position == LatLon(49.445667, 7.770361)
    assert fruchthalle.kind == "culture-centre"
    assert fruchthalle.address == "Fruchthallstraße 10, 67655 Kaiserslautern"
    assert fruchthalle.source.startswith("https://")
    assert "August von Voit" in fruchthalle.short_fact
    assert not any("Pfalzgalerie" in name for name in by_name)


def test_bad_venues_file_names_the_entry(tmp_path):
    entries = json.loads(VENUES_PATH.read_text(encoding="utf-8"))[:2]
    entries[1]["lat"] = "49.4"
    path = tmp_path / "venues.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(RallyFileError, match=r"venues\.json: \[1\]\.lat: must be a number"):
        load_venues(path)
    entries[1] = dict(entries[0])
    path.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(RallyFileError, match=r"\[1\]\.name: '.*' is already the name of \[0\]"):
        load_venues(path)


def test_markers_are_checked_against_the_venue_they_name():
    venues = load_venues()
    assert load_rally(minimal(), venues).markers[1].venue == "Stiftskirche (Collegiate Church)"
    moved = changed("markers.1.lat", 49.445444)
    assert load_rally(moved).markers[1].position.lat == 49.445444
    with pytest.raises(RallyFileError, match=r"^markers\[1\]: lies 111\.\d m from its venue"):
        load_rally(moved, venues)
    with pytest.raises(RallyFileError, match=r"^markers\[0\]\.venue: no venue is named 'Nowhere'"):
        load_rally(changed("markers.0.venue", "Nowhere"), venues)


def test_demo_file_is_in_the_canonical_form_that_dump_writes():
    data = json.loads(DEMO_RALLY_PATH.read_text(encoding="utf-8"))
    loaded = read_rally_file(DEMO_RALLY_PATH, load_venues())
    assert dump_rally(loaded) == data
    assert read_rally_file(dump_rally(loaded)) == loaded
    assert demo_rally() == loaded.rally


def test_files_read_as_package_resources_need_no_folder_on_disk(tmp_path):
    """The data is read through importlib.resources, so a package in a zip archive serves too."""
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("assets/venues.json", VENUES_PATH.read_bytes())
        z.writestr("assets/rally.json", DEMO_RALLY_PATH.read_bytes())
        z.writestr("assets/broken.json", "{")
    root = zipfile.Path(archive, "assets/")
    venues = load_venues(root / "venues.json")
    assert venues == load_venues()
    assert read_rally_file(root / "rally.json", venues) == read_rally_file(DEMO_RALLY_PATH, venues)
    with pytest.raises(RallyFileError, match=r"data\.zip/assets/broken\.json: line 1, column 2"):
        load_rally(root / "broken.json")


def test_a_rally_built_in_code_round_trips_with_default_keys():
    rally = make_rally(
        ["Fruchthalle", "Stiftskirche", "Unionskirche"],
        solution_word="ART",
        start="Hauptbahnhof",
        play_area=[(49.43, 7.75), (49.43, 7.79), (49.45, 7.79)],
        id=4,
    )
    data = dump_rally(rally)
    assert data["id"] == 4
    assert [m["key"] for m in data["markers"]] == ["marker-1", "marker-2", "marker-3"]
    assert data["start"] == {"lat": venue("Hauptbahnhof").lat, "lon": venue("Hauptbahnhof").lon}
    assert load_rally(json.loads(json.dumps(data))) == rally


def test_dump_refuses_two_different_markers_with_one_id():
    rally = make_rally(["Fruchthalle", "Stiftskirche"])
    clash = Rally(
        id=1,
        slug="clash",
        title=rally.title,
        stops=(rally.stops[0], Stop(Marker(id=1, position=venue("Stiftskirche")))),
    )
    with pytest.raises(ValueError, match="two different markers share the id 1"):
        dump_rally(clash)


# --- the round trip as a property --------------------------------------------------------------

non_blank = st.text(min_size=1, max_size=12).filter(str.strip)
texts = st.builds(text, de=st.text(max_size=12), en=st.text(max_size=12), ls=st.text(max_size=12))
filled = st.builds(text, de=non_blank, en=st.text(max_size=12), ls=st.text(max_size=12))
hints = st.lists(st.builds(Hint, filled, st.integers(0, 1000)), max_size=3).map(tuple)


@st.composite
def tasks(draw) -> Task | None:
    kind = draw(st.none() | st.sampled_from(TaskType))
    if kind is None:
        return None
    options = tuple(draw(st.lists(filled, min_size=2, max_size=6))) if kind == "choice" else ()
    answer = {
        TaskType.CHOICE: st.integers(0, len(options) - 1),
        TaskType.NUMBER: st.integers(-(10**6), 10**6) | st.floats(-1e6, 1e6),
        TaskType.TEXT: st.lists(non_blank, min_size=2, max_size=3).map(tuple)
        | non_blank.map(lambda a: (a,)),
    }[kind]
    return Task(
        kind,
        draw(filled),
        options,
        draw(answer),
        tolerance=draw(st.floats(0, 100)) if kind == "number" else 0.0,
        points=draw(st.integers(0, 500)),
        attempts=draw(st.integers(1, 10)),
        letter_on=draw(st.sampled_from(LetterOn)),
    )


positions = st.builds(LatLon, st.floats(-90, 90), st.floats(-180, 180))
polygons = st.lists(positions, min_size=3, max_size=5).map(tuple)


@st.composite
def rally_files(draw) -> RallyFile:
    ids = draw(st.lists(st.integers(1, 10**6), min_size=0, max_size=5, unique=True))
    markers = [
        draw(
            st.builds(
                Marker,
                id=st.just(i),
                position=positions,
                radius_m=st.floats(MIN_RADIUS_M, MAX_RADIUS_M),
                title=texts,
                clue=texts,
                story=texts,
                polygon=st.none() | polygons,
                venue=st.none() | non_blank,
                step_free=st.none() | st.booleans(),
            )
        )
        for i in ids
    ]
    order = draw(st.permutations(markers)) if markers else []
    repeats = draw(st.lists(st.sampled_from(markers), max_size=2)) if markers else []
    clues = st.none() | st.builds(text, de=non_blank, en=st.text(max_size=12))
    stops = tuple(Stop(m, draw(clues), draw(tasks()), draw(hints)) for m in [*order, *repeats])
    start = draw(st.none() | positions)
    finish = draw(st.none() | positions)
    rally = Rally(
        id=draw(st.integers(1, 10**6)),
        slug=draw(st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True)),
        title=draw(st.builds(text, de=non_blank, en=st.text(max_size=12))),
        stops=stops,
        order_mode=draw(st.sampled_from(OrderMode)),
        start=start,
        finish=finish,
        solution_word=draw(
            st.none() | st.text(st.characters(categories=["Lu", "Ll"]), min_size=1, max_size=12)
        ),
        walking_speed_mps=draw(st.floats(0.1, 10)),
        dwell_s=draw(st.floats(0, 3600)),
        play_area=draw(st.none() | polygons),
        intro=draw(texts),
    )
    keys = draw(st.lists(non_blank, min_size=len(ids), max_size=len(ids), unique=True))
    return RallyFile(
        rally,
        keys=dict(zip(ids, keys, strict=True)),
        sources={i: draw(non_blank) for i in ids if draw(st.booleans())},
        start_name=draw(non_blank) if start is not None and draw(st.booleans()) else "",
        finish_name=draw(non_blank) if finish is not None and draw(st.booleans()) else "",
    )


@given(rally_files())
def test_dump_then_read_gives_back_the_same_rally_file(rally_file):
    data = json.loads(json.dumps(dump_rally(rally_file)))
    assert read_rally_file(data) == rally_file
    assert dump_rally(read_rally_file(data)) == data
