"""The phone app: ArtCachingApp (Kivy) on top of a GameSession.

The app holds no game logic: the GameSession (client/session.py) stores events in the outbox
(client/outbox.py), has them sent by the Sync (client/sync.py) and publishes Snapshots, which the
screens show. Sensors and the network run on their own
threads; what they deliver reaches the widgets on the main thread (@mainthread, Clock triggers).
"""

from __future__ import annotations

import argparse
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")  # before Kivy reads sys.argv on import

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.logger import Logger
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.screenmanager import NoTransition
from kivy.utils import platform

from client import i18n, screen_on, speech
from client import permissions as perms
from client import settings as settings_mod
from client.camera_geometry import IDENTITY, TiltExit
from client.options import default_data_dir, parse_args
from client.screens import SCREENS, load_layouts
from client.screens.progress import duration_text
from client.session import GameSession
from client.widgets.camera import CameraFeed
from client.widgets.tiles import OSM_TILE_URL, TileCache
from client.window import set_cardboard_window

HERE = Path(__file__).parent
LARGE_TEXT_SCALE = 1.3
SNAPSHOT_INTERVAL_S = 0.1
CAMERA_SCREENS = ("arview", "scan")
"""The camera runs only while one of these shows."""
COMPASS_SCREENS = ("arview",)


class ArtCachingApp(App):
    """The app: screens, status bar and navigation over one GameSession."""

    title = "Art Caching"
    snapshot = ObjectProperty(None, allownone=True)
    lang = StringProperty("de")
    large_text = BooleanProperty(False)
    font_scale = NumericProperty(1.0)
    current = StringProperty("start")
    joined = BooleanProperty(False)
    finished = BooleanProperty(False)
    online = BooleanProperty(True)
    title_text = StringProperty("Art Caching")
    elapsed_text = StringProperty("")
    status_text = StringProperty("")
    error_text = StringProperty("")
    frame_texture = ObjectProperty(None, allownone=True)
    cardboard = BooleanProperty(False)
    """Cardboard mode: landscape, full screen, one view per eye; a tap or a tilt leaves it."""
    camera_info = ObjectProperty(None, allownone=True)
    """The camera's orientation and field of view (client.sensors.camera.CameraInfo)."""
    camera_transform = ObjectProperty(IDENTITY)
    """How to turn the camera image upright (client.camera_geometry.Transform)."""
    scanning = BooleanProperty(False)
    reading = StringProperty("")
    """The key of the text being read aloud ("clue-2", "story"; "" for none)."""
    location_note = StringProperty("")
    """The text key saying location is denied or only approximate ("" when precise)."""
    camera_note = StringProperty("")
    """The text key saying the camera is not allowed ("" when it is)."""
    paused = BooleanProperty(False)
    screen_kept_on = BooleanProperty(False)

    def __init__(self, options: argparse.Namespace | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cli = options or parse_args([])
        """The command line's options (App.options is Kivy's own)."""
        if self.cli.data_dir is not None:
            self.data_dir = Path(self.cli.data_dir)
        elif platform == "android":
            self.data_dir = Path(self.user_data_dir)
        else:
            self.data_dir = default_data_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.session: Any = None
        self.autoplay: Any = None
        self.exit_code = 0
        self.exit_message = ""
        self.tile_cache = TileCache(
            self.data_dir / "tiles",
            OSM_TILE_URL if self.cli.tile_url is None else self.cli.tile_url,
        )
        self.feed = CameraFeed(self)
        self._tilt = TiltExit()
        self.permissions = perms.Permissions(
            perms.AndroidBackend()
            if platform == "android"
            else perms.SimulatedBackend(perms.simulated_denials(self.cli.deny or ()))
        )
        self.grants: perms.Grants | None = None
        """What the player allowed (None until known: no sensor runs before)."""
        self._note: Any = None
        self._location: Any = None
        self._compass: Any = None
        self._running: dict[str, Any] = {}
        """Sensor name -> the provider that runs now ("location", "compass", "camera")."""
        self._magnetic: Any = None
        """The declination at the player's place (the phone's compass is magnetic)."""
        self._snap_lock = threading.Lock()
        self._latest: Any = None
        self._show_trigger = Clock.create_trigger(self._show_latest, SNAPSHOT_INTERVAL_S)
        self._reveal_keys: set[int] = set()
        self._elapsed: tuple[float, float, bool] | None = None
        self.reader = speech.ReadAloud(speech.default_speaker(platform), self._reading_changed)

    # --- Kivy's life cycle ---------------------------------------------------------------------

    def build(self) -> Any:
        Builder.load_file(str(HERE / "app.kv"))
        load_layouts()
        root = Factory.Root()
        sm = root.ids.sm
        sm.transition = NoTransition()
        for name, screen in SCREENS.items():
            sm.add_widget(screen(name=name))
        sm.bind(current=self._on_current)
        return root

    def on_start(self) -> None:
        settings = self._initial_settings()
        self.session = GameSession(self.data_dir, settings, tiles=self.tile_cache)
        self.set_language(settings.language, save=False)
        self.large_text = settings.large_text
        self.session.subscribe(self._on_snapshot)
        self.session.start()
        Clock.schedule_interval(self._tick, 1.0)
        from kivy.core.window import Window

        Window.bind(on_keyboard=self._on_key, on_resize=self._on_resize)
        Window.softinput_mode = "below_target"  # the soft keyboard never covers the field
        self.bind(cardboard=self._on_cardboard)
        if self.cli.autoplay:
            self.set_grants(perms.ALL_GRANTED)
            self._start_autoplay()
            return
        if self.cli.team or self.cli.join_code:
            self._join_from_options()
        elif self.session.resume():
            self.enter_game()
        else:
            self.show_screen("start")
            self.screen("start").on_pre_enter()
        self.ask_permissions()

    def on_stop(self) -> None:
        self.reader.stop()
        self.stop_sensors()
        if self.autoplay is not None:
            self.autoplay.stop()
        if self.session is not None:
            self.session.close()
        self.tile_cache.close()

    def on_pause(self) -> bool:
        """Android leaves the app (home button, screen off, a permission dialog): stop camera,
        GPS and compass; True keeps the app alive for on_resume."""
        self.paused = True
        self.update_sensors()
        return True

    def on_resume(self) -> None:
        """Back in front: the permissions may have changed in the phone's settings meanwhile;
        restart what the current screen needs."""
        self.paused = False
        if self.grants is not None and not self.permissions.pending and not self.cli.autoplay:
            self.set_grants(self.permissions.held())
        else:
            self.update_sensors()

    def _initial_settings(self) -> Any:
        try:
            settings = settings_mod.load(self.data_dir)
        except settings_mod.SettingsError as exc:
            Logger.warning(f"ArtCaching: {exc}; starting with default settings")
            settings = settings_mod.Settings()
        changes: dict[str, Any] = {}
        if self.cli.server:
            changes["server_url"] = settings_mod.normalise_server(self.cli.server)
        if self.cli.ca_file is not None:
            changes["ca_file"] = str(self.cli.ca_file)
        if self.cli.lang:
            changes["language"] = self.cli.lang
        if self.cli.large_text:
            changes["large_text"] = True
        return settings.with_(**changes) if changes else settings

    def session_settings(self) -> Any:
        return self.session.settings if self.session is not None else settings_mod.Settings()

    # --- sensors -------------------------------------------------------------------------------

    def ask_permissions(self) -> None:
        """Camera and precise location, in one request, after a short note (only when something
        is missing); the sensors start with the answer."""
        held = self.permissions.held()
        if held.complete:
            self.set_grants(held)
            return
        self._note = Factory.PermissionNote()
        self._note.open()

    def permission_note_done(self) -> None:
        """The note's "Continue": now Android's own dialog."""
        if self._note is not None:
            self._note.dismiss()
            self._note = None
        self.permissions.request(self._on_grants)

    @mainthread
    def _on_grants(self, grants: perms.Grants) -> None:
        self.set_grants(grants)

    def set_grants(self, grants: perms.Grants) -> None:
        """What the player allowed (main thread): the screens say what is missing, the sensors
        that may run start."""
        if grants != self.grants:
            Logger.info(f"ArtCaching: permissions: {grants}")
        self.grants = grants
        self.location_note = grants.location_note
        self.camera_note = grants.camera_note
        if not grants.camera:
            self.frame_texture = None  # no old picture behind the note
        if self.root is not None:
            for name in SCREENS:
                self.screen(name).on_language()
        self.update_sensors()

    def update_sensors(self) -> None:
        """Run what the current screen needs and the player allowed, nothing while paused: GPS
        during the whole visit, the compass on the AR view, the camera on the AR and scan screens.
        Autoplay walks and looks by itself: only the camera follows the screens there."""
        grants, o = self.grants, self.cli
        active = grants is not None and not self.paused
        self._run(
            "location",
            active
            and not o.autoplay
            and grants is not None
            and grants.location is not perms.LocationAccess.DENIED,
        )
        self._run("compass", active and not o.autoplay and self.current in COMPASS_SCREENS)
        self._run(
            "camera",
            active and grants is not None and grants.camera and self.current in CAMERA_SCREENS,
        )

    def _run(self, name: str, on: bool) -> None:
        running = self._running.get(name)
        if on and running is None:
            provider, callback = self._sensor(name)
            if provider is None:
                return
            try:
                provider.start(callback)
            except Exception as exc:  # a missing sensor must not stop the game
                Logger.warning(f"ArtCaching: {type(provider).__name__} unavailable: {exc}")
                return
            self._running[name] = provider
        elif not on and running is not None:
            del self._running[name]
            try:
                running.stop()
            except Exception as exc:
                Logger.warning(f"ArtCaching: stopping {type(running).__name__}: {exc}")

    def _sensor(self, name: str) -> tuple[Any, Any]:
        """The provider of a sensor (made once) and the callback it delivers to."""
        from client.sensors import heading, location

        o = self.cli
        if name == "camera":
            return _CameraSwitch(self), None
        if name == "location":
            if self._location is None:
                if o.simulate_gpx is not None:
                    self._location = location.SimulatedLocation(
                        o.simulate_gpx, speedup=o.speedup or 1.0
                    )
                elif platform == "android":
                    self._location = location.PlyerLocation()
            if platform == "android":
                return self._location, self._fix_and_declination(self._declination())
            return self._location, self.session.handle_fix
        if self._compass is None:
            if platform == "android":
                # magnetic to true north by the WMM at the player's place (every 10 km again)
                magnetic = self._declination()
                self._compass = heading.FirstAvailable(
                    heading.AndroidHeading(magnetic), heading.PlyerHeading(declination=magnetic)
                )
            elif o.heading == "auto":
                self._compass = _Sway(self._look_at_target)
            elif o.heading != "off":
                self._compass = heading.ScriptedHeading([(0.0, o.heading)], loop=True)
        return self._compass, self._on_orientation

    def _declination(self) -> Any:
        from client.sensors import declination

        if self._magnetic is None:
            self._magnetic = declination.Declination()
        return self._magnetic

    def _fix_and_declination(self, magnetic: Any) -> Any:
        def on_fix(fix: Any) -> None:
            magnetic.on_fix(fix)
            self.session.handle_fix(fix)

        return on_fix

    def _look_at_target(self, *_: Any) -> None:
        """The desktop's simulated compass: towards the nearest target, swaying by +-12 deg."""
        snap = self.session.snapshot if self.session else None
        if snap is None or snap.position is None:
            return
        targets = [t for t in snap.targets if t.bearing_deg is not None]
        if targets:
            near = min(targets, key=lambda t: (t.marker is None, t.distance_m or 0.0))
            sway = 12.0 * math.sin(time.monotonic() / 2.0)
            self.session.handle_heading((near.bearing_deg + sway) % 360.0)

    def _on_orientation(self, o: Any) -> None:
        self.session.handle_heading(o.heading_deg, o.pitch_deg)
        if self.cardboard and self._tilt.feed(o.pitch_deg, time.monotonic()):
            Clock.schedule_once(lambda _dt: setattr(self, "cardboard", False))

    def _on_cardboard(self, _app: Any, on: bool) -> None:
        set_cardboard_window(on)

    def _on_resize(self, *_: Any) -> None:
        """The display may have turned (Cardboard mode): the camera image turns with it."""
        if self.feed.running:
            self.feed.orient()

    def stop_sensors(self) -> None:
        for name in list(self._running):
            self._run(name, False)

    def on_joined(self, *_: Any) -> None:
        self._update_screen_on()

    def on_finished(self, *_: Any) -> None:
        self._update_screen_on()

    def _update_screen_on(self) -> None:
        """The screen stays on while a game is played; it may dim again after leaving it."""
        on = self.joined and not self.finished
        if on != self.screen_kept_on:
            self.screen_kept_on = on
            screen_on.keep_screen_on(on)

    # --- what the screens call -----------------------------------------------------------------

    def tr(self, key: str, _lang: str | None = None, **values: Any) -> str:
        """A text in the app's language (kv passes app.lang so that it follows changes)."""
        return i18n.t(key, **values)

    def read_aloud(self, key: str, text: str) -> None:
        """A read-aloud button: read text (in the app's language) aloud, or stop reading it."""
        self.reader.toggle(key, text, self.lang)

    @mainthread
    def _reading_changed(self, key: str) -> None:
        self.reading = key

    def show_screen(self, name: str) -> None:
        if self.root is not None:
            self.root.ids.sm.current = name

    def screen(self, name: str) -> Any:
        return self.root.ids.sm.get_screen(name)

    def set_language(self, lang: str, save: bool = True) -> None:
        i18n.set_language(lang)
        if self.session is not None and save:
            self.session.set_language(lang)
        self.lang = lang
        if self.root is not None:
            for name in SCREENS:
                self.screen(name).on_language()
        self._update_status(self.snapshot)

    def set_large_text(self, on: bool) -> None:
        self.large_text = on
        if self.session is not None and self.session.settings.large_text != on:
            self.session.set_large_text(on)

    def on_large_text(self, _app: Any, on: bool) -> None:
        self.font_scale = LARGE_TEXT_SCALE if on else 1.0

    def enter_game(self) -> None:
        """A team was created, joined or resumed: play."""
        self.joined = True
        self.show_screen("clue")

    def leave_rally(self) -> None:
        if self.session is not None:
            self.session.leave()
        self.joined = False
        self._reveal_keys = set()
        self.show_screen("start")

    def show_found(self, stop: int) -> None:
        """Show an earlier find (its story and task) on the reveal screen."""
        self.screen("reveal").chosen = stop
        self.show_screen("reveal")

    def answer_task(self, stop: int, given: Any) -> None:
        """The player's answer to a found stop's task: kept in the outbox, sent when online."""
        if self.session is not None:
            self.session.handle_answer(stop, given)

    def take_hint(self, stop: int) -> None:
        """The player confirmed they want the next hint of a stop (it costs points)."""
        if self.session is not None:
            self.session.take_hint(stop)

    def media_source(self, found: dict[str, Any]) -> str:
        """Where the reveal's image comes from: the rally pack when cached, else the server."""
        pack = self.session.pack if self.session is not None else None
        path = pack.image_path(found) if pack is not None else None
        if path is not None and path.exists():
            return str(path)
        url = found.get("image_url")
        if not url:
            return ""
        return url if "://" in url else self.session_settings().server_url + url

    # --- snapshots -----------------------------------------------------------------------------

    def _on_snapshot(self, snap: Any) -> None:
        """From any thread: keep the newest Snapshot; the screens take it at most 10 times a
        second (a fast GPS replay publishes far more often than anyone can read)."""
        with self._snap_lock:
            self._latest = snap
        self._show_trigger()

    def _show_latest(self, *_: Any) -> None:
        with self._snap_lock:
            snap, self._latest = self._latest, None
        if snap is not None:
            self.show_snapshot(snap)

    def show_snapshot(self, snap: Any) -> None:
        """Put a Snapshot on the screens (main thread)."""
        previous = self.snapshot
        self.snapshot = snap
        self.joined = snap.joined
        self.finished = snap.finished
        self.online = snap.online or not snap.joined
        if snap.team_lost is not None and self.current != "start" and not self.cli.autoplay:
            self.joined = False
            self._reveal_keys = set()
            self.show_screen("start")
            rally = (previous.rally if previous is not None else None) or {}
            self.screen("start").team_lost(snap.team_lost, rally.get("slug"))
        if snap.elapsed_s is not None:
            self._elapsed = (snap.elapsed_s, time.monotonic(), snap.finished)
        elif not snap.joined:
            self._elapsed = None
        self._update_status(snap)
        for name in SCREENS:
            self.screen(name).snapshot = snap
        if self.joined:  # a new find waits to be revealed: show it (the queue's first)
            keys = {int(r["stop"]) for r in snap.reveals}
            if keys - self._reveal_keys and not self.screen("progress").leave_waiting:
                self.screen("reveal").chosen = 0
                self.show_screen("reveal")
            self._reveal_keys = keys

    def _update_status(self, snap: Any) -> None:
        if snap is None:
            return
        rally = snap.rally or {}
        self.title_text = rally.get("title") or "Art Caching"
        if not snap.joined:
            self.status_text = self.error_text = ""
            return
        state = self.tr("ui.status.online" if snap.online else "ui.status.offline")
        waiting = (
            self.tr("ui.status.pending", count=snap.pending)
            if snap.pending
            else self.tr("ui.status.all_sent")
        )
        self.status_text = f"{state} · {waiting}"
        self.error_text = snap.last_error or ""
        self._tick()

    def _tick(self, *_: Any) -> None:
        if self._elapsed is None:
            self.elapsed_text = ""
            return
        base, at, stopped = self._elapsed
        self.elapsed_text = duration_text(base if stopped else base + time.monotonic() - at)

    def _on_key(self, _window: Any, key: int, *_: Any) -> bool:
        """Android's back button (Escape on the desktop): back to the clue, not out of the app."""
        if key != 27 or self.current == "start":
            return False
        if self.current != "clue":
            self.show_screen("clue" if self.joined else "start")
        return True

    def _on_current(self, _sm: Any, name: str) -> None:
        self.current = name
        self.scanning = name == "scan"
        self.update_sensors()

    # --- playing from the command line ---------------------------------------------------------

    def _join_from_options(self) -> None:
        """--team starts a new team, --join-code joins one: never a saved team (it may be
        another server's, or from before the server's database was new)."""
        o = self.cli
        if o.join_code:
            future = self.session.join_team(o.rally, o.join_code)
        else:
            future = self.session.start_rally(o.rally, o.team, self.lang)
        future.add_done_callback(self._joined_from_options)

    @mainthread
    def _joined_from_options(self, future: Any) -> None:
        exc = future.exception()
        if exc is None:
            self.enter_game()
            return
        message = self.session.describe_error(exc)
        if self.cli.autoplay:
            self.fail(f"could not join rally {self.cli.rally!r}: {message}")
        else:
            self.show_screen("start")
            self.screen("start").say(message, error=True)

    def _start_autoplay(self) -> None:
        from client.autoplay_driver import AutoplayDriver

        self.autoplay = AutoplayDriver(self, self.cli)
        self.autoplay.start()

    def finish(self, message: str) -> None:
        """End the app with status 0 (autoplay completed the rally)."""
        self.exit_code, self.exit_message = 0, message
        self.stop()

    def fail(self, message: str) -> None:
        """End the app with status 1 and a message on stderr."""
        self.exit_code, self.exit_message = 1, message
        self.stop()


class _CameraSwitch:
    """The app's camera feed as a sensor: start/stop only (frames go to the feed's own path)."""

    def __init__(self, app: ArtCachingApp) -> None:
        self.app = app

    def start(self, _callback: Any) -> None:
        self.app.feed.start(self.app.cli.frames)

    def stop(self) -> None:
        self.app.feed.stop()


class _Sway:
    """The desktop's simulated compass as a sensor: look() ten times a second on Kivy's clock."""

    def __init__(self, look: Any) -> None:
        self.look = look
        self._event: Any = None

    def start(self, _callback: Any) -> None:
        self._event = Clock.schedule_interval(self.look, 0.1)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
        self._event = None
