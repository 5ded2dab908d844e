"""Progress: the stops found, the solution so far, the leaderboard, the team's join code."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import datetime
from typing import Any

from kivy.clock import Clock, mainthread
from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from client import tasks
from client.screens.base import GameScreen

LEAVE_CONFIRM_S = 4.0


def clock_time(iso: str | None) -> str:
    """ "18:42" from an RFC 3339 time, in the phone's local time zone."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone().strftime("%H:%M")
    except ValueError:
        return ""


def duration_text(seconds: float | None) -> str:
    """ "1:05:09" or "5:09" (hours only when there are any)."""
    if seconds is None:
        return ""
    s = max(int(seconds), 0)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressScreen(GameScreen):
    headline = StringProperty("")
    letters = StringProperty("")
    join_text = StringProperty("")
    board_note = StringProperty("")
    found = NumericProperty(0)
    total = NumericProperty(0)
    leaving = BooleanProperty(False)
    """The leave button was tapped once; a second tap within LEAVE_CONFIRM_S leaves."""

    def __init__(self, **kwargs: Any) -> None:
        self._found_key: tuple = ()
        self._board: dict[str, Any] | None = None
        super().__init__(**kwargs)

    def on_pre_enter(self, *_: Any) -> None:
        super().on_pre_enter()
        self.load_board()

    def show(self, snap: Any) -> None:
        found, total = snap.progress
        if found != self.found and self._board is not None:
            self.load_board()
        self.found, self.total = found, total
        self.headline = self.tr("ui.progress.found", found=found, total=total)
        self.letters = snap.solution or ""
        code = snap.join_code or self.app.session_settings().join_code
        self.join_text = self.tr("ui.progress.join_code", code=code) if code else ""
        rows = tuple(
            (
                f"{f.get('stop')}. {f.get('title', '')}",
                self.tr(f"ui.method.{f.get('method', 'gps')}")
                + " "
                + clock_time(f.get("found_at")),
                int(f.get("stop", 0)),
                tasks.task_line(f, self.tr),
            )
            for f in snap.found
        )
        if rows != self._found_key:
            self._found_key = rows
            box = self.ids.found
            box.clear_widgets()
            for left, right, stop, task in rows or ((self.tr("ui.reveal.none"), "", 0, ""),):
                box.add_widget(self._row(left, right))
                if task:
                    box.add_widget(self._task_button(stop, task))

    def _row(self, left: str, right: str, strong: bool = False) -> Any:
        row = Factory.Row()
        row.left_text, row.right_text, row.strong = left, right, strong
        return row

    def _task_button(self, stop: int, line: str) -> Any:
        """Opens the found stop's task on the reveal screen."""
        button = Factory.Action(text=f"{self.tr('ui.task.title')} · {line}")
        button.bind(on_release=lambda _b: self.app.show_found(stop))
        return button

    def leave(self) -> None:
        """Leave the rally on the second tap (a team's game is not lost by one slip)."""
        if self.leaving:
            self.leaving = False
            self.app.leave_rally()
            return
        self.leaving = True
        Clock.schedule_once(lambda _dt: setattr(self, "leaving", False), LEAVE_CONFIRM_S)

    def load_board(self) -> None:
        if self.app is None or self.app.session is None or not self.app.joined:
            return
        self.app.session.leaderboard().add_done_callback(self._board_loaded)

    @mainthread
    def _board_loaded(self, future: Future) -> None:
        exc = future.exception()
        if exc is not None:
            self.board_note = self.app.session.describe_error(exc)
            return
        self.board_note = ""
        self._board = future.result()
        self.fill_board()

    def fill_board(self) -> None:
        board = self._board or {"entries": []}
        box = self.ids.board
        box.clear_widgets()
        me = (self.snapshot.team or {}).get("name") if self.snapshot else None
        total = board.get("total_stops", self.total)
        for e in board.get("entries", [])[:20]:
            right = self.tr("ui.progress.score", found=e["found"], total=total, score=e["score"])
            if e.get("finished"):
                right += " · " + duration_text(e.get("duration_s"))
            box.add_widget(self._row(f"{e['rank']}. {e['team']}", right, strong=e["team"] == me))
        if not board.get("entries"):
            box.add_widget(self._row(self.tr("ui.progress.no_entries"), ""))

    def on_language(self) -> None:
        self._found_key = ()
        super().on_language()
        if self._board is not None:
            self.fill_board()
