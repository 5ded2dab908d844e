"""The artcaching-client command: its options, clear errors, and the exit status of --autoplay."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.client.conftest import kivy_log
from tests.conftest import ROOT, console_script

CLIENT = str(console_script("artcaching-client"))


def client(
    *args: str, env: dict[str, str] | None = None, timeout_s: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLIENT, *args], capture_output=True, text=True, timeout=timeout_s, env=env, cwd=ROOT
    )


def test_help_names_every_option():
    result = client("--help")
    assert result.returncode == 0
    for option in (
        "--server",
        "--rally",
        "--team",
        "--join-code",
        "--simulate-gpx",
        "--frames",
        "--autoplay",
        "--speedup",
        "--timeout",
        "--heading",
        "--lang",
        "--large-text",
        "--data-dir",
        "--tile-url",
        "--screenshot-dir",
    ):
        assert option in result.stdout, option


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--autoplay"], "--team, --join-code and --autoplay need --rally"),
        (["--server", "artcaching.example.org"], "--server must start with http:// or https://"),
        (["--rally", "r", "--autoplay"], "--autoplay needs --team"),
        (["--rally", "r", "--team", "t", "--autoplay"], "--autoplay needs --simulate-gpx"),
        (["--simulate-gpx", "no-such.gpx"], "--simulate-gpx: no such file: no-such.gpx"),
        (["--frames", "no-such-folder"], "--frames: frames folder no-such-folder does not exist"),
        (["--frames", "client"], "--frames: frames folder client holds no images"),
        (["--heading", "north"], "--heading must be degrees, 'auto' or 'off', got 'north'"),
        (["--speedup", "0"], "--speedup must be positive"),
        (["--lang", "fr"], "invalid choice: 'fr'"),
    ],
)
def test_bad_options_are_named(args, message):
    result = client(*args)
    assert result.returncode == 2
    assert message in result.stderr


WALK = (
    '<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
    '<trkpt lat="49.4359" lon="7.7688"/><trkpt lat="49.4417" lon="7.7614"/>'
    "</trkseg></trk></gpx>"
)
"""A short walk from the demo rally's start."""


def failed_autoplay(env: dict[str, str], tmp_path, *options: str) -> str:
    """Run ``--autoplay`` along WALK with the options; asserts exit status 1, returns stderr."""
    gpx = tmp_path / "walk.gpx"
    gpx.write_text(WALK)
    result = client(
        *options,
        "--simulate-gpx",
        str(gpx),
        "--autoplay",
        "--data-dir",
        str(tmp_path / "d"),
        "--tile-url",
        "",
        "--lang",
        "en",
        env=env,
        timeout_s=90,
    )
    assert result.returncode == 1, f"{result.stderr[-2000:]}\n{kivy_log(env)}"
    return result.stderr


@pytest.mark.kivy
def test_autoplay_without_a_server_fails_with_a_clear_message(kivy_env, tmp_path):
    started = time.monotonic()
    stderr = failed_autoplay(
        kivy_env, tmp_path, "--server", "http://127.0.0.1:9", "--rally", "demo", "--team", "T"
    )
    assert (
        "artcaching-client: autoplay failed: No connection to the server. Finds are kept "
        "and sent later."
    ) in stderr
    assert time.monotonic() - started < 60


@pytest.mark.kivy
def test_autoplay_that_runs_out_of_time_exits_non_zero(kivy_env, tmp_path, live_server, demo):
    slug, _ = demo
    stderr = failed_autoplay(
        kivy_env,
        tmp_path,
        "--server",
        live_server,
        "--rally",
        slug,
        "--team",
        "Slow walkers",
        "--speedup",
        "1",
        "--timeout",
        "4",
    )
    assert (
        "artcaching-client: autoplay did not complete the rally within 4 s (0/10 stops found)"
    ) in stderr


@pytest.mark.kivy
def test_autoplay_with_an_unknown_join_code_names_the_problem(
    kivy_env, tmp_path, live_server, demo
):
    slug, _ = demo
    stderr = failed_autoplay(
        kivy_env, tmp_path, "--server", live_server, "--rally", slug, "--join-code", "NOSUCHCODE"
    )
    assert "artcaching-client: autoplay failed: The server refused: " in stderr
