"""Tasks and hints through the player API: answers, attempts, points, hints, exactly once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.helpers import (
    API,
    assert_error,
    bearer,
    demo_stops,
    get_team,
    let_time_pass,
    new_event_id,
    new_team,
    qr_url,
    scan,
)

CHOICE = {
    "type": "choice",
    "question": {"de": "Welche Farbe?", "en": "Which colour?", "de-x-ls": "Welche Farbe?"},
    "options": [
        {"de": "Rot", "en": "Red"},
        {"de": "Blau", "en": "Blue"},
        {"de": "Grün", "en": "Green"},
    ],
    "answer": 1,
    "points": 60,
    "attempts": 3,
    "letter": "answer",
}
NUMBER = {
    "type": "number",
    "question": {"de": "Welches Jahr?", "en": "Which year?"},
    "answer": 1874,
    "tolerance": 0,
    "points": 40,
    "attempts": 2,
}
TEXT = {
    "type": "text",
    "question": {"de": "Wer?", "en": "Who?"},
    "answer": ["Pfalzgalerie", "Pfalz-Galerie"],
    "points": 50,
    "attempts": 3,
}
HINTS = [
    {"text": {"de": "Am Brunnen", "en": "At the fountain"}, "cost": 10},
    {"text": {"de": "Links", "en": "On the left"}, "cost": 20},
]


def _set_stops(app, rally_id: int, tasks: dict[int, dict | None], hints: dict[int, list]) -> None:
    from server import models
    from server.extensions import db

    with app.app_context():
        rally = db.session.get(models.Rally, rally_id)
        for stop in rally.stops:
            stop.task = tasks.get(stop.position)
            stop.hints = hints.get(stop.position, [])
        db.session.commit()


@pytest.fixture
def tasked(app, demo):
    """The demo rally with a choice task at stop 1, a number task at stop 2, a text task at
    stop 3 and two hints at stop 1."""
    slug, rally_id = demo
    _set_stops(app, rally_id, {0: CHOICE, 1: NUMBER, 2: TEXT}, {0: HINTS})
    return slug, rally_id


def answer(client, token: str, stop: int, value: Any, event_id: str | None = None):
    body = {"stop": stop, "answer": value, "client_event_id": event_id or new_event_id()}
    return client.post(f"{API}/team/answers", json=body, headers=bearer(token))


def hint(client, token: str, stop: int, event_id: str | None = None):
    body = {"stop": stop, "client_event_id": event_id or new_event_id()}
    return client.post(f"{API}/team/hints", json=body, headers=bearer(token))


def find(app, client, token: str, rally_id: int, index: int) -> dict[str, Any]:
    """Scan stop ``index``'s QR code after a walk's worth of time."""
    team_id = get_team(client, token)["id"]
    let_time_pass(app, team_id, 1800)
    stop = demo_stops(app, rally_id)[index]
    resp = scan(client, token, qr_url(app, rally_id, stop.marker_id))
    assert resp.status_code == 200 and resp.get_json()["result"] == "found", resp.get_json()
    return resp.get_json()


def found_stop(team: dict[str, Any], number: int) -> dict[str, Any]:
    return next(f for f in team["found"] if f["stop"] == number)


def test_a_task_opens_when_its_marker_is_found_and_keeps_its_answer_until_closed(
    app, client, tasked
):
    slug, rally_id = tasked
    token = new_team(client, slug, "Fragende")
    assert answer(client, token, 1, 1).get_json()["result"] == "not_found"
    result = find(app, client, token, rally_id, 0)
    task = found_stop(result["team"], 1)["task"]
    assert task == {
        "type": "choice",
        "question": "Which colour?",
        "options": ["Red", "Blue", "Green"],
        "points": 60,
        "points_won": 0,
        "attempts_left": 3,
        "solved": False,
        "closed": False,
        "answer": None,
    }
    assert found_stop(result["team"], 1)["letter"] is None, "letter waits for the answer"
    wrong = answer(client, token, 1, 0).get_json()
    assert (wrong["result"], wrong["correct"], wrong["attempts_left"]) == ("wrong", False, 2)
    right = answer(client, token, 1, 1).get_json()
    assert (right["result"], right["correct"], right["points"]) == ("correct", True, 40)
    stop = found_stop(right["team"], 1)
    assert stop["task"]["solved"] and stop["task"]["answer"] == 1
    assert stop["letter"] is not None
    again = answer(client, token, 1, 1).get_json()
    assert (again["result"], again["points"]) == ("task_closed", 0)
    assert right["team"]["score"] == again["team"]["score"]


def test_used_up_attempts_close_the_task_and_show_the_answer(app, client, tasked):
    slug, rally_id = tasked
    token = new_team(client, slug, "Ratende")
    find(app, client, token, rally_id, 0)
    find(app, client, token, rally_id, 1)
    assert answer(client, token, 2, "1875").get_json()["attempts_left"] == 1
    last = answer(client, token, 2, 1900.5).get_json()
    assert (last["correct"], last["attempts_left"], last["points"]) == (False, 0, 0)
    task = found_stop(last["team"], 2)["task"]
    assert task["closed"] and not task["solved"] and task["answer"] == 1874
    assert answer(client, token, 2, 1874).get_json()["result"] == "task_closed"


def test_text_answers_ignore_case_accents_and_spaces(app, client, tasked):
    slug, rally_id = tasked
    token = new_team(client, slug, "Schreibende")
    for i in range(3):
        find(app, client, token, rally_id, i)
    assert answer(client, token, 3, "  pfälz-GALERIE ").get_json()["correct"] is True


def test_an_event_id_counts_once_for_answers_and_hints(app, client, tasked):
    slug, rally_id = tasked
    token = new_team(client, slug, "Doppelte")
    first_hint = new_event_id()
    taken = hint(client, token, 1, first_hint).get_json()
    assert taken["hint"] == {"number": 1, "text": "At the fountain", "cost": 10}
    assert hint(client, token, 1, first_hint).get_json() == taken
    assert get_team(client, token)["open"][0]["hints"] == ["At the fountain"]
    find(app, client, token, rally_id, 0)
    event = new_event_id()
    first = answer(client, token, 1, 2, event).get_json()
    replay = answer(client, token, 1, 2, event).get_json()
    assert replay == first and replay["attempts_left"] == 2
    assert found_stop(get_team(client, token), 1)["task"]["attempts_left"] == 2


def test_hints_one_at_a_time_at_their_cost_and_no_more_than_there_are(app, client, tasked):
    slug, rally_id = tasked
    token = new_team(client, slug, "Hinweise")
    one = hint(client, token, 1).get_json()
    two = hint(client, token, 1).get_json()
    assert [one["hint"]["number"], two["hint"]["number"]] == [1, 2]
    assert two["team"]["open"][0]["hints_left"] == 0
    none = hint(client, token, 1).get_json()
    assert (none["result"], none["hint"]) == ("no_hint", None)
    assert hint(client, token, 2).get_json()["result"] == "no_hint", "stop 2 has no hints"
    find(app, client, token, rally_id, 0)
    team = get_team(client, token)
    assert team["score"] == 100 - 30, "a find's points less both hints"


@pytest.mark.parametrize(
    ("stop", "value", "status", "code"),
    [
        (0, 1, 422, None),
        (99, 1, 422, "no_such_stop"),
        (1, "Blue", 422, "bad_answer"),
        (1, 7, 422, "bad_answer"),
        (1, True, 422, None),
        (1, None, 422, None),
        (1, [1], 422, None),
        (1, "a\x00b", 422, None),
        (1, "x" * 201, 422, None),
    ],
)
def test_hostile_answers_are_refused_and_use_no_attempt(
    app, client, tasked, stop, value, status, code
):
    slug, rally_id = tasked
    token = new_team(client, slug, "Feindlich")
    find(app, client, token, rally_id, 0)
    assert_error(answer(client, token, stop, value), status, code)
    assert found_stop(get_team(client, token), 1)["task"]["attempts_left"] == 3


def test_answers_need_the_team_token(client, tasked):
    assert_error(client.post(f"{API}/team/answers", json={}), 401, "token_missing")


def test_the_demo_rally_played_with_its_tasks_and_hints(app, client, demo):
    """Every stop of the demo found, every hint taken, each task answered wrong once, then right;
    both answers sent again (with the other answer inside) change nothing."""
    from server import models
    from server.extensions import db

    slug, rally_id = demo
    with app.app_context():
        rows = db.session.get(models.Rally, rally_id).stops
        tasks = {s.position: s.task for s in rows if s.task}
        hints = {s.position: len(s.hints or []) for s in rows}
    assert len(tasks) == 3 and {t["type"] for t in tasks.values()} == {"choice", "number", "text"}
    assert sum(1 for n in hints.values() if n) >= 4
    token = new_team(client, slug, "Demo-Team", language="de-x-ls")
    costs = won = 0
    for index in range(len(demo_stops(app, rally_id))):
        for _ in range(hints[index]):
            taken = hint(client, token, index + 1).get_json()
            assert taken["result"] == "hint" and taken["hint"]["text"], taken
            costs += taken["hint"]["cost"]
        find(app, client, token, rally_id, index)
        task = tasks.get(index)
        if task is None:
            continue
        shown = found_stop(get_team(client, token), index + 1)["task"]
        assert shown["question"] and shown["answer"] is None
        wrong_id, right_id = new_event_id(), new_event_id()
        wrong = answer(client, token, index + 1, _wrong(task), wrong_id).get_json()
        assert wrong["correct"] is False
        right = answer(client, token, index + 1, _right(task), right_id).get_json()
        assert right["correct"] is True, (index, right)
        for event_id, first in ((wrong_id, wrong), (right_id, right)):
            value = _right(task) if event_id == wrong_id else _wrong(task)
            assert answer(client, token, index + 1, value, event_id).get_json() == first
        won += right["points"]
    team = get_team(client, token)
    assert team["finished"] and all(team["letters"])
    finds = 100 * len(team["found"]) + 200
    assert team["score"] == max(finds + won - costs, 0)


def _right(task: dict[str, Any]) -> Any:
    answer = task["answer"]
    return answer[0] if isinstance(answer, list) else answer


def _wrong(task: dict[str, Any]) -> Any:
    if task["type"] == "choice":
        return (task["answer"] + 1) % len(task["options"])
    if task["type"] == "number":
        return task["answer"] + task.get("tolerance", 0) + 1000
    return "ganz sicher falsch"
