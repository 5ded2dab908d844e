"""One worker thread for camera frames, without Kivy: it handles the newest frame it was given;
frames given meanwhile replace each other (only the newest waits), none queue up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Run:
    """One start()..stop(): its own wake-up, so a stopped run never takes a later run's frame."""

    wake: threading.Event = field(default_factory=threading.Event)
    pending: Any = None
    stopped: bool = False
    thread: threading.Thread | None = None


class FrameWorker:
    """handle(frame) on a daemon thread named name, for the newest frame put() since the last
    one; put() from any thread (the camera's or Kivy's) only keeps the frame and returns."""

    def __init__(
        self,
        handle: Callable[[Any], None],
        *,
        name: str = "camera-frames",
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.handle = handle
        self.name = name
        self.on_error = on_error
        self._lock = threading.Lock()
        self._run: _Run | None = None
        self.handled = 0
        """Frames handled so far (tests)."""

    @property
    def running(self) -> bool:
        return self._run is not None

    def start(self) -> None:
        """Start the thread; nothing when already running."""
        with self._lock:
            if self._run is not None:
                return
            run = self._run = _Run()
            run.thread = threading.Thread(
                target=self._work, args=(run,), name=self.name, daemon=True
            )
            run.thread.start()

    def put(self, frame: Any) -> bool:
        """Keep frame for the thread, in place of one still waiting; False once stopped (the
        frame is dropped: a camera may deliver one more after it was told to stop)."""
        with self._lock:
            run = self._run
            if run is None:
                return False
            run.pending = frame
        run.wake.set()
        return True

    def stop(self, wait_s: float = 0.0) -> threading.Thread | None:
        """Drop the waiting frame and end the thread once the frame in hand is handled (waiting
        up to wait_s for that); the thread, or None when not running."""
        with self._lock:
            run, self._run = self._run, None
            if run is None:
                return None
            run.stopped, run.pending = True, None
        run.wake.set()
        assert run.thread is not None  # set under the lock by start()
        if wait_s > 0 and run.thread is not threading.current_thread():
            run.thread.join(wait_s)
        return run.thread

    def _work(self, run: _Run) -> None:
        while True:
            run.wake.wait()
            with self._lock:
                run.wake.clear()
                if run.stopped:
                    return
                frame, run.pending = run.pending, None
            if frame is None:
                continue
            try:
                self.handle(frame)
            except Exception as exc:  # a bad frame must not end the worker
                if self.on_error is not None:
                    self.on_error(exc)
            self.handled += 1
