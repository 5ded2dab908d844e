"""client.frame_worker without Kivy: frames are handled on the worker thread, the newest only,
none queue up while one is handled, and a frame that comes after stop() is dropped."""

from __future__ import annotations

import threading
import time
from typing import Any

from client.frame_worker import FrameWorker


def wait_for(test: Any, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not test():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class SlowDecoder:
    """Holds each frame until released, as a decode in flight; records frames and threads."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, str]] = []
        self.release = threading.Event()

    def __call__(self, frame: Any) -> None:
        self.seen.append((frame, threading.current_thread().name))
        assert self.release.wait(5)


def test_the_newest_frame_waits_the_others_drop():
    decoder = SlowDecoder()
    worker = FrameWorker(decoder, name="frames-test")
    worker.start()
    try:
        assert worker.put(1)
        wait_for(lambda: len(decoder.seen) == 1)
        for frame in (2, 3, 4):  # while 1 is decoded
            assert worker.put(frame)
        time.sleep(0.05)
        assert [f for f, _ in decoder.seen] == [1]
        decoder.release.set()
        wait_for(lambda: worker.handled == 2)
        assert decoder.seen == [(1, "frames-test"), (4, "frames-test")]
    finally:
        thread = worker.stop(wait_s=2)
    assert thread is not None and not thread.is_alive()


def test_a_frame_after_stop_is_dropped_and_a_restart_is_fresh():
    decoder = SlowDecoder()
    decoder.release.set()
    worker = FrameWorker(decoder)
    assert not worker.put("before start")
    worker.start()
    worker.start()  # once is enough
    first = worker.stop(wait_s=2)
    assert first is not None and not first.is_alive()
    assert not worker.put("late frame from the camera's thread")
    assert worker.stop() is None
    worker.start()
    try:
        assert worker.put("fresh")
        wait_for(lambda: worker.handled == 1)
        assert [f for f, _ in decoder.seen] == ["fresh"]
    finally:
        worker.stop(wait_s=2)


def test_stop_while_decoding_drops_the_waiting_frame_and_ends_after_the_one_in_hand():
    decoder = SlowDecoder()
    worker = FrameWorker(decoder)
    worker.start()
    worker.put("in hand")
    wait_for(lambda: len(decoder.seen) == 1)
    worker.put("waiting")
    thread = worker.stop()
    assert thread is not None and thread.is_alive() and not worker.running
    decoder.release.set()
    thread.join(2)
    assert not thread.is_alive() and [f for f, _ in decoder.seen] == ["in hand"]


def test_a_failing_frame_is_reported_and_the_worker_goes_on():
    errors: list[Exception] = []

    def handle(frame: Any) -> None:
        if frame == "bad":
            raise ValueError("bad frame")

    worker = FrameWorker(handle, on_error=errors.append)
    worker.start()
    try:
        worker.put("bad")
        wait_for(lambda: worker.handled == 1)
        worker.put("good")
        wait_for(lambda: worker.handled == 2)
    finally:
        worker.stop(wait_s=2)
    assert [str(e) for e in errors] == ["bad frame"]
