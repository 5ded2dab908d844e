"""`artcaching tiles import | info | prepare`: a package checked before it is installed, and a
polite, resumable download from a fake tile server on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import pytest

from markers.tiles import covering
from server import mbtiles, models, tiles
from server.cli import tiles as tiles_command
from server.extensions import db
from tests.server.test_cli import ARTCACHING, ROOT, _environment, assert_clean_failure
from tests.server.tile_helpers import TileServer, drawn, make_package

ZOOMS = range(14, 16)


@pytest.fixture
def box_app(make_app, demo, tmp_path):
    """An app whose tile package goes to tmp_path/instance/tiles.mbtiles; (app, slug, box)."""
    app = make_app(TILES_FILE=str(tmp_path / "instance" / "tiles.mbtiles"), TILE_FETCH_DELAY_S=0.0)
    with app.app_context():
        box = tiles.play_box(db.session.get(models.Rally, demo[1]))
    return app, demo[0], box


@pytest.fixture
def upstream():
    with TileServer() as server:
        yield server


def invoke(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(tiles_command, list(args), input=input)


def test_import_installs_a_package_and_says_which_rallies_it_covers(box_app, tmp_path):
    app, slug, box = box_app
    source = tmp_path / "kl.mbtiles"
    keys = make_package(source, box, ZOOMS)
    result = invoke(app, "import", str(source))
    assert result.exit_code == 0, result.output
    assert f"installed 'Testkarte': {len(keys)} png tiles, zooms 14-15" in result.output
    assert f"rally '{slug}': play area covered at zooms 14-15" in result.output
    installed = mbtiles.MBTiles(app.config["TILES_FILE"])
    assert installed.keys() == set(keys)
    info = invoke(app, "info")
    assert info.exit_code == 0, info.output
    assert "Testkarte" in info.output and "attribution: © Testkarte contributors" in info.output
    assert f"rally '{slug}': play area covered" in info.output


def test_import_of_a_package_elsewhere_says_it_does_not_cover(box_app, tmp_path):
    app, slug, box = box_app
    source = tmp_path / "elsewhere.mbtiles"
    away = type(box)(box.west + 1, box.south + 1, box.east + 1, box.north + 1)
    make_package(source, away, ZOOMS)
    result = invoke(app, "import", str(source))
    assert result.exit_code == 0, result.output
    assert f"rally '{slug}': play area NOT covered" in result.output
    assert f"artcaching tiles prepare {slug}" in result.output


def test_info_without_a_package(box_app):
    app, _, _ = box_app
    result = invoke(app, "info")
    assert result.exit_code == 0 and "no tile package" in result.output


def _broken(path, box, fault: str):
    make_package(path, box, range(14, 15))
    with sqlite3.connect(path) as con:
        if fault == "format":
            con.execute("UPDATE metadata SET value='webp' WHERE name='format'")
        elif fault == "bounds":
            con.execute("UPDATE metadata SET value='a,b,c,d' WHERE name='bounds'")
        elif fault == "zooms":
            con.execute("UPDATE metadata SET value='30' WHERE name='maxzoom'")
        elif fault == "tile":
            con.execute("UPDATE tiles SET tile_data=? WHERE rowid=1", (b"<html>oops</html>",))
        elif fault == "outside zooms":
            con.execute("UPDATE tiles SET zoom_level=9 WHERE rowid=1")
        elif fault == "empty":
            con.execute("DELETE FROM tiles")
        elif fault == "no metadata":
            con.execute("DROP TABLE metadata")
    con.close()


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("format", "format must be png or jpg"),
        ("bounds", "metadata needs bounds"),
        ("zooms", "zooms 14-30"),
        ("tile", "not a png image"),
        ("outside zooms", "zoom outside"),
        ("empty", "holds no tiles"),
        ("no metadata", "not an MBTiles package"),
    ],
)
def test_a_bad_package_is_refused_in_one_line_and_the_old_one_stays(box_app, tmp_path, fault, says):
    app, _, box = box_app
    good = tmp_path / "good.mbtiles"
    keys = make_package(good, box, range(14, 15))
    assert invoke(app, "import", str(good)).exit_code == 0
    bad = tmp_path / "bad.mbtiles"
    _broken(bad, box, fault)
    result = invoke(app, "import", str(bad))
    assert_clean_failure(result, says)
    assert len(result.output.strip().splitlines()) == 1
    assert mbtiles.MBTiles(app.config["TILES_FILE"]).keys() == set(keys)
    folder = os.listdir(tmp_path / "instance")
    assert folder == ["tiles.mbtiles"]


@pytest.mark.parametrize(
    "content", [None, b"", b"SQLite format 3\x00" + b"\x00" * 100, b"\x00" * 4096]
)
def test_a_file_that_is_no_package_at_all_is_refused(box_app, tmp_path, content):
    app, _, _ = box_app
    path = tmp_path / "junk.mbtiles"
    if content is not None:
        path.write_bytes(content)
    result = invoke(app, "import", str(path))
    assert_clean_failure(result)
    assert len(result.output.strip().splitlines()) == 1
    assert not os.path.exists(app.config["TILES_FILE"])


def test_a_package_over_the_size_limit_is_refused(box_app, tmp_path):
    app, _, box = box_app
    source = tmp_path / "big.mbtiles"
    make_package(source, box, ZOOMS)
    app.config["TILES_IMPORT_MAX_BYTES"] = 50_000
    assert_clean_failure(invoke(app, "import", str(source)), "TILES_IMPORT_MAX_BYTES")


def source_url(server: TileServer) -> str:
    return server.url + "/{z}/{x}/{y}.png"


def test_prepare_downloads_politely_and_installs(box_app, upstream):
    app, slug, box = box_app
    app.config["TILE_SOURCE_URL"] = source_url(upstream)
    wanted = list(covering(box, ZOOMS))
    result = invoke(app, "prepare", slug, "--zoom", "14-15", "--yes")
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert f"{len(wanted)} tiles at zooms 14-15" in first and "MB" in first
    assert f"{len(wanted)} to fetch from 127.0.0.1" in first
    assert f"rally '{slug}': play area covered at zooms 14-15" in result.output
    paths = upstream.tile_paths()
    assert sorted(paths) == sorted(f"/{z}/{x}/{y}.png" for z, x, y in wanted)
    assert set(upstream.agents) == {"ArtCaching/0.1.0 (+https://artcaching.example.org)"}
    assert 1 <= upstream.most_busy <= 2
    package = mbtiles.MBTiles(app.config["TILES_FILE"])
    assert package.keys() == set(wanted)
    z, x, y = wanted[0]
    assert package.tile(z, x, y) == drawn((z, x, y))
    assert package.package.attribution == "© OpenStreetMap contributors"
    assert not os.path.exists(app.config["TILES_FILE"] + ".part")
    again = invoke(app, "prepare", slug, "--zoom", "14-15", "--yes")
    assert again.exit_code == 0 and f"{len(wanted)} already held, 0 to fetch" in again.output
    assert len(upstream.tile_paths()) == len(wanted)


def test_prepare_asks_first_and_stops_on_no(box_app, upstream):
    app, slug, _ = box_app
    app.config["TILE_SOURCE_URL"] = source_url(upstream)
    result = invoke(app, "prepare", slug, "--zoom", "14-15", input="n\n")
    assert result.exit_code == 1 and "Download them?" in result.output
    assert upstream.requests == []
    assert not os.path.exists(app.config["TILES_FILE"])


def test_prepare_refuses_a_box_over_the_tile_limit(box_app, upstream):
    app, slug, _ = box_app
    app.config["TILE_SOURCE_URL"] = source_url(upstream)
    app.config["TILES_PREPARE_MAX"] = 20
    result = invoke(app, "prepare", slug, "--zoom", "14-18", "--yes")
    assert_clean_failure(result, "TILES_PREPARE_MAX", "--zoom 14-17")
    assert upstream.requests == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["nope"], "there are:"),
        (["{slug}", "--zoom", "18-14"], "zoom must be"),
        (["{slug}", "--zoom", "x"], "zoom must be like 14-18"),
        (["{slug}", "--margin", "-5"], "--margin"),
    ],
)
def test_prepare_bad_arguments(box_app, upstream, args, says):
    app, slug, _ = box_app
    app.config["TILE_SOURCE_URL"] = source_url(upstream)
    result = invoke(app, "prepare", *[a.format(slug=slug) for a in args], "--yes")
    assert result.exit_code in (1, 2) and says in result.output and "Traceback" not in result.output
    assert upstream.requests == []


def test_upstream_404_500_and_garbage(box_app, upstream):
    """A 404 is a tile the source does not have; a 500 or garbage fails the run, nothing is
    installed, and the next run fetches only those tiles."""
    app, slug, box = box_app
    app.config["TILE_SOURCE_URL"] = source_url(upstream)
    wanted = list(covering(box, ZOOMS))
    gone, broken, junk = wanted[1], wanted[4], wanted[-1]
    upstream.special = {
        gone: (404, {}, b"no"),
        broken: (500, {}, b"oops"),
        junk: (200, {"Content-Type": "image/png"}, b"<html>captive portal</html>"),
    }
    result = invoke(app, "prepare", slug, "--zoom", "14-15", "--yes")
    assert_clean_failure(result, "1 not available upstream, 2 failed", "run the same command again")
    assert not os.path.exists(app.config["TILES_FILE"])
    part = mbtiles.MBTiles(app.config["TILES_FILE"] + ".part")
    assert part.keys() == set(wanted) - {gone, broken, junk}
    upstream.special = {gone: (404, {}, b"no")}
    upstream.requests.clear()
    again = invoke(app, "prepare", slug, "--zoom", "14-15", "--yes")
    assert again.exit_code == 0, again.output
    assert sorted(upstream.tile_paths()) == sorted(
        f"/{z}/{x}/{y}.png" for z, x, y in (gone, broken, junk)
    )
    installed = mbtiles.MBTiles(app.config["TILES_FILE"])
    assert installed.keys() == set(wanted) - {gone}
    assert installed.tile(*junk) == drawn(junk)


def test_an_interrupted_prepare_keeps_its_tiles_and_resumes(box_app, upstream, monkeypatch):
    app, slug, box = box_app
    app.config["TILE_SOURCE_URL"] = source_url(upstream)
    wanted = list(covering(box, range(14, 17)))
    fetch_one = tiles.Downloader.one
    calls = []

    def interrupted(self, key):
        calls.append(key)
        if len(calls) == 40:
            raise KeyboardInterrupt
        return fetch_one(self, key)

    monkeypatch.setattr(tiles.Downloader, "one", interrupted)
    result = invoke(app, "prepare", slug, "--zoom", "14-16", "--yes")
    assert_clean_failure(result, "interrupted", "run the same command again")
    kept = mbtiles.MBTiles(app.config["TILES_FILE"] + ".part").keys()
    assert len(kept) >= 32 and kept < set(wanted)
    monkeypatch.setattr(tiles.Downloader, "one", fetch_one)
    upstream.requests.clear()
    again = invoke(app, "prepare", slug, "--zoom", "14-16", "--yes")
    assert again.exit_code == 0, again.output
    assert f"{len(kept)} already held" in again.output
    fetched = {tuple(int(p) for p in path[1:-4].split("/")) for path in upstream.tile_paths()}
    assert fetched == set(wanted) - kept
    assert mbtiles.MBTiles(app.config["TILES_FILE"]).keys() == set(wanted)


def test_a_killed_prepare_resumes_where_it_stopped(box_app, database_url, tmp_path):
    """kill -9 in the middle of a download (a real process): the next run fetches only the
    tiles that were not yet stored."""
    env = _environment(tmp_path, database_url)
    target = tmp_path / "out.mbtiles"
    command = [str(ARTCACHING), "tiles", "prepare", box_app[1], "--zoom", "14-17", "--yes"]
    command += ["-o", str(target), "--delay", "0"]
    with TileServer(pause=0.02) as server:
        env["TILE_SOURCE_URL"] = source_url(server)
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while len(server.requests) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        kept = mbtiles.MBTiles(target).keys()
        assert 16 <= len(kept) <= 62
        server.requests.clear()
        done = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stderr
        assert f"{len(kept)} already held" in done.stdout
        fetched = {tuple(int(p) for p in path[1:-4].split("/")) for path in server.tile_paths()}
    written = mbtiles.MBTiles(target)
    assert not fetched & kept
    assert written.keys() == fetched | kept
    assert "artcaching tiles import" in done.stdout


def test_prepare_to_a_file_then_import_it(box_app, upstream, tmp_path):
    app, slug, box = box_app
    app.config["TILE_SOURCE_URL"] = source_url(upstream)
    out = tmp_path / "home" / "kl.mbtiles"
    out.parent.mkdir()
    result = invoke(app, "prepare", slug, "--zoom", "14-15", "--yes", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"artcaching tiles import {out}" in result.output
    assert not os.path.exists(app.config["TILES_FILE"])
    assert invoke(app, "import", str(out)).exit_code == 0
    assert mbtiles.MBTiles(app.config["TILES_FILE"]).keys() == set(covering(box, ZOOMS))


def test_prepare_for_a_second_rally_keeps_the_first_ones_tiles(box_app, upstream, tmp_path):
    app, slug, box = box_app
    app.config["TILE_SOURCE_URL"] = source_url(upstream)
    away = type(box)(box.west + 1, box.south, box.east + 1, box.north)
    other = make_package(tmp_path / "other.mbtiles", away, range(14, 15), name="Elsewhere")
    assert invoke(app, "import", str(tmp_path / "other.mbtiles")).exit_code == 0
    result = invoke(app, "prepare", slug, "--zoom", "14-15", "--yes")
    assert result.exit_code == 0, result.output
    package = mbtiles.MBTiles(app.config["TILES_FILE"])
    assert package.keys() == set(other) | set(covering(box, ZOOMS))
    assert package.package.name == f"Elsewhere, {slug}"
    assert package.package.bounds.contains(box) and package.package.bounds.contains(away)


def test_the_help_lists_the_tiles_commands():
    result = subprocess.run(
        [str(ARTCACHING), "tiles", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for command in ("import", "info", "prepare"):
        assert f"  {command}" in result.stdout
