"""What the Android build fixes: the default event server.

The build (``make android-src``) writes ``client/build_config.json`` next to this file,
``{"default_server": "https://play.example.org"}``, from the environment variable
``ARTCACHING_DEFAULT_SERVER``. At run time the app reads that file; on the desktop the same
variable is read at run time too, and without either the local development server is the
default. On a phone there is no local server: without a built-in one the start screen asks for
the address (the default is ""). No Kivy here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

ENV_VAR = "ARTCACHING_DEFAULT_SERVER"
FILE = Path(__file__).with_name("build_config.json")
DESKTOP_DEFAULT_SERVER = "http://127.0.0.1:5000"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "0.0.0.0")


def on_android(environ: Mapping[str, str] = os.environ) -> bool:
    """Running inside python-for-android (the test Kivy's kivy.utils.platform makes too)."""
    return "ANDROID_ARGUMENT" in environ


def is_loopback(url: str) -> bool:
    """The URL names this device itself (on a phone: never the event server)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in LOOPBACK or host.startswith("127.")


def default_server(path: Path = FILE, environ: Mapping[str, str] | None = None) -> str:
    """The server the app uses until the player chooses one; "" when the player must say.

    The built-in file wins, then ARTCACHING_DEFAULT_SERVER; on the desktop the fallback is the
    local development server. On Android a loopback address is never the default.
    """
    env = os.environ if environ is None else environ
    android = on_android(env)
    url = _from_file(path) or env.get(ENV_VAR, "").strip()
    if url and not url.startswith(("http://", "https://")):
        url = ""
    if android and url and is_loopback(url):
        url = ""
    if not url and not android:
        url = DESKTOP_DEFAULT_SERVER
    return url.rstrip("/")


def _from_file(path: Path) -> str:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    value = raw.get("default_server") if isinstance(raw, dict) else None
    return value.strip() if isinstance(value, str) else ""
