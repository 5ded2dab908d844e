"""The curator API's stop contents: clue (with Leichte Sprache), task and hints per stop, the
predecessor a clue was written for, and copying a rally."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server import test_api_curator as base
from tests.server.helpers import assert_error
from tests.server.test_api_curator import API, audit_entries, ok

password_hash, world, spec = base.password_hash, base.world, base.spec
anna, ben, ada = base.anna, base.ben, base.ada
"""The fixtures of the curator API's tests."""

CHOICE = {
    "type": "choice",
    "question": {"de": "Welche Farbe?", "en": "Which colour?", "de-x-ls": "Welche Farbe hat es?"},
    "options": [{"de": "Rot", "en": "Red"}, {"de": "Blau", "en": "Blue"}],
    "answer": 1,
    "points": 60,
    "attempts": 2,
    "letter": "answer",
}
HINTS = [
    {"text": {"de": "Am Brunnen", "en": "At the fountain", "de-x-ls": "Beim Brunnen."}, "cost": 5},
    {"text": {"de": "Links", "en": "On the left"}},
]


def put_stops(client, rally_id: int, stops: list[dict[str, Any]]):
    return client.put(f"{API}/rallies/{rally_id}/stops", json={"stops": stops})


def stop_of(rally: dict[str, Any], marker_id: int) -> dict[str, Any]:
    return next(s for s in rally["stops"] if s["marker_id"] == marker_id)


def test_a_stop_keeps_its_task_and_hints_in_canonical_form(app, world, anna, spec):
    first, second, third = world.anna_markers
    rally = ok(
        spec,
        put_stops(
            anna,
            world.draft,
            [
                {"marker_id": first},
                {"marker_id": second, "task": CHOICE, "hints": HINTS},
                {"marker_id": third},
            ],
        ),
    )
    stop = stop_of(rally, second)
    assert stop["task"] == CHOICE
    assert stop["hints"] == [HINTS[0], {**HINTS[1], "cost": 10}]
    assert stop_of(rally, first)["task"] is None and stop_of(rally, first)["hints"] == []
    # a number task gets its tolerance written out, a text task its answers
    number = {"type": "number", "question": {"de": "Jahr?", "en": "Year?"}, "answer": 1874}
    rally = ok(spec, put_stops(anna, world.draft, [{"marker_id": first, "task": number}]))
    assert rally["stops"][0]["task"] == {
        **number,
        "tolerance": 0.0,
        "points": 50,
        "attempts": 3,
        "letter": "find",
    }
    # what is not sent stays with the marker; null removes the task
    rally = ok(spec, put_stops(anna, world.draft, [{"marker_id": first}, {"marker_id": second}]))
    assert rally["stops"][0]["task"]["answer"] == 1874
    rally = ok(spec, put_stops(anna, world.draft, [{"marker_id": first, "task": None}]))
    assert rally["stops"][0]["task"] is None
    codes = {
        f["code"] for f in ok(spec, anna.get(f"{API}/rallies/{world.draft}/findings"))["findings"]
    }
    assert "task_options" not in codes and "task_answer" not in codes
    entries = [e for e in audit_entries(app, "rally.stops") if e[2] == world.draft]
    assert len(entries) == 4 and {e[3] for e in entries} == {world.users["anna"]}


def test_the_audit_names_what_changed_in_which_stop(app, world, anna):
    from server.extensions import db
    from server.models import AuditEntry

    first, second, _ = world.anna_markers
    put_stops(
        anna,
        world.draft,
        [
            {"marker_id": first, "clue": {"de": "", "en": "", "de-x-ls": "Geh zum Brunnen."}},
            {"marker_id": second, "hints": HINTS},
        ],
    )
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="rally.stops").one()
        assert entry.detail["stops"] == [
            {"marker_id": first, "changed": ["clue.de-x-ls"]},
            {"marker_id": second, "changed": ["hints"]},
        ]


@pytest.mark.parametrize(
    ("task", "field", "says"),
    [
        ({**CHOICE, "answer": 2}, "stops.0.task.answer", "from 0 to 1"),
        ({**CHOICE, "tolerance": 1}, "stops.0.task.tolerance", "only a number task"),
        ({k: v for k, v in CHOICE.items() if k != "options"}, "stops.0.task.options", "required"),
        ({**CHOICE, "question": {"de": "", "en": " "}}, "stops.0.task.question", "needs a text"),
        (
            {**CHOICE, "options": [{"de": "A", "en": "A"}, {"de": "", "en": ""}]},
            "stops.0.task.options.1",
            "needs a text",
        ),
        (
            {"type": "text", "question": {"de": "Wer?", "en": "Who?"}, "answer": 3},
            "stops.0.task.answer",
            "string",
        ),
        (
            {"type": "number", "question": {"de": "?", "en": "?"}, "answer": "x"},
            "stops.0.task.answer",
            "number",
        ),
    ],
)
def test_a_task_the_rally_file_would_refuse_is_a_422_naming_its_field(
    world, anna, task, field, says
):
    error = assert_error(
        anna.put(
            f"{API}/rallies/{world.draft}/stops",
            json={"stops": [{"marker_id": world.anna_markers[0], "task": task}]},
            headers={"Accept-Language": "en"},
        ),
        422,
        "stop_task_invalid",
    )
    assert error["field"] == field and says in error["message"], error
    german = assert_error(
        anna.put(
            f"{API}/rallies/{world.draft}/stops",
            json={"stops": [{"marker_id": world.anna_markers[0], "task": task}]},
            headers={"Accept-Language": "de"},
        ),
        422,
        "stop_task_invalid",
    )
    assert german["message"].startswith("Die Aufgabe")


@pytest.mark.parametrize(
    ("stop", "field"),
    [
        (
            {"task": {**CHOICE, "options": [{"de": str(i), "en": str(i)} for i in range(7)]}},
            "stops.0.task.options",
        ),
        ({"task": {**CHOICE, "options": [{"de": "A", "en": "A"}]}}, "stops.0.task.options"),
        (
            {"task": {**CHOICE, "question": {"de": "Was\u0000?", "en": "What?"}}},
            "stops.0.task.question.de",
        ),
        ({"task": {**CHOICE, "attempts": 11}}, "stops.0.task.attempts"),
        ({"task": {**CHOICE, "points": -1}}, "stops.0.task.points"),
        ({"task": {**CHOICE, "type": "essay"}}, "stops.0.task.type"),
        ({"task": {**CHOICE, "secret": 1}}, "stops.0.task.secret"),
        (
            {"task": {**CHOICE, "question": {"fr": "Quoi?", "de": "?", "en": "?"}}},
            "stops.0.task.question.fr",
        ),
        ({"hints": HINTS * 2}, "stops.0.hints"),
        ({"hints": [{"text": {"de": "x", "en": "x"}, "cost": -5}]}, "stops.0.hints.0.cost"),
        ({"clue": {"de": "a\u0000b", "en": ""}}, "stops.0.clue.de"),
        ({"task": "choice"}, "stops.0.task"),
    ],
)
def test_hostile_tasks_hints_and_clues_are_refused(world, anna, stop, field):
    marker = world.anna_markers[0]
    error = assert_error(put_stops(anna, world.draft, [{"marker_id": marker, **stop}]), 422)
    assert error["field"] == field, error
    assert len(anna.get(f"{API}/rallies/{world.draft}").get_json()["stops"]) == 3


def test_empty_hint_texts_are_refused_by_the_rally_file_rules(world, anna):
    error = assert_error(
        put_stops(
            anna,
            world.draft,
            [{"marker_id": world.anna_markers[0], "hints": [{"text": {"de": "", "en": ""}}]}],
        ),
        422,
        "stop_hints_invalid",
    )
    assert error["field"] == "stops.0.hints.0.text"


def test_html_in_a_task_is_kept_as_text(world, anna, spec):
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script> & "quotes"'
    task = {
        **CHOICE,
        "question": {"de": hostile, "en": hostile},
        "options": [{"de": hostile, "en": "b"}, {"de": "a", "en": "<b>b</b>"}],
    }
    rally = ok(
        spec,
        put_stops(
            anna,
            world.draft,
            [
                {
                    "marker_id": world.anna_markers[0],
                    "task": task,
                    "hints": [{"text": {"de": hostile, "en": hostile}}],
                }
            ],
        ),
    )
    stop = rally["stops"][0]
    assert stop["task"]["question"]["de"] == hostile
    assert stop["task"]["options"][1]["en"] == "<b>b</b>"
    assert stop["hints"][0]["text"]["en"] == hostile
    page = anna.get(f"/curator/rallies/{world.draft}").get_data(as_text=True)
    assert "<script>alert(2)" not in page


def test_writing_a_clue_records_the_stop_before_and_a_reorder_is_a_finding(world, anna, spec):
    first, second, third = world.anna_markers
    clue = {
        "de": "Vom Brunnen aus links",
        "en": "Left from the fountain",
        "de-x-ls": "Geh nach links.",
    }
    rally = ok(
        spec,
        put_stops(
            anna,
            world.draft,
            [
                {"marker_id": first, "clue": {"de": "Los", "en": "Go"}},
                {"marker_id": second, "clue": clue},
                {"marker_id": third},
            ],
        ),
    )
    assert [s["clue_from"] for s in rally["stops"]] == [None, first, None]
    assert stop_of(rally, second)["clue"] == clue
    assert "clue_predecessor_changed" not in {f["code"] for f in rally["findings"]}
    # the same clue sent again is no new writing: clue_from stays
    rally = ok(
        spec,
        put_stops(
            anna,
            world.draft,
            [{"marker_id": third}, {"marker_id": first}, {"marker_id": second, "clue": clue}],
        ),
    )
    assert stop_of(rally, second)["clue_from"] == first
    assert stop_of(rally, second)["clue"] == clue
    rally = ok(
        spec,
        put_stops(
            anna, world.draft, [{"marker_id": second}, {"marker_id": first}, {"marker_id": third}]
        ),
    )
    found = [f for f in rally["findings"] if f["code"] == "clue_predecessor_changed"]
    assert [(f["stop_index"], f["marker_id"]) for f in found] == [(0, second)]
    assert found[0]["severity"] == "warning"
    # rewriting the clue after the reorder ends the finding
    rally = ok(
        spec,
        put_stops(
            anna,
            world.draft,
            [
                {"marker_id": third},
                {"marker_id": second, "clue": {"de": "Neu", "en": "New"}},
                {"marker_id": first},
            ],
        ),
    )
    assert stop_of(rally, second)["clue_from"] == third
    # languages not sent stay (texts merge, as everywhere)
    assert stop_of(rally, second)["clue"] == {**clue, "de": "Neu", "en": "New"}
    assert "clue_predecessor_changed" not in {f["code"] for f in rally["findings"]}
    # an emptied clue (Leichte Sprache removed with it) forgets where it was written
    rally = ok(
        spec,
        put_stops(
            anna, world.draft, [{"marker_id": second, "clue": {"de": "", "en": "", "de-x-ls": ""}}]
        ),
    )
    assert (
        rally["stops"][0]["clue"] == {"de": "", "en": ""} and rally["stops"][0]["clue_from"] is None
    )


def test_a_rally_is_copied_with_its_stops_for_the_copier(app, world, anna, ben, spec):
    first, second, third = world.anna_markers
    ok(
        spec,
        put_stops(
            anna,
            world.draft,
            [
                {"marker_id": first},
                {
                    "marker_id": second,
                    "clue": {"de": "Hier", "en": "Here"},
                    "task": CHOICE,
                    "hints": HINTS,
                },
                {"marker_id": third},
            ],
        ),
    )
    original = anna.get(f"{API}/rallies/{world.draft}").get_json()
    copy = ok(spec, ben.post(f"{API}/rallies/{world.draft}/copy", json={"slug": "bens-walk"}), 201)
    assert copy["id"] != world.draft and copy["slug"] == "bens-walk"
    assert copy["status"] == "draft" and copy["owner"]["username"] == "ben" and copy["can"]["edit"]
    assert copy["title"] == {"de": "Annas Runde (Kopie)", "en": "Anna's walk (copy)"}
    assert copy["solution_word"] == "ART" and copy["order_mode"] == "fixed"
    keys = ("marker_id", "clue", "clue_from", "task", "hints", "letter")
    assert [{k: s[k] for k in keys} for s in copy["stops"]] == [
        {k: s[k] for k in keys} for s in original["stops"]
    ]
    assert copy["findings"] == original["findings"]
    # the markers are shared, not duplicated; the copy changes apart from the original
    markers = anna.get(f"{API}/markers").get_json()["markers"]
    assert len(markers) == len({m["id"] for m in markers})
    assert {r["slug"] for r in next(m for m in markers if m["id"] == first)["rallies"]} == {
        "annas-walk",
        "bens-walk",
    }
    ok(spec, put_stops(ben, copy["id"], [{"marker_id": second, "task": None}]))
    assert stop_of(anna.get(f"{API}/rallies/{world.draft}").get_json(), second)["task"] == CHOICE
    assert ("rally.copy", "rally", copy["id"], world.users["ben"]) in audit_entries(
        app, "rally.copy"
    )


def test_a_published_rally_is_copied_into_a_draft(world, ada, spec):
    copy = ok(
        spec, ada.post(f"{API}/rallies/{world.demo_rally}/copy", json={"slug": "demo-again"}), 201
    )
    assert copy["status"] == "draft" and copy["published_at"] is None and copy["teams"] == 0
    assert copy["owner"]["username"] == "ada"
    demo = ada.get(f"{API}/rallies/{world.demo_rally}").get_json()
    assert [s["task"] for s in copy["stops"]] == [s["task"] for s in demo["stops"]]


def test_a_copy_needs_a_free_valid_slug_and_a_rally(world, anna):
    error = assert_error(
        anna.post(f"{API}/rallies/{world.draft}/copy", json={"slug": "annas-walk"}),
        409,
        "slug_taken",
    )
    assert error["field"] == "slug"
    assert_error(
        anna.post(f"{API}/rallies/{world.draft}/copy", json={"slug": world.demo_slug}),
        409,
        "slug_taken",
    )
    assert_error(
        anna.post(f"{API}/rallies/{world.draft}/copy", json={"slug": "Bad Slug"}),
        422,
        "slug_invalid",
    )
    assert_error(anna.post(f"{API}/rallies/{world.draft}/copy", json={}), 422, "slug_invalid")
    assert_error(
        anna.post(f"{API}/rallies/99999/copy", json={"slug": "x"}), 404, "curator_rally_not_found"
    )
