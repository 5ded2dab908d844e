"""Reveal: what the server answered to a find: the story, the image, the letter, the next clue."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from client.screens.base import GameScreen


class RevealScreen(GameScreen):
    headline = StringProperty("")
    story = StringProperty("")
    letter = StringProperty("")
    image_source = StringProperty("")
    next_clue = StringProperty("")
    story_key = StringProperty("story")
    """Names the story for read aloud: a new find's story is another text."""

    def show(self, snap: Any) -> None:
        reveal = snap.last_reveal
        if reveal is None:
            self.headline = self.tr("ui.reveal.none")
            self.story = self.letter = self.image_source = ""
        else:
            self.headline = self.tr(
                "ui.reveal.found", stop=reveal.get("stop", "?"), title=reveal.get("title", "")
            )
            self.story = reveal.get("story") or ""
            self.story_key = f"story-{reveal.get('marker_id')}-{reveal.get('found_at')}"
            self.letter = reveal.get("letter") or ""
            self.image_source = self.app.media_source(reveal)
        if snap.finished:
            self.next_clue = self.tr("ui.reveal.done")
        elif snap.targets:
            self.next_clue = "\n\n".join(
                self.tr("ui.reveal.next_line", stop=t.stop, clue=t.clue) for t in snap.targets
            )
        else:
            self.next_clue = ""
