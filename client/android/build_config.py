"""Write client/build_config.json into the folder buildozer packs: what is fixed at build time.

`make android-src ARTCACHING_DEFAULT_SERVER=https://events.example.org` calls
`python client/android/build_config.py DEST_DIR` with the address in the environment variable
ARTCACHING_DEFAULT_SERVER (not on the command line: no shell quoting to get wrong); the app reads
{"default_server": "..."} from client/build_config.json as the start screen's server address.
Without a server no file is written, and the app has no default (the player types one).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit


def check_server(url: str) -> str:
    """The server's address, without a trailing slash; ValueError if it is not http(s)://host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"ARTCACHING_DEFAULT_SERVER must be http(s)://host[:port], got {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"ARTCACHING_DEFAULT_SERVER takes no query or fragment: {url!r}")
    return url.strip().rstrip("/")


def write(dest: Path, server: str) -> Path | None:
    """Write dest/client/build_config.json (or remove a stale one when server is empty)."""
    path = dest / "client" / "build_config.json"
    if not server.strip():
        path.unlink(missing_ok=True)
        return None
    config = {"default_server": check_server(server)}
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    server = os.environ.get("ARTCACHING_DEFAULT_SERVER", "")
    try:
        written = write(Path(sys.argv[1]), server)
    except ValueError as exc:
        sys.exit(str(exc))
    print(f"default server: {server.strip() or '(none)'}" + (f" in {written}" if written else ""))
