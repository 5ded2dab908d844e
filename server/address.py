"""The public address printed codes point to: PUBLIC_BASE_URL, else the one `artcaching run`
recorded in the instance folder, else http://127.0.0.1:5000; and what is wrong with it.

No Flask here: server/config.py reads it before the app exists.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT = "http://127.0.0.1:5000"
RECORD_FILE = "public_base_url"
"""The file in the instance folder where `artcaching run` writes the address it serves at."""
PROBE = ("192.0.2.1", 9)
"""A TEST-NET address (RFC 5737): connecting a UDP socket to it sends nothing, but picks the
interface of the default route."""
UNSPECIFIED_HOSTS = ("", "0.0.0.0", "::", "[::]")
LOCAL_SUFFIXES = (".local", ".lan", ".home", ".home.arpa", ".internal", ".intranet")
SOURCES = ("environment", "recorded", "default", "settings")
"""Where the address came from, as the organiser page names it."""


def checked(value: str, name: str = "PUBLIC_BASE_URL") -> str:
    """An http(s) URL without its trailing slash, or a clear stop."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or "\x00" in value:
        raise SystemExit(f"{name} must be an http(s) URL like https://example.org, got {value!r}")
    return value.rstrip("/")


def record_path(instance_path: str | Path) -> Path:
    return Path(instance_path) / RECORD_FILE


def recorded(instance_path: str | Path) -> str | None:
    """The address `artcaching run` recorded for this instance, or None."""
    try:
        text = record_path(instance_path).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return checked(text, str(record_path(instance_path))) if text else None


def record(instance_path: str | Path, url: str) -> Path:
    """Write url as this instance's address (whole or not at all); the file's path."""
    target = record_path(instance_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    draft = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}")
    draft.write_text(checked(url) + "\n", encoding="utf-8")
    os.replace(draft, target)
    return target


def configured(environment: str | None, instance_path: str | Path) -> tuple[str, str]:
    """(address, source): PUBLIC_BASE_URL wins, then the recorded address, then the default."""
    if environment:
        return checked(environment), "environment"
    if found := recorded(instance_path):
        return found, "recorded"
    return DEFAULT, "default"


def lan_address() -> str:
    """This machine's address on the interface of the default route (no packet is sent);
    127.0.0.1 when there is no such route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(PROBE)
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def served_url(host: str, port: int, https: bool = False) -> str:
    """The address a server listening on host:port is reached at: 0.0.0.0 (every interface)
    becomes the LAN address, an IPv6 address gets its brackets."""
    if host in UNSPECIFIED_HOSTS:
        host = lan_address()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{'https' if https else 'http'}://{host}:{port}"


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_local(host: str) -> bool:
    """Whether host names a place in a local network (a private or link-local address, a name
    without dots or under .local, .lan and the like), where plain http is usual."""
    ip = _ip(host)
    if ip is not None:
        return ip.is_private or ip.is_link_local
    return "." not in host or host.endswith(LOCAL_SUFFIXES)


def problems(url: str) -> list[str]:
    """What keeps phones from the address (codes of organiser.address.<code>): "loopback" (this
    machine only), "unspecified" (0.0.0.0 is no address to call), "not_https" (plain http on
    the open internet)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    ip = _ip(host)
    if host == "localhost" or host.endswith(".localhost") or (ip is not None and ip.is_loopback):
        return ["loopback"]
    if host in UNSPECIFIED_HOSTS or (ip is not None and ip.is_unspecified):
        return ["unspecified"]
    if parts.scheme != "https" and not is_local(host):
        return ["not_https"]
    return []
