"""Start: server address, the published rallies, a new team or a join code, language, text size."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from kivy.clock import Clock, mainthread
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, StringProperty

from client.screens.base import GameScreen
from client.widgets.arview import decimal


def rally_line(rally: dict[str, Any], tr: Any) -> str:
    """A rally of the list as two lines: title, then stops, length and walking time."""
    km = decimal(rally.get("length_m", 0) / 1000)
    return tr(
        "ui.start.rally_line",
        title=rally.get("title") or rally.get("slug", "?"),
        stops=rally.get("stops", 0),
        km=km,
        minutes=rally.get("duration_min", 0),
    )


class StartScreen(GameScreen):
    server_url = StringProperty("")
    rallies = ListProperty([])
    slug = StringProperty("")
    busy = BooleanProperty(False)
    message = StringProperty("")
    message_is_error = BooleanProperty(False)
    lost = BooleanProperty(False)
    """The server no longer knew the saved team: offer to start again or join by code."""
    message_at = StringProperty("top")
    """Where the message shows: beside what the player just tried ("server", "team", "join"),
    or at the top ("top"), and the screen scrolls to it."""

    def on_pre_enter(self, *_: Any) -> None:
        if self.app.session is None:
            return
        self.server_url = self.app.session_settings().server_url
        if not self.slug:
            self.slug = self.app.cli.rally or ""
        if not self.server_url:
            self.say(self.tr("ui.start.ask_server"), error=True)
        elif not self.rallies and not self.busy:
            self.load_rallies()

    def say(self, text: str, error: bool = False, at: str = "top") -> None:
        self.message, self.message_is_error, self.message_at = text, error, at
        if text:
            Clock.schedule_once(lambda _dt: self._show_message(), 0)

    def _show_message(self) -> None:
        label = self.ids.get(f"message_{self.message_at}")
        if label is not None:
            self.children[0].scroll_to(label, padding=dp(16), animate=False)

    def team_lost(self, name: str, slug: str | None) -> None:
        """The server does not know the saved team (any more): say so plainly, keep its name
        and rally ready for a new start, or for a join code."""
        self.lost = True
        if slug:
            self.slug = slug
        if name:
            self.ids.team_name.text = name
        self.say(self.tr("ui.start.team_lost", name=name or "?"), error=True)
        self.fill_list()

    def join_by_code(self) -> None:
        """The "join by code" button of a lost team: to the join-code field."""
        self.lost = False
        self.ids.join_code.focus = True

    def load_rallies(self) -> None:
        url = self.ids.server.text.strip() or self.server_url
        if not url:
            self.say(self.tr("ui.start.ask_server"), error=True)
            return
        try:
            self.app.session.set_server(url)
        except ValueError as exc:
            self.say(str(exc), error=True, at="server")
            return
        self.server_url = url
        self.busy = True
        self.say(self.tr("ui.start.loading"), at="server")
        self.app.session.list_rallies().add_done_callback(self._rallies_loaded)

    @mainthread
    def _rallies_loaded(self, future: Future) -> None:
        self.busy = False
        exc = future.exception()
        if exc is not None:
            self.say(self.app.session.describe_error(exc), error=True, at="server")
            return
        self.rallies = list(future.result())
        if not self.rallies:
            self.say(self.tr("ui.start.no_rallies"), error=True, at="server")
        else:
            self.say("")
        slugs = [r["slug"] for r in self.rallies]
        if self.slug not in slugs:
            self.slug = slugs[0] if len(slugs) == 1 else ""
        self.fill_list()

    def fill_list(self) -> None:
        box = self.ids.rally_list
        box.clear_widgets()
        for rally in self.rallies:
            button = Factory.Choice(
                text=rally_line(rally, self.tr),
                group="rally",
                state="down" if rally["slug"] == self.slug else "normal",
            )
            button.bind(on_release=lambda b, s=rally["slug"]: self._pick(b, s))
            box.add_widget(button)

    def _pick(self, button: Any, slug: str) -> None:
        self.slug = slug if button.state == "down" else ""

    def on_language(self) -> None:
        self.fill_list()

    def create_team(self) -> None:
        name = self.ids.team_name.text.strip()
        if not self.slug:
            self.say(self.tr("ui.start.pick_rally"), error=True, at="team")
        elif not name:
            self.say(self.tr("ui.start.need_name"), error=True, at="team")
        else:
            self._joining(self.app.session.start_rally(self.slug, name, self.app.lang), "team")

    def join_team(self) -> None:
        code = self.ids.join_code.text.strip()
        if not self.slug:
            self.say(self.tr("ui.start.pick_rally"), error=True, at="join")
        elif not code:
            self.say(self.tr("ui.start.need_code"), error=True, at="join")
        else:
            self._joining(self.app.session.join_team(self.slug, code), "join")

    def _joining(self, future: Future, at: str) -> None:
        self.busy = True
        self.say(self.tr("ui.start.joining"), at=at)
        future.add_done_callback(self._joined)

    @mainthread
    def _joined(self, future: Future) -> None:
        self.busy = False
        exc = future.exception()
        if exc is not None:
            self.say(self.app.session.describe_error(exc), error=True, at=self.message_at)
            return
        self.say("")
        self.lost = False
        self.app.enter_game()
