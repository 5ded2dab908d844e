"""Clue: the open clue(s), the search area or the distance band, the solution so far, the time."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import StringProperty

from client import tasks
from client.screens.base import GameScreen
from client.widgets.arview import distance_text

BAND_RGBA = {
    "cold": (0.03, 0.2, 0.5, 1),
    "warm": (0.85, 0.35, 0.0, 1),
    "warmer": (0.75, 0.1, 0.0, 1),
    "here": (0.0, 0.42, 0.16, 1),
}


def target_texts(target: Any, total: int, tr: Any, located: bool = True) -> dict[str, Any]:
    """The texts of one open stop's card (located: the app may know where the player is)."""
    band = target.band.value if target.band is not None else None
    if target.distance_m is None:
        where = tr("ui.clue.no_fix" if located else "ui.permission.no_location")
    elif target.marker is not None:
        where = tr("ui.clue.marker_near", distance=distance_text(target.distance_m))
    else:
        where = tr(
            "ui.clue.search_area",
            radius=round(target.area_radius_m),
            distance=distance_text(target.distance_m),
        )
    return {
        "stop_text": tr("ui.clue.stop_of", stop=target.stop, total=total),
        "clue_text": target.clue or "",
        "speak_key": f"clue-{target.stop}",
        "band_text": tr(f"band.{band}").upper() if band else "",
        "band_rgba": BAND_RGBA.get(band or "cold", BAND_RGBA["cold"]),
        "where_text": where,
        "show_ar": target.marker is not None,
    }


def hint_texts(snap: Any, stop: int, tr: Any) -> dict[str, Any]:
    """The hint part of an open stop's card: the hints taken, the button for the next."""
    card = tasks.hint_card(tasks.open_stop(snap.team, stop), snap.hint_waiting(stop), tr)
    return {
        "stop": stop,
        "hints_text": card.taken,
        "hint_button": card.button,
        "hint_confirm": tr("ui.hint.confirm", cost=card.cost),
        "hint_waiting": card.waiting,
    }


def pending_text(snap: Any, tr: Any) -> str:
    if snap.pending:
        return tr("ui.status.pending", count=snap.pending)
    return tr("ui.status.all_sent")


class ClueScreen(GameScreen):
    title = StringProperty("")
    note = StringProperty("")
    letters = StringProperty("")
    pending = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._cards_key: tuple = ()
        super().__init__(**kwargs)

    def show(self, snap: Any) -> None:
        found, total = snap.progress
        self.title = self.tr("ui.clue.title", found=found, total=total)
        self.letters = snap.solution or ""
        self.pending = pending_text(snap, self.tr)
        if snap.finished:
            self.note = self.tr("ui.clue.finished")
        elif not snap.targets and snap.joined:
            self.note = self.tr("ui.clue.no_target")
        else:
            self.note = ""
        located = self.app.location_note != "ui.permission.location_denied"
        cards = tuple(
            tuple(
                sorted(
                    {
                        **target_texts(t, total, self.tr, located),
                        **hint_texts(snap, t.stop, self.tr),
                    }.items()
                )
            )
            for t in snap.targets
        )
        if cards == self._cards_key:
            return
        self._cards_key = cards
        box = self.ids.targets
        if len(box.children) != len(cards):
            box.clear_widgets()
            for _ in cards:
                box.add_widget(Factory.TargetCard())
        for card, texts in zip(reversed(box.children), cards, strict=True):
            for name, value in texts:
                setattr(card, name, value)

    def on_language(self) -> None:
        self._cards_key = ()
        super().on_language()
