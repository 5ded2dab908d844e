"""routes.tasks: the one rule for a right answer, hostile answers, and the points."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routes.model import text
from routes.tasks import (
    MAX_ANSWER_CHARS,
    Hint,
    LetterOn,
    Task,
    TaskAnswerError,
    TaskType,
    normalise,
    parse_number,
)

Q = text(de="Frage", en="Question")
CHOICE = Task(TaskType.CHOICE, Q, (text(de="a"), text(de="b"), text(de="c")), 2)
NUMBER = Task(TaskType.NUMBER, Q, (), 3.5, tolerance=0.1)
YEAR = Task(TaskType.NUMBER, Q, (), 1232)
TEXT = Task(TaskType.TEXT, Q, (), ("Straßenbahn", "Tram"))


def test_defaults():
    assert (CHOICE.tolerance, CHOICE.points, CHOICE.attempts) == (0.0, 50, 3)
    assert CHOICE.letter_on is LetterOn.FIND
    assert Hint(text(de="x")).cost == 10


def test_choice_wants_an_index_in_range():
    assert CHOICE.check(2) and not CHOICE.check(0)


@pytest.mark.parametrize("given", [True, False, 2.0, "2", None, [2], -1, 3, 10**100, math.nan])
def test_choice_refuses_anything_but_an_index_in_range(given):
    with pytest.raises(TaskAnswerError):
        CHOICE.check(given)


@pytest.mark.parametrize(
    ("given", "right"),
    [
        (3.5, True),
        ("3,5", True),
        ("3.5", True),
        (" 3,45 ", True),
        ("3.6", True),  # within 0.1, the float error forgiven
        ("3.61", False),
        (4, False),
        ("-3,5", False),
        (",5", False),
    ],
)
def test_number_accepts_comma_and_point(given, right):
    assert NUMBER.check(given) is right


def test_a_whole_number_matches_exactly_without_tolerance():
    assert YEAR.check(1232) and YEAR.check("1232") and YEAR.check("1232,0")
    assert not YEAR.check(1233) and not YEAR.check("1231.9")


@pytest.mark.parametrize(
    "given",
    [
        True,
        None,
        [3.5],
        {"n": 3.5},
        math.nan,
        math.inf,
        -math.inf,
        "nan",
        "inf",
        "1e3",
        "3,5,0",
        "3.5.0",
        "1_000",
        "",
        "   ",
        "٣",  # an Arabic-Indic digit
        "drei",
        10**400,
        "9" * (MAX_ANSWER_CHARS + 1),
        "3" * 400,
    ],
)
def test_number_refuses_what_is_not_a_finite_number(given):
    with pytest.raises(TaskAnswerError):
        NUMBER.check(given)


def test_parse_number():
    assert parse_number("−2,5") == -2.5  # the minus sign U+2212
    assert parse_number("+7.") == 7.0
    assert parse_number(12) == 12.0


@pytest.mark.parametrize(
    ("given", "right"),
    [
        ("Straßenbahn", True),
        ("STRASSENBAHN", True),
        ("  strassen\tbahn ", False),  # a space inside the word is a different word
        ("Straßenbähn", True),
        ("tram", True),
        ("T r a m", False),
        ("Bus", False),
    ],
)
def test_text_compares_after_normalising(given, right):
    assert TEXT.check(given) is right


@pytest.mark.parametrize("given", [None, 3, ["Tram"], b"Tram", "", "  \n ", "x" * 201])
def test_text_refuses_what_is_not_a_short_string(given):
    with pytest.raises(TaskAnswerError):
        TEXT.check(given)


def test_text_answer_may_be_exactly_the_limit():
    long = "a" * MAX_ANSWER_CHARS
    assert Task(TaskType.TEXT, Q, (), (long,)).check(long)


def test_normalise():
    assert normalise("  Ärger   über\u00a0Öl ") == "arger uber ol"
    assert normalise("Straße") == "strasse" == normalise("STRASSE")
    assert normalise("Ｆｕｌｌ") == "full"  # compatibility forms
    assert normalise("Crème Brûlée") == "creme brulee"


@pytest.mark.parametrize(("wrong", "points"), [(0, 60), (1, 40), (2, 20), (3, 0), (4, 0), (-1, 60)])
def test_points_fall_with_each_wrong_answer(wrong, points):
    assert Task(TaskType.CHOICE, Q, (), 0, points=60).points_for(wrong) == points


def test_points_round_down_and_one_attempt_is_all_or_nothing():
    assert Task(TaskType.TEXT, Q, (), ("a",), points=50, attempts=3).points_for(1) == 33
    one = Task(TaskType.TEXT, Q, (), ("a",), points=50, attempts=1)
    assert (one.points_for(0), one.points_for(1)) == (50, 0)


def test_a_broken_task_judges_without_crashing():
    """Tasks built by hand (the validator reports them) still answer check() sanely."""
    assert not Task(TaskType.NUMBER, Q, (), math.nan).check(3)
    assert not Task(TaskType.TEXT, Q, (), ()).check("a")
    assert Task(TaskType.TEXT, Q, (), "Tram").check("tram")  # type: ignore[arg-type]
    assert Task(TaskType.CHOICE, Q, (), 0, attempts=0).points_for(0) == 0
    with pytest.raises(TaskAnswerError):
        Task(TaskType.CHOICE, Q, (), 0).check(0)


def test_shown_answer():
    assert (CHOICE.shown_answer, NUMBER.shown_answer, TEXT.shown_answer) == (2, 3.5, "Straßenbahn")


@given(st.text(max_size=50))
def test_normalise_is_idempotent(s):
    assert normalise(normalise(s)) == normalise(s)


def _shuffle_form(draw, answer: str) -> str:
    """answer with random case, accents added or decomposed, and spaces around and doubled."""
    out = []
    for c in answer:
        c = c.upper() if draw(st.booleans()) else c.lower()
        if c.isalpha() and c.isascii() and draw(st.booleans()):
            c = unicodedata.normalize(
                draw(st.sampled_from(["NFC", "NFD"])),
                c + draw(st.sampled_from(["\u0301", "\u0308", "\u0300", "\u0327"])),
            )
        out.append(c)
    inner = "".join(out)
    words = inner.split(" ")
    spaces = st.sampled_from([" ", "  ", "\t", "\u00a0"])
    joined = "".join(w + (draw(spaces) if i < len(words) - 1 else "") for i, w in enumerate(words))
    return draw(spaces | st.just("")) + joined + draw(spaces | st.just(""))


words = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzäöüßéABCÄÖÜ"), min_size=1, max_size=8)


@given(st.lists(words, min_size=1, max_size=4).map(" ".join), st.data())
def test_an_accepted_answer_in_any_case_accents_and_spaces_is_right(answer, data):
    task = Task(TaskType.TEXT, Q, (), ("something else", answer))
    given_form = _shuffle_form(data.draw, answer)
    assert len(given_form) <= MAX_ANSWER_CHARS
    assert task.check(given_form), (answer, given_form)


def test_type_and_letter_given_as_strings_become_the_enums():
    task = Task("choice", Q, (text(de="a"), text(de="b")), 0, letter_on="answer")  # type: ignore[arg-type]
    assert task.type is TaskType.CHOICE and task.letter_on is LetterOn.ANSWER
    assert task.check(0)
    with pytest.raises(ValueError):
        Task("essay", Q, (), 0)  # type: ignore[arg-type]


def test_a_huge_whole_number_as_the_answer_or_tolerance_is_never_right():
    assert not Task(TaskType.NUMBER, Q, (), 10**400).check(3)
    assert not Task(TaskType.NUMBER, Q, (), 3, tolerance=10**400).check(3)  # type: ignore[arg-type]
