"""Reveal: what the server answered to a find: the story, the image, the letter, the next clue;
and the stop's task, if it has one. New finds are shown one after the other from the session's
reveal queue ("Next (2 more)"); an earlier find is opened again from the progress screen."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from client import reveals, tasks
from client.screens.base import GameScreen

TONE_RGBA = {
    "correct": (0.0, 0.42, 0.16, 1),
    "wrong": (0.7, 0.05, 0.05, 1),
    "waiting": (0.03, 0.2, 0.5, 1),
    "": (0.06, 0.06, 0.06, 1),
}


class TaskCard(BoxLayout):
    """A found stop's task: question, options or input, submit, the verdict (see reveal.kv)."""

    stop = NumericProperty(0)
    kind = StringProperty("")
    question = StringProperty("")
    info = StringProperty("")
    verdict = StringProperty("")
    tone = StringProperty("")
    answer = StringProperty("")
    can_answer = BooleanProperty(False)
    number_filter = staticmethod(tasks.number_filter)

    def __init__(self, **kwargs: Any) -> None:
        self._task_key: tuple = ()
        super().__init__(**kwargs)

    def fill(self, card: tasks.TaskCard) -> None:
        """Show card; a different task (another stop) starts with an empty input."""
        key = (card.stop, card.kind, card.question, card.options)
        if key != self._task_key:
            self._task_key = key
            self.ids.entry.text = ""
            box = self.ids.options
            box.clear_widgets()
            for i, option in enumerate(card.options):
                button = Factory.Choice(text=option, group=f"task-{card.stop}")
                button.index = i
                box.add_widget(button)
        self.stop, self.kind, self.question = card.stop, card.kind, card.question
        self.info, self.verdict, self.tone = card.info, card.verdict, card.tone
        self.answer, self.can_answer = card.answer, card.can_answer
        for button in self.ids.options.children:
            button.disabled = not card.can_answer

    def given(self) -> Any:
        """What the player chose or typed (None: no option chosen)."""
        if self.kind == "choice":
            down = [b for b in self.ids.options.children if b.state == "down"]
            return down[0].index if down else None
        return self.ids.entry.text

    def submit(self) -> None:
        from kivy.app import App

        App.get_running_app().answer_task(self.stop, self.given())

    def tone_rgba(self, tone: str) -> tuple[float, ...]:
        return TONE_RGBA.get(tone, TONE_RGBA[""])


class RevealScreen(GameScreen):
    headline = StringProperty("")
    story = StringProperty("")
    letter = StringProperty("")
    image_source = StringProperty("")
    next_clue = StringProperty("")
    story_key = StringProperty("story")
    """Names the story for read aloud: a new find's story is another text."""
    has_task = BooleanProperty(False)
    chosen = NumericProperty(0)
    """The stop shown (an earlier find chosen on the progress screen); 0: the next new find."""
    more = NumericProperty(0)
    """How many new finds wait after the one shown."""
    queued = NumericProperty(0)
    """The stop of the new find shown (from the reveal queue); 0: none."""

    def on_chosen(self, *_: Any) -> None:
        if self.snapshot is not None and self.shown:
            self.show(self.snapshot)

    def button_text(self, chosen: int, more: int, _lang: str) -> str:
        if chosen:
            return self.tr("ui.reveal.back")
        if more:
            return self.tr("ui.reveal.next_find", count=more)
        return self.tr("ui.reveal.continue")

    def go_on(self) -> None:
        """The button under the reveal: the next new find, or back to the game (or, for an
        earlier find, back to the list of finds)."""
        if self.chosen:
            self.app.show_screen("progress")
            return
        self._seen()
        session = self.app.session
        if session is not None and session.snapshot.reveals:
            self.snapshot = session.snapshot
            self.show(self.snapshot)
            self.children[0].scroll_y = 1
            return
        self.app.show_screen("progress" if self.app.finished else "clue")

    def on_leave(self, *_: Any) -> None:
        """A new find shown counts as seen once the player leaves it, whichever way."""
        self._seen()

    def _seen(self) -> None:
        if self.queued and self.app.session is not None:
            stop, self.queued = self.queued, 0
            self.app.session.reveal_seen(stop)

    def show(self, snap: Any) -> None:
        reveal = snap.last_reveal
        if self.chosen:
            stop: Any = self.chosen
            self.queued = self.more = 0
        elif snap.reveals:
            reveal = snap.reveals[0]
            stop = self.queued = int(reveal["stop"])
            self.more = len(snap.reveals) - 1
        else:
            stop = reveal.get("stop") if reveal else None
            self.more = 0
        found = reveals.journal_entry(snap.team, int(stop), snap.reveals) if stop else None
        shown = found or (reveal if not self.chosen else None)
        if shown is None:
            self.headline = self.tr("ui.reveal.none")
            self.story = self.letter = self.image_source = ""
        else:
            self.headline = self.tr(
                "ui.reveal.found", stop=shown.get("stop", "?"), title=shown.get("title", "")
            )
            self.story = shown.get("story") or ""
            self.story_key = f"story-{shown.get('marker_id')}-{shown.get('found_at')}"
            self.letter = shown.get("letter") or ""
            self.image_source = self.app.media_source(shown)
        card = None
        if stop:
            card = tasks.task_card(
                snap.team,
                int(stop),
                snap.verdicts.get(int(stop)),
                snap.answer_waiting(int(stop)),
                self.tr,
            )
        self.has_task = card is not None
        if card is not None:
            self.ids.task.fill(card)
        if snap.finished:
            self.next_clue = self.tr("ui.reveal.done")
        elif snap.targets:
            self.next_clue = "\n\n".join(
                self.tr("ui.reveal.next_line", stop=t.stop, clue=t.clue) for t in snap.targets
            )
        else:
            self.next_clue = ""
