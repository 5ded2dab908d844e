"""Runtime permissions, the app's life cycle and keep-screen-on, against fakes that behave like
Android and python-for-android do.

The fake ``android.permissions`` module follows p4a 2026.5.9 (recipes/android/src/android/
permissions.py): request_permissions calls the activity's requestPermissionsWithRequestCode and
registers the callback only after that call returned; the answer comes later as
python_callback(requestCode, permissions, int results), converted to booleans. The fake activity
behaves like Android's: a request made while another is pending is answered at once, inside the
Java call, with empty arrays (so p4a drops it: its callback is not registered yet), and a
dismissed dialog answers with empty arrays too.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from client import permissions as perms
from client.permissions import (
    CAMERA,
    COARSE_LOCATION,
    FINE_LOCATION,
    REQUESTED,
    LocationAccess,
    Permissions,
)

PERMISSION_GRANTED, PERMISSION_DENIED = 0, -1


class FakeActivity:
    """PythonActivity's permission calls, with Android's one-request-at-a-time rule."""

    def __init__(self, manager: FakeManager) -> None:
        self.manager = manager
        self.held: set[str] = set()
        self.pending: tuple[list[str], int] | None = None
        self.requests: list[list[str]] = []
        self.cancelled_at_once = 0

    def requestPermissionsWithRequestCode(self, names: list[str], code: int) -> None:
        self.requests.append(list(names))
        if self.pending is not None:
            # Android: "Can request only one set of permissions at a time"; answered with empty
            # arrays before the call returns: p4a has not registered the callback yet
            self.cancelled_at_once += 1
            self.manager.python_callback(code, [], [])
            return
        self.pending = (list(names), code)

    def checkCurrentPermission(self, name: str) -> bool:
        return name in self.held

    def user_answers(self, granted: set[str]) -> None:
        """The player taps through Android's dialog, allowing granted."""
        assert self.pending is not None, "no dialog is up"
        names, code = self.pending
        self.pending = None
        self.held |= granted & set(names)
        results = [PERMISSION_GRANTED if n in granted else PERMISSION_DENIED for n in names]
        self.manager.python_callback(code, names, results)

    def dismissed(self) -> None:
        """The dialog went away without an answer (activity recreated, request interrupted)."""
        assert self.pending is not None
        _, code = self.pending
        self.pending = None
        self.manager.python_callback(code, [], [])


class FakeManager:
    """p4a's _RequestPermissionsManager, as it is."""

    def __init__(self) -> None:
        self.callbacks: dict[int, Any] = {1: None}
        self.callback_id = 1
        self.activity = FakeActivity(self)

    def request_permissions(self, permissions: list[str], callback: Any = None) -> None:
        if not callback:
            self.activity.requestPermissionsWithRequestCode(permissions, 1)
            return
        self.callback_id += 1
        self.activity.requestPermissionsWithRequestCode(permissions, self.callback_id)
        self.callbacks[self.callback_id] = callback

    def python_callback(self, code: int, permissions: list[str], results: list[int]) -> None:
        grant_results = [x == PERMISSION_GRANTED for x in results]
        if self.callbacks.get(code):
            self.callbacks[code](permissions, grant_results)


@pytest.fixture
def android(monkeypatch) -> FakeActivity:
    """A fake p4a ``android.permissions`` in sys.modules; yields the fake activity."""
    manager = FakeManager()
    module = types.ModuleType("android.permissions")
    module.request_permissions = manager.request_permissions  # type: ignore[attr-defined]
    module.check_permission = manager.activity.checkCurrentPermission  # type: ignore[attr-defined]
    package = types.ModuleType("android")
    package.permissions = module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "android", package)
    monkeypatch.setitem(sys.modules, "android.permissions", module)
    return manager.activity


def test_the_fake_drops_a_second_request_as_p4a_on_android_does(android):
    """Why the app asks once: the old way (location, then camera, in one tick) lost the camera's
    answer for good."""
    from android.permissions import request_permissions

    got: list[Any] = []
    request_permissions([FINE_LOCATION, COARSE_LOCATION], lambda *a: got.append(("loc", a)))
    request_permissions([CAMERA], lambda *a: got.append(("cam", a)))
    assert android.cancelled_at_once == 1 and got == []
    android.user_answers({FINE_LOCATION, COARSE_LOCATION})
    assert [name for name, _ in got] == ["loc"], "the camera's callback never runs"


def test_camera_and_location_are_asked_for_in_one_request(android):
    answers: list[perms.Grants] = []
    permissions = Permissions(perms.AndroidBackend())
    permissions.request(answers.append)  # the location's wish
    permissions.request(answers.append)  # the camera's, in the same tick
    assert android.requests == [list(REQUESTED)]
    assert android.cancelled_at_once == 0
    assert answers == [], "the answer comes after request returned"
    assert permissions.pending
    android.user_answers(set(REQUESTED))
    assert answers == [perms.ALL_GRANTED, perms.ALL_GRANTED]
    assert not permissions.pending
    assert permissions.held() == perms.ALL_GRANTED


def test_an_answer_with_empty_arrays_is_denied(android):
    answers: list[perms.Grants] = []
    Permissions(perms.AndroidBackend()).request(answers.append)
    android.dismissed()
    assert answers == [perms.Grants(LocationAccess.DENIED, camera=False)]
    assert answers[0].location_note == "ui.permission.location_denied"
    assert answers[0].camera_note == "ui.permission.camera_denied"
    assert perms.granted_in_answer([], []) == set(), "never all([])"


def test_an_empty_answer_keeps_what_is_held_already(android):
    android.held = {FINE_LOCATION, COARSE_LOCATION}
    answers: list[perms.Grants] = []
    Permissions(perms.AndroidBackend()).request(answers.append)
    android.dismissed()
    assert answers == [perms.Grants(LocationAccess.PRECISE, camera=False)]


def test_approximate_location_only_is_told_apart(android):
    answers: list[perms.Grants] = []
    Permissions(perms.AndroidBackend()).request(answers.append)
    android.user_answers({COARSE_LOCATION, CAMERA})
    assert answers == [perms.Grants(LocationAccess.APPROXIMATE, camera=True)]
    assert answers[0].location_note == "ui.permission.location_approximate"
    assert answers[0].camera_note == ""


def test_a_denial_is_denied_and_a_new_request_may_follow(android):
    answers: list[perms.Grants] = []
    permissions = Permissions(perms.AndroidBackend())
    permissions.request(answers.append)
    android.user_answers({CAMERA})
    permissions.request(answers.append)
    android.user_answers(set(REQUESTED))
    assert answers == [perms.Grants(LocationAccess.DENIED, camera=True), perms.ALL_GRANTED]
    assert android.requests == [list(REQUESTED)] * 2


def test_only_true_grants_count():
    assert perms.granted_in_answer([CAMERA, FINE_LOCATION], [True]) == {CAMERA}
    assert perms.granted_in_answer([CAMERA], [0]) == set(), "a raw Java code is not a yes"
    assert perms.granted_in_answer([CAMERA], [None]) == set()


def test_the_gps_provider_no_longer_asks_by_itself(android, monkeypatch):
    """PlyerLocation starts the GPS only; asking is the app's, once, for everything."""
    from client.sensors import location

    asked: list[Any] = []
    monkeypatch.setattr("plyer.utils.platform", "android")
    monkeypatch.setattr(location, "patch_plyer_gps", lambda: True)
    started: list[bool] = []
    monkeypatch.setattr(location.PlyerLocation, "_start_gps", lambda self: started.append(True))
    location.PlyerLocation().start(lambda fix: asked.append(fix))
    assert started == [True]
    assert android.requests == []


def test_the_desktop_simulates_a_player_who_refuses():
    backend = perms.SimulatedBackend(perms.simulated_denials(["precise-location"]))
    permissions = Permissions(backend)
    assert permissions.held() == perms.Grants(LocationAccess.APPROXIMATE, camera=True)
    import threading

    done = threading.Event()
    answers: list[perms.Grants] = []
    permissions.request(lambda g: (answers.append(g), done.set()))
    assert answers == []
    assert done.wait(5)
    assert answers == [perms.Grants(LocationAccess.APPROXIMATE, camera=True)]
    assert perms.simulated_denials(["location", "camera"]) == set(REQUESTED)


# --- keep the screen on: a fake pyjnius and p4a's android.runnable ---------------------------


class FakeWindow:
    def __init__(self) -> None:
        self.flags = 0
        self.calls: list[tuple[str, int, str]] = []

    def addFlags(self, flag: int) -> None:
        self.calls.append(("add", flag, threading_name()))
        self.flags |= flag

    def clearFlags(self, flag: int) -> None:
        self.calls.append(("clear", flag, threading_name()))
        self.flags &= ~flag


def threading_name() -> str:
    import threading

    return threading.current_thread().name


@pytest.fixture
def jnius(monkeypatch) -> types.SimpleNamespace:
    """Fake pyjnius + android.runnable: run_on_ui_thread queues the call for the UI thread."""
    window = FakeWindow()
    ui_queue: list[Any] = []
    activity = types.SimpleNamespace(getWindow=lambda: window)
    classes = {
        "org.kivy.android.PythonActivity": types.SimpleNamespace(mActivity=activity),
        "android.view.WindowManager$LayoutParams": types.SimpleNamespace(FLAG_KEEP_SCREEN_ON=128),
    }
    jnius_module = types.ModuleType("jnius")
    jnius_module.autoclass = classes.__getitem__  # type: ignore[attr-defined]
    runnable = types.ModuleType("android.runnable")

    def run_on_ui_thread(f: Any) -> Any:
        return lambda *a, **kw: ui_queue.append(lambda: f(*a, **kw))

    runnable.run_on_ui_thread = run_on_ui_thread  # type: ignore[attr-defined]
    package = types.ModuleType("android")
    package.runnable = runnable  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jnius", jnius_module)
    monkeypatch.setitem(sys.modules, "android", package)
    monkeypatch.setitem(sys.modules, "android.runnable", runnable)

    def run_ui() -> None:
        while ui_queue:
            ui_queue.pop(0)()

    return types.SimpleNamespace(window=window, queue=ui_queue, run_ui=run_ui)


def test_keep_screen_on_sets_and_clears_the_flag_on_the_ui_thread(jnius):
    from client.screen_on import keep_screen_on

    assert keep_screen_on(True)
    assert jnius.window.flags == 0, "only on Android's UI thread, not on the caller's"
    jnius.run_ui()
    assert jnius.window.flags == 128
    assert keep_screen_on(False)
    jnius.run_ui()
    assert jnius.window.flags == 0
    assert [c[:2] for c in jnius.window.calls] == [("add", 128), ("clear", 128)]


def test_keep_screen_on_off_android_does_nothing(monkeypatch):
    from client.screen_on import keep_screen_on

    monkeypatch.setitem(sys.modules, "android", None)
    monkeypatch.setitem(sys.modules, "android.runnable", None)
    assert keep_screen_on(True) is False


# --- the app's life cycle (no window: the App object and fake sensors) -----------------------


class FakeProvider:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.running = False

    def start(self, _callback: Any) -> None:
        assert not self.running, f"{self.name} started twice"
        self.running = True
        self.log.append(f"start {self.name}")

    def stop(self) -> None:
        self.running = False
        self.log.append(f"stop {self.name}")


class FakeFeed(FakeProvider):
    def start(self, _frames: Any) -> None:  # type: ignore[override]
        super().start(None)


@pytest.fixture
def app(tmp_path, monkeypatch):
    from client.app import ArtCachingApp
    from client.options import parse_args

    application = ArtCachingApp(parse_args(["--data-dir", str(tmp_path), "--tile-url", ""]))
    log: list[str] = []
    application.log = log  # type: ignore[attr-defined]
    application._location = FakeProvider("gps", log)
    application._compass = FakeProvider("compass", log)
    application.feed = FakeFeed("camera", log)  # type: ignore[assignment]
    application.session = types.SimpleNamespace(handle_fix=lambda fix: None)
    screen_calls: list[bool] = []
    monkeypatch.setattr("client.screen_on.keep_screen_on", screen_calls.append)
    application.screen_calls = screen_calls  # type: ignore[attr-defined]
    yield application
    application.tile_cache.close()


def running(app) -> set[str]:
    return {p.name for p in (app._location, app._compass, app.feed) if p.running}


def test_nothing_runs_before_the_permissions_are_known(app):
    app.current = "arview"
    app.update_sensors()
    assert running(app) == set()


def test_the_camera_runs_only_on_the_ar_and_scan_screens(app):
    app.set_grants(perms.ALL_GRANTED)
    assert running(app) == {"gps"}
    for screen, expected in [
        ("arview", {"gps", "compass", "camera"}),
        ("scan", {"gps", "camera"}),
        ("map", {"gps"}),
        ("clue", {"gps"}),
    ]:
        app._on_current(None, screen)
        assert running(app) == expected, screen


def test_pause_stops_everything_and_resume_restarts_what_the_screen_needs(app):
    app.set_grants(perms.ALL_GRANTED)
    app._on_current(None, "arview")
    assert app.on_pause() is True
    assert running(app) == set()
    app.on_resume()
    assert running(app) == {"gps", "compass", "camera"}
    app._on_current(None, "clue")
    app.on_pause()
    app.on_resume()
    assert running(app) == {"gps"}


def test_resume_reads_the_permissions_again(app):
    """The player went to the phone's settings and took the camera back."""
    app.set_grants(perms.ALL_GRANTED)
    app._on_current(None, "scan")
    app.on_pause()
    app.permissions.backend.denied = {CAMERA}
    app.on_resume()
    assert app.camera_note == "ui.permission.camera_denied"
    assert running(app) == {"gps"}


def test_a_denied_sensor_never_starts(app):
    app.set_grants(perms.Grants(LocationAccess.DENIED, camera=False))
    app._on_current(None, "arview")
    assert running(app) == {"compass"}
    assert app.location_note == "ui.permission.location_denied"
    app.set_grants(perms.Grants(LocationAccess.APPROXIMATE, camera=True))
    assert running(app) == {"gps", "compass", "camera"}
    assert app.location_note == "ui.permission.location_approximate"


def test_the_screen_stays_on_during_play_only(app):
    app.joined = True
    app.joined = True
    app.finished = True
    app.finished = False
    app.joined = False
    assert app.screen_calls == [True, False, True, False]
