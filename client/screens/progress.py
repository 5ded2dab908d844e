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
    leave_warning = StringProperty("")
    """Leave was tapped while events wait in the outbox: how many (leaving would drop them)."""
    leave_waiting = BooleanProperty(False)
    """The player chose to wait: leave once the outbox is empty."""

    def __init__(self, **kwargs: Any) -> None:
        self._found_key: tuple = ()
        self._board: dict[str, Any] | None = None
        super().__init__(**kwargs)

    def on_pre_enter(self, *_: Any) -> None:
        super().on_pre_enter()
        self.load_board()

    def show(self, snap: Any) -> None:
        if self.leave_waiting and snap.pending == 0:
            self.leave_anyway()
            return
        if self.leave_warning:
            self.leave_warning = self._pending_text(snap.pending)
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
                box.add_widget(self._found_row(left, right, stop) if stop else self._row(left, ""))
                if task:
                    box.add_widget(self._task_button(stop, task))

    def _row(self, left: str, right: str, strong: bool = False) -> Any:
        row = Factory.Row()
        row.left_text, row.right_text, row.strong = left, right, strong
        return row

    def _found_row(self, left: str, right: str, stop: int) -> Any:
        """A found stop: tapped, its reveal (story, letter, image, task) opens again."""
        row = Factory.FoundRow()
        row.left_text, row.right_text = left, right
        row.bind(on_release=lambda _r: self.app.show_found(stop))
        return row

    def _task_button(self, stop: int, line: str) -> Any:
        """Opens the found stop's task on the reveal screen."""
        button = Factory.Action(text=f"{self.tr('ui.task.title')} · {line}")
        button.bind(on_release=lambda _b: self.app.show_found(stop))
        return button

    def leave(self) -> None:
        """Leave the rally on the second tap (a team's game is not lost by one slip); while
        events wait to be sent, say how many and offer to wait instead."""
        pending = self.snapshot.pending if self.snapshot is not None else 0
        if pending:
            self.leaving = False
            self.leave_warning = self._pending_text(pending)
            Clock.schedule_once(lambda _dt: self.children[0].scroll_to(self.ids.leave_card), 0)
            return
        if self.leaving:
            self.leaving = False
            self.app.leave_rally()
            return
        self.leaving = True
        Clock.schedule_once(lambda _dt: setattr(self, "leaving", False), LEAVE_CONFIRM_S)

    def _pending_text(self, pending: int) -> str:
        if not pending:
            return self.tr("ui.progress.leave_all_sent")
        return self.tr("ui.progress.leave_pending", count=pending)

    def wait_and_send(self) -> None:
        """Send what waits now, and leave once all is sent."""
        self.leave_waiting = True
        if self.app.session is not None:
            self.app.session.sync_now()

    def leave_anyway(self) -> None:
        """Leave now; what still waits is dropped."""
        self.leave_warning, self.leave_waiting, self.leaving = "", False, False
        self.app.leave_rally()

    def keep_playing(self) -> None:
        self.leave_warning, self.leave_waiting = "", False

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
