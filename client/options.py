"""The artcaching-client options, checked before any window opens (no Kivy here), and where the
desktop app keeps its data."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from client import __version__
from client.autoplay import AUTOPLAY_SPEEDUP
from client.permissions import DENY_CHOICES
from client.widgets.tiles import OSM_TILE_URL
from markers.i18n import PLAYER_LANGUAGES


def default_data_dir() -> Path:
    """Where the desktop app keeps settings, outbox, rally packs and tiles."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "artcaching"


def answers_table(text: str) -> dict[int, object]:
    """--answers: a JSON object of stop number -> answer."""
    try:
        table = json.loads(text)
        if not isinstance(table, dict):
            raise ValueError("not a JSON object")
        return {int(stop): answer for stop, answer in table.items()}
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f'a JSON object of stop number -> answer, e.g. {{"1": 1892}}: {exc}'
        ) from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line's options, checked (argparse exits with status 2 and a message)."""
    p = argparse.ArgumentParser(
        prog="artcaching-client",
        description="The Art Caching phone app. On a desktop, sensors are simulated: "
        "--simulate-gpx walks a GPX track, --frames shows image files as the camera.",
    )
    p.add_argument(
        "--server",
        help="server address, e.g. http://127.0.0.1:5000 (default: the one saved in the settings)",
    )
    p.add_argument(
        "--ca-file",
        type=Path,
        metavar="FILE",
        help="PEM file of CA certificates to trust besides the built-in ones (certifi's), for "
        "an event server with a private CA (kept in the settings)",
    )
    p.add_argument("--rally", help="rally slug to play (e.g. art-caching-kaiserslautern)")
    p.add_argument(
        "--team",
        help="team name: start a new team in --rally at once (never resumes a saved one)",
    )
    p.add_argument("--join-code", help="join the team with this code in --rally at once")
    p.add_argument(
        "--simulate-gpx",
        type=Path,
        metavar="FILE",
        help="replay this GPX track (or route, or waypoints) as the GPS",
    )
    p.add_argument(
        "--frames",
        type=Path,
        metavar="DIR",
        help="image files shown as camera frames (AR view, QR scan)",
    )
    p.add_argument(
        "--autoplay",
        action="store_true",
        help="walk the route by itself; exit 0 when the rally is complete",
    )
    p.add_argument(
        "--speedup",
        type=float,
        default=None,
        help="replay the walk this many times faster than walking "
        f"(default 1; {AUTOPLAY_SPEEDUP:g} with --autoplay)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="with --autoplay: give up (exit 1) after this many seconds",
    )
    p.add_argument(
        "--heading",
        default="auto",
        metavar="DEG|auto|off",
        help="desktop compass: a fixed heading in degrees, 'auto' (default: look "
        "towards the next marker, swaying a little) or 'off'",
    )
    p.add_argument(
        "--lang",
        choices=PLAYER_LANGUAGES,
        help="language; de-x-ls is Leichte Sprache (easy German) (default: the saved one)",
    )
    p.add_argument("--large-text", action="store_true", help="large text, for sunlight")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"settings, outbox and map tiles (default {default_data_dir()})",
    )
    p.add_argument(
        "--tile-url",
        default=None,
        help=f"map tile URL template (default {OSM_TILE_URL}; '' for offline)",
    )
    p.add_argument(
        "--screenshot-dir",
        type=Path,
        default=None,
        help="with --autoplay: save a screenshot of each screen here",
    )
    p.add_argument(
        "--answers",
        type=answers_table,
        default={},
        metavar="JSON",
        help="with --autoplay: answers to give to the stops' tasks, e.g. '{\"1\": 1892, "
        "\"10\": 2}' (a choice is the option's index from 0; default: none)",
    )
    p.add_argument(
        "--deny",
        action="append",
        choices=tuple(DENY_CHOICES),
        default=[],
        help="desktop: play as a player who refused this permission (repeatable; "
        "precise-location leaves approximate location)",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    args = p.parse_args(argv)
    if (args.team or args.join_code or args.autoplay) and not args.rally:
        p.error("--team, --join-code and --autoplay need --rally")
    if args.autoplay and not (args.team or args.join_code):
        p.error("--autoplay needs --team (or --join-code)")
    if args.autoplay and args.simulate_gpx is None:
        p.error("--autoplay needs --simulate-gpx (the route to walk)")
    if args.server is not None and not args.server.startswith(("http://", "https://")):
        p.error(f"--server must start with http:// or https://, got {args.server!r}")
    if args.ca_file is not None:
        from client.http import make_context

        try:
            make_context(args.ca_file)
        except (OSError, ValueError) as exc:
            p.error(f"--ca-file: no CA certificates (PEM) in {args.ca_file}: {exc}")
        args.ca_file = args.ca_file.resolve()
    if args.simulate_gpx is not None and not args.simulate_gpx.is_file():
        p.error(f"--simulate-gpx: no such file: {args.simulate_gpx}")
    if args.frames is not None:
        from client.sensors.camera import FramesFromFiles

        try:
            FramesFromFiles(args.frames)
        except ValueError as exc:
            p.error(f"--frames: {exc}")
    if args.heading not in ("auto", "off"):
        try:
            args.heading = float(args.heading) % 360.0
        except ValueError:
            p.error(f"--heading must be degrees, 'auto' or 'off', got {args.heading!r}")
    if args.speedup is not None and args.speedup <= 0:
        p.error("--speedup must be positive")
    return args
