"""Tasks and hints in the app, without a window: what a typed answer becomes, the texts of the
task card and of the hints, and answers and hints through the outbox against the real server
(offline first, exactly once, a 422 bad_answer final and no attempt used)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from client import i18n, tasks
from client.api import NetworkError
from client.outbox import State
from client.session import GameSession, iso_z
from tests.client.test_session import demo_stops, server_events, walk_to

# --- what a typed answer becomes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "given", "sent"),
    [
        ("number", "1892", 1892),
        ("number", " 3,5 ", 3.5),
        ("number", "-2.25", -2.25),
        ("choice", 2, 2),
        ("choice", 0, 0),
        ("text", "  Kleine Kirche ", "Kleine Kirche"),
    ],
)
def test_parse_answer(kind, given, sent):
    value = tasks.parse_answer(kind, given)
    assert value == sent and type(value) is type(sent)


@pytest.mark.parametrize(
    ("kind", "given", "key"),
    [
        ("number", "", "ui.task.need_number"),
        ("number", "1-2", "ui.task.need_number"),
        ("number", "1,2,3", "ui.task.need_number"),
        ("number", "nan", "ui.task.need_number"),
        ("number", "1e999", "ui.task.need_number"),
        ("choice", None, "ui.task.pick"),
        ("choice", -1, "ui.task.pick"),
        ("choice", True, "ui.task.pick"),
        ("choice", "1", "ui.task.pick"),
        ("text", "   ", "ui.task.need_text"),
        ("text", "x" * 201, "ui.task.too_long"),
    ],
)
def test_parse_answer_refuses_the_wrong_form(kind, given, key):
    with pytest.raises(tasks.AnswerFormError) as caught:
        tasks.parse_answer(kind, given)
    assert caught.value.key == key and i18n.has(key)


def test_the_number_input_lets_through_digits_comma_point_minus():
    assert tasks.number_filter("-1.892,5 Jahre!") == "-1.892,5"


# --- the task card and the hints ----------------------------------------------------------------

TASK = {
    "type": "choice",
    "question": "Whose signature?",
    "options": ["Franz", "Uwe", "Fritz"],
    "points": 50,
    "points_won": 0,
    "attempts_left": 2,
    "solved": False,
    "closed": False,
    "answer": None,
}


def team_with(task=None, **stop):
    return {"found": [{"stop": 10, "task": task, **stop}], "open": []}


def tr(key, **values):
    return i18n.t(key, "en", **values)


def test_task_card_open_waiting_wrong_correct_closed():
    card = tasks.task_card(team_with(TASK), 10, None, False, tr)
    assert card is not None and card.can_answer and card.kind == "choice"
    assert card.options == ("Franz", "Uwe", "Fritz") and card.question == "Whose signature?"
    assert card.info == "Up to 50 points · 2 attempts left" and card.verdict == card.answer == ""

    waiting = tasks.task_card(team_with(TASK), 10, None, True, tr)
    assert not waiting.can_answer and waiting.tone == "waiting"
    assert waiting.verdict == "Answer kept – it will be checked when you are online."

    wrong = {**TASK, "attempts_left": 1}
    card = tasks.task_card(team_with(wrong), 10, {"result": "wrong"}, False, tr)
    assert card.verdict == "Not right. 1 attempts left." and card.can_answer

    closed = {**TASK, "attempts_left": 0, "closed": True, "answer": 2}
    card = tasks.task_card(team_with(closed), 10, {"result": "wrong"}, False, tr)
    assert card.verdict == "Not right. No attempts left." and not card.can_answer
    assert card.answer == "The right answer: Fritz" and card.info == "No attempts left"

    solved = {**TASK, "solved": True, "closed": True, "points_won": 25, "answer": 2}
    card = tasks.task_card(team_with(solved), 10, {"result": "correct", "points": 25}, False, tr)
    assert card.verdict == "Right! +25 points" and card.tone == "correct"
    assert card.info == "Solved: 25 points" and not card.can_answer

    form = tasks.task_card(
        team_with(TASK), 10, {"result": "form", "key": "ui.task.pick"}, False, tr
    )
    assert form.verdict == "Pick one answer." and form.can_answer
    bad = tasks.task_card(team_with(TASK), 10, {"result": "bad_answer"}, False, tr)
    assert "did not cost an attempt" in bad.verdict
    late = tasks.task_card(team_with(TASK), 10, {"result": "task_closed"}, False, tr)
    assert late.verdict == "This task is already over."

    assert tasks.task_card(team_with(None), 10, None, False, tr) is None
    assert tasks.task_card(team_with(TASK), 9, None, False, tr) is None


def test_a_number_answer_in_german_has_a_decimal_comma():
    closed = {**TASK, "type": "number", "options": [], "closed": True, "answer": 3.5}
    i18n.set_language("de")
    try:
        card = tasks.task_card(team_with(closed), 10, None, False, i18n.t)
        assert card.answer == "Die richtige Antwort: 3,5"
    finally:
        i18n.set_language("en")
    year = {**closed, "answer": 1892}
    assert tasks.task_card(team_with(year), 10, None, False, tr).answer.endswith(": 1892")


def test_hint_card():
    stop = {"hints": ["The tower.", "St.-Marien-Platz 1."], "hints_left": 1, "next_hint_cost": 20}
    card = tasks.hint_card(stop, False, tr)
    assert card.taken == "Hint 1: The tower.\n\nHint 2: St.-Marien-Platz 1."
    assert card.button == "Hint (20 points)" and card.cost == 20 and card.waiting == ""
    assert tasks.hint_card({**stop, "next_hint_cost": 0}, False, tr).button == "Hint (free)"
    waiting = tasks.hint_card(stop, True, tr)
    assert waiting.button == "" and waiting.waiting.startswith("Hint asked for")
    none = tasks.hint_card({"hints": [], "hints_left": 0, "next_hint_cost": None}, False, tr)
    assert none.taken == none.button == ""
    assert tasks.hint_card(None, False, tr).button == ""


# --- against the real server ------------------------------------------------------------------


@pytest.fixture
def app(make_app):
    """The walks carry walking-pace times from now on; the server allows them."""
    return make_app(MAX_CLOCK_SKEW_S=86400)


def progress_row(app, team_id: int, marker_id: int):
    """(wrong, solved, points, hints) the server keeps for the team at a marker."""
    from sqlalchemy import select

    from server import models
    from server.extensions import db

    with app.app_context():
        row = db.session.scalar(
            select(models.StopProgress).filter_by(team_id=team_id, marker_id=marker_id)
        )
        return None if row is None else (row.wrong, row.solved, row.points, row.hints)


def first_marker(app, rally_id: int) -> int:
    from server import models
    from server.extensions import db

    with app.app_context():
        return db.session.get(models.Rally, rally_id).stops[0].marker_id


def found_task(session: GameSession, stop: int) -> dict:
    return tasks.found_stop(session.snapshot.team, stop)["task"]


def test_a_hint_then_an_answer_offline_then_checked_online_each_once(
    restartable_server, demo, app, tmp_path
):
    """Stop 1 of the demo: a hint before finding it (online), the find; the server goes away;
    a wrong answer waits in the outbox and says so; back online it is checked (wrong), and a
    second, right answer wins the points; resent with the same ids, nothing counts twice."""
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    start = datetime.now(UTC) + timedelta(seconds=5)
    later = start + timedelta(minutes=5)
    with GameSession(tmp_path / "phone") as session:
        session.set_server(restartable_server.url)
        session.set_language("en")
        session.clock = lambda: later
        team = session.start_rally(slug, "Solvers", "en").result(10)
        team_id = team["id"]
        assert tasks.open_stop(team, 1)["next_hint_cost"] == 10

        assert session.take_hint(1)
        assert session.snapshot.hint_waiting(1)
        assert not session.take_hint(1), "one hint at a time"
        session.sync_now().result(10)
        opened = tasks.open_stop(session.snapshot.team, 1)
        assert opened["hints"] == ["The tower belongs to a Catholic church."]
        assert opened["next_hint_cost"] == 20 and not session.snapshot.hint_waiting(1)

        assert not session.handle_answer(1, "1892"), "no answer before the find"
        walk_to(session, stops[0], start)
        session.sync_now().result(10)
        task = found_task(session, 1)
        assert task["type"] == "number" and task["attempts_left"] == 3 and task["answer"] is None
        assert tasks.found_stop(session.snapshot.team, 1)["letter"] is None, "letter on answer"

        assert not session.handle_answer(1, "twelve")
        assert session.snapshot.verdicts[1] == {"result": "form", "key": "ui.task.need_number"}
        assert session.snapshot.pending == 0, "the wrong form is not sent"

        restartable_server.stop()
        assert session.handle_answer(1, "1890")
        assert not session.handle_answer(1, "1891"), "one answer waits at a time"
        with pytest.raises(NetworkError):
            session.sync_now().result(10)
        snap = session.snapshot
        assert snap.answer_waiting(1) and snap.pending == 1
        card = tasks.task_card(snap.team, 1, snap.verdicts.get(1), snap.answer_waiting(1), tr)
        assert card.verdict == tr("ui.task.waiting") and not card.can_answer

        restartable_server.start()
        session.sync_now().result(10)
        snap = session.snapshot
        assert snap.verdicts[1]["result"] == "wrong" and snap.verdicts[1]["attempts_left"] == 2
        assert found_task(session, 1)["attempts_left"] == 2 and not snap.answer_waiting(1)

        assert session.handle_answer(1, "1892")
        session.sync_now().result(10)
        snap = session.snapshot
        assert snap.verdicts[1] == {"result": "correct", "points": 33, "attempts_left": 0}
        task = found_task(session, 1)
        assert task["solved"] and task["closed"] and task["answer"] == 1892
        assert task["points_won"] == 33
        assert tasks.found_stop(snap.team, 1)["letter"] == "B"
        assert not session.handle_answer(1, "1892"), "a solved task takes no more answers"
        answered = [e.id for e in session.outbox.answered(100)]
        kinds = {e.kind for e in session.outbox.answered(100)}
        assert {"hint", "answer", "checkin"} <= kinds
    marker_id = first_marker(app, rally_id)
    assert progress_row(app, team_id, marker_id) == (1, True, 33, 1)

    db_file = sqlite3.connect(tmp_path / "phone" / "outbox.sqlite3")
    db_file.execute("UPDATE events SET state = 'pending', response = NULL")
    db_file.commit()
    db_file.close()
    with GameSession(tmp_path / "phone") as session:
        session.resume()
        session.sync_now().result(10)
        assert session.snapshot.pending == 0
    assert progress_row(app, team_id, marker_id) == (1, True, 33, 1), "nothing counts twice"
    assert sorted(server_events(app, team_id)) == sorted(answered)


def test_an_answer_of_the_wrong_form_is_refused_once_and_costs_no_attempt(
    live_server, demo, app, tmp_path
):
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    start = datetime.now(UTC) + timedelta(seconds=5)
    with GameSession(tmp_path / "phone") as session:
        session.set_server(live_server)
        session.clock = lambda: start + timedelta(minutes=5)
        session.start_rally(slug, "Formless", "en").result(10)
        walk_to(session, stops[0], start)
        session.sync_now().result(10)
        # what an older app version (or a changed task) could have stored: text for a number
        event_id = session.outbox.put(
            "answer",
            {"stop": 1, "answer": "abc", "recorded_at": iso_z(start + timedelta(minutes=2))},
        )
        session.sync_now().result(10)
        event = session.outbox.get(event_id)
        assert event.state is State.REJECTED and event.error.startswith("bad_answer")
        snap = session.snapshot
        assert snap.pending == 0, "a refusal is final: not sent again"
        assert snap.verdicts[1] == {"result": "bad_answer"}
        assert snap.last_error is None, "the task's verdict, not an error banner"
        assert found_task(session, 1)["attempts_left"] == 3, "no attempt used"
        assert session.handle_answer(1, "1892"), "the player may answer again"
        session.sync_now().result(10)
        assert session.snapshot.verdicts[1]["result"] == "correct"


def test_autoplay_answers_come_from_the_command_line(capsys):
    from client.options import parse_args

    assert parse_args([]).answers == {}
    given = parse_args(["--answers", '{"1": 1892, "7": "Kleine Kirche", "10": 2}']).answers
    assert given == {1: 1892, 7: "Kleine Kirche", 10: 2}
    for bad in ("[1892]", '{"one": 1}', "{"):
        with pytest.raises(SystemExit) as exited:
            parse_args(["--answers", bad])
        assert exited.value.code == 2
        assert "--answers" in capsys.readouterr().err
