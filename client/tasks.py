"""Tasks and hints as the app shows them: what a player typed turned into an answer the server
takes, and the texts of a found stop's task card and of an open stop's hints. No Kivy.

The server decides right or wrong (the app never knows the right answer before the task is over);
an answer given offline waits in the outbox, and the card says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from client import i18n

MAX_TEXT = 200
"""The longest text answer the server takes (routes.tasks)."""
NUMBER_CHARS = frozenset("0123456789,.-")
"""What a number answer may be typed with (the numeric input's filter)."""

Tr = Callable[..., str]


class AnswerFormError(ValueError):
    """What the player gave does not fit the task's type; ``key`` names the text that says so."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def number_filter(text: str, _from_undo: bool = False) -> str:
    """The characters of text a number answer may hold (digits, comma, point, minus)."""
    return "".join(c for c in text if c in NUMBER_CHARS)


def parse_answer(kind: str, given: object) -> int | float | str:
    """The answer to send for a task of type kind: choice an option's index, number a finite
    number ("1.892,5" is not one; "3,5" and "-2" are), text the trimmed string.

    Raises AnswerFormError with the key of the text that explains what is wrong.
    """
    if kind == "choice":
        if isinstance(given, bool) or not isinstance(given, int) or given < 0:
            raise AnswerFormError("ui.task.pick")
        return given
    text = str(given if given is not None else "").strip()
    if kind == "number":
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            raise AnswerFormError("ui.task.need_number") from None
        if not math.isfinite(value) or not text:
            raise AnswerFormError("ui.task.need_number")
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if not text:
        raise AnswerFormError("ui.task.need_text")
    if len(text) > MAX_TEXT:
        raise AnswerFormError("ui.task.too_long")
    return text


def found_stop(team: Mapping[str, Any] | None, stop: int) -> Mapping[str, Any] | None:
    """The team's found stop number stop (server JSON), or None."""
    for f in (team or {}).get("found", ()):
        if f.get("stop") == stop:
            return f
    return None


def open_stop(team: Mapping[str, Any] | None, stop: int) -> Mapping[str, Any] | None:
    """The team's open stop number stop (server JSON), or None."""
    for o in (team or {}).get("open", ()):
        if o.get("stop") == stop:
            return o
    return None


def task_open(task: Mapping[str, Any] | None) -> bool:
    """The task may still be answered."""
    return bool(task) and not task.get("solved") and not task.get("closed")  # type: ignore[union-attr]


def answer_text(task: Mapping[str, Any]) -> str:
    """The right answer the server shows once the task is over, as the player reads it."""
    answer = task.get("answer")
    if answer is None:
        return ""
    if task.get("type") == "choice":
        options = task.get("options") or []
        return str(options[answer]) if isinstance(answer, int) and answer < len(options) else ""
    if task.get("type") == "number" and isinstance(answer, int | float):
        if float(answer).is_integer():
            return str(int(answer))
        text = f"{answer:g}"
        return text.replace(".", ",") if i18n.get_language().startswith("de") else text
    return str(answer)


@dataclass(frozen=True)
class TaskCard:
    """The texts and state of a found stop's task, for the screen to show."""

    stop: int
    kind: str
    """choice, number or text."""
    question: str
    options: tuple[str, ...]
    info: str
    """What it is worth and how many attempts are left, or what it earned."""
    verdict: str
    """What the server said to the latest answer, or that it waits; "" for nothing yet."""
    tone: str
    """How the verdict looks: correct, wrong, waiting or "" (plain)."""
    answer: str
    """The right answer, once the task is over ("" before)."""
    can_answer: bool
    """The input and the submit button are offered (open, and no answer waiting)."""


def task_card(
    team: Mapping[str, Any] | None,
    stop: int,
    verdict: Mapping[str, Any] | None,
    waiting: bool,
    tr: Tr,
) -> TaskCard | None:
    """The task card of found stop number stop, or None when it has no task (or is not found).

    verdict: the server's latest answer for the stop (result, points, attempts_left), or the
    app's own {"result": "form", "key": ...} for an answer it could not send; waiting: an
    answer for the stop waits in the outbox.
    """
    found = found_stop(team, stop)
    task = found.get("task") if found else None
    if not task:
        return None
    left = int(task.get("attempts_left", 0))
    if task.get("solved"):
        info = tr("ui.task.solved", points=task.get("points_won", 0))
    elif task.get("closed"):
        info = tr("ui.task.closed")
    else:
        info = tr("ui.task.worth", points=task.get("points", 0), attempts=left)
    result = (verdict or {}).get("result")
    text, tone = "", ""
    if waiting:
        text, tone = tr("ui.task.waiting"), "waiting"
    elif result == "correct":
        text, tone = tr("ui.task.correct", points=verdict.get("points", 0)), "correct"  # type: ignore[union-attr]
    elif result == "wrong":
        key = "ui.task.wrong" if task_open(task) else "ui.task.wrong_last"
        text, tone = tr(key, attempts=left), "wrong"
    elif result == "form":
        text, tone = tr(str(verdict.get("key"))), "wrong"  # type: ignore[union-attr]
    elif result == "bad_answer":
        text, tone = tr("ui.task.bad_answer"), "wrong"
    elif result in ("task_closed", "not_found", "no_task"):
        text, tone = tr(f"result.{result}"), "wrong"
    shown = answer_text(task)
    return TaskCard(
        stop=stop,
        kind=str(task.get("type", "text")),
        question=str(task.get("question") or ""),
        options=tuple(str(o) for o in task.get("options") or ()),
        info=info,
        verdict=text,
        tone=tone,
        answer=tr("ui.task.answer_was", answer=shown) if shown else "",
        can_answer=task_open(task) and not waiting,
    )


def task_line(found: Mapping[str, Any], tr: Tr) -> str:
    """One line on a found stop's task for the progress list ("" without a task)."""
    task = found.get("task")
    if not task:
        return ""
    if task.get("solved"):
        return tr("ui.task.solved", points=task.get("points_won", 0))
    if task.get("closed"):
        return tr("ui.task.closed")
    return tr("ui.task.open_line")


@dataclass(frozen=True)
class HintCard:
    """The hints of an open stop: those taken, and whether (and for how much) one more is."""

    taken: str
    """The hints taken, one paragraph each ("" for none)."""
    button: str
    """The text of the button that asks for the next hint ("" when none is left)."""
    cost: int
    waiting: str
    """The hint asked for waits in the outbox ("" when not)."""


def hint_card(stop_json: Mapping[str, Any] | None, waiting: bool, tr: Tr) -> HintCard:
    """The hint part of an open stop's card (stop_json: the team's open stop)."""
    stop_json = stop_json or {}
    hints = [str(h) for h in stop_json.get("hints") or ()]
    taken = "\n\n".join(tr("ui.hint.line", number=i + 1, text=text) for i, text in enumerate(hints))
    cost = stop_json.get("next_hint_cost")
    offered = bool(stop_json.get("hints_left")) and cost is not None and not waiting
    if not offered:
        button = ""
    elif cost:
        button = tr("ui.hint.button", cost=cost)
    else:
        button = tr("ui.hint.free")
    return HintCard(
        taken=taken,
        button=button,
        cost=int(cost or 0),
        waiting=tr("ui.hint.waiting") if waiting else "",
    )
