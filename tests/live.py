"""The one way the tests serve HTTP for real: a server on 127.0.0.1 in a daemon thread.

``socketserver`` notices a shutdown only between two polls, every 0.5 s by default; these servers
poll every POLL_S, so stopping one costs milliseconds instead of half a second.
"""

from __future__ import annotations

import http.server
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

POLL_S = 0.02

Answer = tuple[int, dict[str, str], bytes]
"""What a stub server sends back: status, headers (Content-Length is added) and body."""


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Background:
    """A socketserver serving in a daemon thread until stop() (which also closes its socket)."""

    def __init__(self, httpd: socketserver.BaseServer) -> None:
        self.httpd = httpd
        self.thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": POLL_S}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.thread.join(timeout=10)
        self.httpd.server_close()


class LiveServer:
    """A WSGI app on werkzeug's threaded server at 127.0.0.1; stop() and start() keep its port."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = 0
        self._running: Background | None = None
        self.start()
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._running is not None

    def start(self) -> None:
        from werkzeug.serving import make_server

        if self._running is None:
            httpd = make_server("127.0.0.1", self.port, self.app, threaded=True)
            self.port = httpd.server_port
            self._running = Background(httpd)

    def stop(self) -> None:
        """Shut the server down: connections to its port are refused until start()."""
        if self._running is not None:
            self._running.stop()
            self._running = None


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app served until the block ends; its base URL."""
    server = LiveServer(app)
    try:
        yield server.url
    finally:
        server.stop()


class StubServer:
    """A stand-in HTTP server on 127.0.0.1 at ``url``: every GET is answered by answer(path) and
    recorded in ``requests`` as (path, headers); a context manager that stops it at the end."""

    def __init__(self, answer: Callable[[str], Answer]) -> None:
        self.requests: list[tuple[str, Message]] = []
        seen = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append((self.path, self.headers))
                status, headers, body = answer(self.path)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{httpd.server_port}"
        self._running = Background(httpd)

    def stop(self) -> None:
        self._running.stop()

    def __enter__(self) -> StubServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
