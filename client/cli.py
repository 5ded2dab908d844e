"""The artcaching-client command: its options checked first, then the window, then the exit
status. Kivy is imported only once the options are good (so --help and mistakes answer at once).
"""

from __future__ import annotations

import os
import sys
import threading

from client.options import parse_args


def main(argv: list[str] | None = None) -> int:
    """The artcaching-client command; returns the exit status."""
    options = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # before Kivy reads sys.argv on import
    from client.window import prepare_window

    prepare_window()
    from client.app import ArtCachingApp

    app = ArtCachingApp(options)
    try:
        app.run()
    except KeyboardInterrupt:
        app.exit_code, app.exit_message = 130, "interrupted"
    if app.exit_message:
        stream = sys.stdout if app.exit_code == 0 else sys.__stderr__  # Kivy takes sys.stderr
        print(f"artcaching-client: {app.exit_message}", file=stream, flush=True)
    _stop_threads()
    return app.exit_code


def _stop_threads() -> None:
    """Daemon threads (sensors, pools) must not keep the process alive after the window closed."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(timeout=2)
