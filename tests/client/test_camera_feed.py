"""The camera feed converts frames on its worker thread, never on the caller's (Kivy's UI
thread), only while the AR view or the scan screen shows, drops frames while one is being
decoded, hands the decoder grey in the sensor's orientation, and ignores a frame that comes
after the camera was stopped."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

from client.camera_geometry import Transform
from client.sensors.camera import RawFrame
from client.widgets.camera import CameraFeed


class FakeSession:
    def __init__(self) -> None:
        self.frames: list[tuple[Any, str]] = []
        self.release = threading.Event()

    def handle_frame(self, image: Any) -> Future[list[str]]:
        self.frames.append((image, threading.current_thread().name))
        future: Future[list[str]] = Future()
        threading.Thread(
            target=lambda: (self.release.wait(5), future.set_result([])), daemon=True
        ).start()
        return future


class FakeApp:
    def __init__(self) -> None:
        self.current = "clue"
        self.scanning = False
        self.session = FakeSession()
        self.camera_info: Any = None
        self.camera_transform: Any = None
        self.frame_texture: Any = None


class FakeProvider:
    texture = "live"  # shown as it is: nothing to convert for the screen

    def __init__(self) -> None:
        self.callback: Any = None

    def start(self, callback: Any) -> None:
        self.callback = callback

    def stop(self) -> None:
        self.callback = None


def nv21(w: int = 8, h: int = 4) -> tuple[RawFrame, list[str]]:
    """A frame whose bytes are read lazily (as Android's grab_frame), and who read them."""
    reads: list[str] = []

    def grab() -> bytes:
        reads.append(threading.current_thread().name)
        return bytes(w * h * 3 // 2)

    return RawFrame(grab, (w, h), "nv21"), reads


def wait_for(test: Any, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not test():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_frames_are_converted_on_the_worker_only_on_camera_screens_and_dropped_while_busy():
    app = FakeApp()
    feed = CameraFeed(app)
    provider = FakeProvider()
    feed._start(provider)
    feed.transform = Transform(90, False)
    try:
        frame, reads = nv21()
        provider.callback(frame)  # on the clue screen: ignored
        time.sleep(0.1)
        assert feed.converted == 0 and reads == []

        app.current = "scan"
        app.scanning = True
        first, first_reads = nv21()
        provider.callback(first)
        wait_for(lambda: len(app.session.frames) == 1)
        image, thread = app.session.frames[0]
        assert thread == "camera-frames" and first_reads == ["camera-frames"]
        assert (image.width, image.height) == (8, 4)  # grey, as the sensor delivers it

        # while the first is decoded, frames arrive: only the newest waits, the rest are dropped
        (dropped, dropped_reads), (newest, newest_reads) = nv21(), nv21()
        provider.callback(dropped)
        provider.callback(newest)
        time.sleep(0.1)
        assert len(app.session.frames) == 1
        app.session.release.set()
        wait_for(lambda: len(app.session.frames) == 2)
        assert dropped_reads == [] and newest_reads == ["camera-frames"]
    finally:
        feed.stop()
    assert not feed.running and provider.callback is None and not feed.worker.running


class LateProvider(FakeProvider):
    """A camera whose own thread delivers one more frame after stop() (GStreamer's may)."""

    def stop(self) -> None:
        pass


def test_a_frame_after_the_screen_left_is_not_converted():
    app = FakeApp()
    app.current, app.scanning = "scan", True
    feed = CameraFeed(app)
    provider = LateProvider()
    feed._start(provider)
    frame, _ = nv21()
    provider.callback(frame)
    wait_for(lambda: len(app.session.frames) == 1)
    app.session.release.set()
    wait_for(lambda: feed.worker.handled == 1)
    app.current, app.scanning = "clue", False
    feed.stop()
    late, late_reads = nv21()
    provider.callback(late)  # after stop: dropped, on the clue screen too
    app.current, app.scanning = "scan", True
    provider.callback(late)  # the screen is back but the camera is not: still dropped
    time.sleep(0.1)
    assert late_reads == [] and len(app.session.frames) == 1 and feed.converted == 1


class FakeDecor:
    def __init__(self) -> None:
        self.flags: list[int] = []

    def setSystemUiVisibility(self, flags: int) -> None:
        self.flags.append(flags)


class FakeActivity:
    """PythonActivity.mActivity: orientation requests and the decor view's system UI flags."""

    def __init__(self) -> None:
        self.orientations: list[int] = []
        self.decor = FakeDecor()

    def setRequestedOrientation(self, orientation: int) -> None:
        self.orientations.append(orientation)

    def getWindow(self) -> Any:
        return self

    def getDecorView(self) -> FakeDecor:
        return self.decor


def test_cardboard_asks_android_for_landscape_and_immersive_full_screen():
    from client.window import apply_android_cardboard

    activity = FakeActivity()
    apply_android_cardboard(activity, True)
    apply_android_cardboard(activity, False)
    # ActivityInfo.SCREEN_ORIENTATION_LANDSCAPE, then _PORTRAIT (the app's own)
    assert activity.orientations == [0, 1]
    # View.SYSTEM_UI_FLAG_IMMERSIVE_STICKY (0x1000), FULLSCREEN (4), HIDE_NAVIGATION (2)
    on, off = activity.decor.flags
    assert on & 0x1000 and on & 0x4 and on & 0x2 and off == 0


class FilesProvider(FakeProvider):
    texture = None  # image files: the feed shows what it converts


def test_image_files_are_shown_upright_and_decoded_as_grey():
    from PIL import Image

    from client.qrscan import Gray

    app = FakeApp()
    app.current, app.scanning = "scan", True
    app.session.release.set()
    feed = CameraFeed(app)
    provider = FilesProvider()
    feed._start(provider)
    feed.transform = Transform(90, False)
    try:
        picture = Image.new("RGB", (6, 2), (200, 40, 10))
        provider.callback(picture)
        wait_for(lambda: feed.worker.handled == 1)
        assert feed._shown is not None and feed._shown[1] == (2, 6)  # turned upright to show
    finally:
        feed.stop()
    gray, _ = app.session.frames[0]
    assert isinstance(gray, Gray) and gray.packed() == picture.convert("L").tobytes()
