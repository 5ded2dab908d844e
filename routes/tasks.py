"""Tasks at the stops (a question that opens once the marker is found) and hints: pure data and
the one rule for a right answer. The rally file (routes/rallyfile.py) and the validator
(routes/validate.py) check a task's own numbers; check() only judges a given answer."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from markers.i18n import Text

MAX_ANSWER_CHARS = 200
"""A given answer (text, or a number written as text) longer than this is refused."""

MAX_OPTIONS = 6
MIN_OPTIONS = 2
MAX_HINTS = 3
MAX_ATTEMPTS = 10
DEFAULT_POINTS = 50
DEFAULT_ATTEMPTS = 3
DEFAULT_HINT_COST = 10

_NUMBER = re.compile(r"[+\-\u2212]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")
"""A number as a player types it: digits with one "," or "." as the decimal mark."""


class TaskType(StrEnum):
    """CHOICE: pick one of the options. NUMBER: a number, within a tolerance. TEXT: a short text."""

    CHOICE = "choice"
    NUMBER = "number"
    TEXT = "text"


class LetterOn(StrEnum):
    """When a stop's solution letter shows: on finding its marker, or once its task is done."""

    FIND = "find"
    ANSWER = "answer"


class TaskAnswerError(ValueError):
    """An answer of the wrong form for its task (not a wrong answer): it uses no attempt."""


@dataclass(frozen=True)
class Hint:
    """A hint for finding a stop or answering its task; taking it costs ``cost`` points."""

    text: Text
    cost: int = DEFAULT_HINT_COST


@dataclass(frozen=True)
class Task:
    """A question at a stop. ``answer``: the right option's 0-based index (CHOICE), a number
    (NUMBER, right within ``tolerance``) or the accepted texts (TEXT)."""

    type: TaskType
    question: Text
    options: tuple[Text, ...]
    answer: int | float | tuple[str, ...]
    tolerance: float = 0.0
    points: int = DEFAULT_POINTS
    attempts: int = DEFAULT_ATTEMPTS
    letter_on: LetterOn = LetterOn.FIND

    def __post_init__(self) -> None:
        # "choice" and "answer" as read from JSON become the enums (ValueError when unknown).
        object.__setattr__(self, "type", TaskType(self.type))
        object.__setattr__(self, "letter_on", LetterOn(self.letter_on))

    @property
    def accepted(self) -> tuple[str, ...]:
        """The accepted answers of a TEXT task (empty for the other types)."""
        if self.type is not TaskType.TEXT:
            return ()
        answer: object = self.answer
        if isinstance(answer, str):
            return (answer,)
        if isinstance(answer, tuple | list):
            return tuple(a for a in answer if isinstance(a, str))
        return ()

    @property
    def shown_answer(self) -> int | float | str | None:
        """The right answer as a player is shown it once the task is over: the option's index,
        the number, or the first accepted text."""
        if self.type is TaskType.TEXT:
            return next(iter(self.accepted), None)
        return self.answer  # type: ignore[return-value]

    def check(self, given: object) -> bool:
        """Whether ``given`` is right; TaskAnswerError when it has the wrong form for the task."""
        if self.type is TaskType.CHOICE:
            if isinstance(given, bool) or not isinstance(given, int):
                raise TaskAnswerError(f"a choice wants an option's index, got {_kind(given)}")
            if not 0 <= given < len(self.options):
                raise TaskAnswerError(f"no option has the index {given}")
            return given == self.answer
        if self.type is TaskType.NUMBER:
            value = parse_number(given)
            right, tolerance = finite(self.answer), finite(self.tolerance)
            if right is None or tolerance is None:
                return False
            slack = max(tolerance, 0.0) + 1e-9 * max(1.0, abs(right))
            return abs(value - right) <= slack
        if not isinstance(given, str):
            raise TaskAnswerError(f"a text answer must be a string, got {_kind(given)}")
        if len(given) > MAX_ANSWER_CHARS:
            raise TaskAnswerError(f"an answer may have at most {MAX_ANSWER_CHARS} characters")
        said = normalise(given)
        if not said:
            raise TaskAnswerError("the answer is empty")
        return any(said == normalise(a) for a in self.accepted)

    def points_for(self, wrong: int) -> int:
        """Points for a right answer after ``wrong`` wrong ones: fewer with each, 0 once used up."""
        wrong = max(wrong, 0)
        if wrong >= self.attempts:
            return 0
        return self.points * (self.attempts - wrong) // self.attempts


def parse_number(given: object) -> float:
    """A finite number from a number or a numeric string ("3,5" and "3.5" both give 3.5)."""
    if isinstance(given, bool):
        raise TaskAnswerError("a number task wants a number, got a boolean")
    if isinstance(given, int | float):
        try:
            value = float(given)
        except OverflowError:
            raise TaskAnswerError("the number is too large") from None
    elif isinstance(given, str):
        if len(given) > MAX_ANSWER_CHARS:
            raise TaskAnswerError(f"an answer may have at most {MAX_ANSWER_CHARS} characters")
        written = given.strip()
        if not _NUMBER.fullmatch(written):
            raise TaskAnswerError(f"not a number: {given[:20]!r}")
        value = float(written.replace(",", ".").replace("\u2212", "-"))
    else:
        raise TaskAnswerError(f"a number task wants a number, got {_kind(given)}")
    if not math.isfinite(value):
        raise TaskAnswerError(f"the number must be finite, got {value}")
    return value


def finite(x: object) -> float | None:
    """x as a finite float, or None when it is not a finite number (bools are not numbers)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    try:
        value = float(x)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def normalise(s: str) -> str:
    """``s`` for comparing answers: casefolded, accents removed, ß as ss, spaces collapsed."""
    folded = _strip_marks(_strip_marks(s).casefold())
    return " ".join(folded.split())


def _strip_marks(s: str) -> str:
    decomposed = unicodedata.normalize("NFKD", s)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return type(value).__name__
