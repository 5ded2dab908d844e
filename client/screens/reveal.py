"""Reveal: what the server answered to a find: the story, the image, the letter, the next clue;
and the stop's task, if it has one (also for an earlier find, chosen on the progress screen)."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from client import tasks
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
    """The stop shown (an earlier find chosen on the progress screen); 0: the latest find."""

    def on_chosen(self, *_: Any) -> None:
        if self.snapshot is not None and self.shown:
            self.show(self.snapshot)

    def show(self, snap: Any) -> None:
        reveal = snap.last_reveal
        stop = self.chosen or (reveal.get("stop") if reveal else None)
        found = tasks.found_stop(snap.team, stop) if stop else None
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
