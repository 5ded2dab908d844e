"""The rally pack carries the map (client/pack.py download_map, GameSession.fetch_map): the
server's tile manifest, the tiles into the map's TileCache (same folder, same numbering),
capped by the app's setting, resumable, off the UI thread, and a hostile manifest ignored.

The server side (GET /api/v1/rallies/{slug}/tiles, /tiles/z/x/y.png) is a stand-in here with
exactly the manifest's shape: {url, attribution, tiles [[z, x, y], ...], bytes, capped}.
"""

from __future__ import annotations

import json
import threading

import pytest

from client import USER_AGENT, i18n
from client.pack import (
    MB,
    MapProgress,
    RallyPack,
    describe_map,
    download_map,
    manifest_tiles,
    manifest_url,
    plan_map,
)
from client.session import GameSession
from client.settings import Settings, SettingsError
from client.widgets.tiles import OSM_TILE_URL, TileCache
from tests.client.conftest import png
from tests.live import StubServer

SLUG = "demo"
TILE = png((230, 0, 200))


def area_tiles() -> list[list[int]]:
    """Kaiserslautern's centre at zooms 14 to 16, lowest first: 1 + 4 + 16 tiles."""
    tiles = [[14, 8546, 5612]]
    tiles += [[15, 17092 + dx, 11224 + dy] for dx in range(2) for dy in range(2)]
    tiles += [[16, 34184 + dx, 22448 + dy] for dx in range(4) for dy in range(4)]
    return tiles


class BoxServer:
    """The event box: the player API's tile manifest and the /tiles/ of its package.

    ``fail`` holds tiles (z, x, y) that answer 503 (an interruption), ``served`` every tile
    request as (path, User-Agent)."""

    def __init__(self, tiles: list[list[int]] | None = None) -> None:
        self.tiles = area_tiles() if tiles is None else tiles
        self.fail: set[tuple[int, int, int]] = set()
        self.manifest_status = 200

        def answer(path: str):
            path = path.partition("?")[0]
            if path == f"/api/v1/rallies/{SLUG}/tiles":
                body = {
                    "url": f"{self.url}/tiles/{{z}}/{{x}}/{{y}}.png",
                    "attribution": "© OpenStreetMap contributors",
                    "tiles": self.tiles,
                    "bytes": len(TILE) * len(self.tiles),
                    "capped": False,
                }
                raw = json.dumps(body).encode()
                return self.manifest_status, {"Content-Type": "application/json"}, raw
            if path.startswith("/tiles/"):
                z, x, y = (int(v) for v in path[7:].removesuffix(".png").split("/"))
                if (z, x, y) in self.fail:
                    return 503, {"Content-Type": "text/plain"}, b"busy"
                return 200, {"Content-Type": "image/png"}, TILE
            return 404, {"Content-Type": "application/json"}, b'{"error": {"code": "nope"}}'

        self._stub = StubServer(answer)
        self.url = self._stub.url

    @property
    def served(self) -> list[tuple[str, str]]:
        return [
            (path, headers.get("User-Agent", ""))
            for path, headers in self._stub.requests
            if path.startswith("/tiles/")
        ]

    def manifest(self) -> dict:
        from urllib.request import urlopen

        with urlopen(f"{self.url}/api/v1/rallies/{SLUG}/tiles", timeout=5) as r:
            return json.loads(r.read())

    def close(self) -> None:
        self._stub.stop()


@pytest.fixture
def box():
    server = BoxServer()
    yield server
    server.close()


def kept(cache: TileCache) -> set[tuple[int, int, int]]:
    return {
        (int(p.parent.parent.name), int(p.parent.name), int(p.stem))
        for p in cache.root.rglob("*.png")
    }


def test_the_tiles_go_into_the_maps_cache_with_the_apps_user_agent(box, tmp_path):
    cache = TileCache(tmp_path / "tiles", "")
    seen: list[MapProgress] = []
    result = download_map(box.manifest(), cache, box.url, 40 * MB, progress=seen.append)
    assert result.state == "done" and result.tiles == result.kept == 21
    assert result.bytes_kept == 21 * len(TILE) and not result.capped
    assert kept(cache) == {tuple(t) for t in area_tiles()}
    assert (tmp_path / "tiles" / "16" / "34184" / "22448.png").read_bytes() == TILE
    assert {agent for _, agent in box.served} == {USER_AGENT}
    assert seen[-1] == result and seen[0].state == "loading"
    assert cache.get(16, 34184, 22448) == tmp_path / "tiles" / "16" / "34184" / "22448.png"
    cache.close()


def test_an_interrupted_download_resumes_without_fetching_twice(box, tmp_path):
    cache = TileCache(tmp_path / "tiles", "")
    box.fail = {(16, 34185, 22449)}
    first = download_map(box.manifest(), cache, box.url, 40 * MB, timeout_s=5)
    assert first.state == "failed" and "503" in (first.error or "")
    assert 5 <= first.kept < 21
    got_before = len(box.served)
    box.fail = set()
    second = download_map(box.manifest(), cache, box.url, 40 * MB)
    assert second.state == "done" and second.kept == 21
    assert len(box.served) - got_before == 21 - first.kept, "kept tiles are not fetched again"
    cancel = threading.Event()
    cancel.set()
    assert download_map(box.manifest(), cache, box.url, 40 * MB, cancel=cancel).kept == 0
    cache.close()


def test_the_apps_cap_leaves_out_the_highest_zooms(box, tmp_path):
    manifest = box.manifest()
    tiles, planned, capped = plan_map(manifest, 6 * len(TILE))
    assert [t[0] for t in tiles] == [14, 15, 15, 15, 15] and capped
    assert planned == 5 * len(TILE)
    cache = TileCache(tmp_path / "tiles", "")
    result = download_map(manifest, cache, box.url, 6 * len(TILE))
    assert result.state == "done" and result.kept == 5 and result.capped
    assert {z for z, _, _ in kept(cache)} == {14, 15}
    lying = dict(manifest, bytes=1)  # the server says 1 byte: the phone counts what it gets
    small = download_map(lying, TileCache(tmp_path / "small", ""), box.url, 3 * len(TILE))
    assert small.kept == 3 and small.capped and small.bytes_kept <= 3 * len(TILE)
    cache.close()


def test_a_hostile_manifest_is_read_safely():
    bad = {
        "url": "/tiles/{z}/{x}/{y}.png",
        "tiles": [
            [14, 1, 2],
            [14, 1, 2],
            ["14", 1, 2],
            [True, 0, 0],
            [14, -1, 2],
            [2, 4, 0],
            [99, 0, 0],
            [14, 1],
            "14/1/2",
            None,
            {"z": 1},
            [1.5, 0, 0],
        ],
        "bytes": "lots",
    }
    assert manifest_tiles(bad) == [(14, 1, 2)]
    assert manifest_tiles({"tiles": "all"}) == [] and manifest_tiles(None) == []
    assert manifest_tiles({"tiles": [[1, 0, 0]] * 1_000_000}) == [(1, 0, 0)]
    assert manifest_url(bad, "http://box.lan:8000") == "http://box.lan:8000/tiles/{z}/{x}/{y}.png"
    assert manifest_url({"url": "file:///etc/{z}/{x}/{y}"}, "http://box.lan") is None
    assert manifest_url({"url": "javascript:{z}{x}{y}"}, "http://box.lan") is None
    assert manifest_url({"url": "/tiles/{z}.png"}, "http://box.lan") is None
    assert manifest_url({"url": 5}, "http://box.lan") is None
    assert plan_map(bad, 40 * MB) == ([(14, 1, 2)], 0, False)
    assert download_map({"tiles": []}, TileCache("/nonexistent", ""), "http://x", MB).state == (
        "none"
    )


def test_garbage_tiles_from_the_server_are_not_kept(tmp_path):
    def answer(path: str):
        return 200, {"Content-Type": "text/html"}, b"<html>captive portal</html>"

    with StubServer(answer) as portal:
        manifest = {"url": f"{portal.url}/{{z}}/{{x}}/{{y}}.png", "tiles": [[14, 1, 2]]}
        result = download_map(manifest, TileCache(tmp_path / "t", ""), portal.url, MB)
    assert result.state == "failed" and "not a PNG" in (result.error or "")
    assert not list((tmp_path / "t").rglob("*.png"))


def test_the_size_in_words():
    assert describe_map(None) is None
    assert describe_map(MapProgress("none")) == ("ui.map_pack.none", {})
    done = MapProgress("done", 100, 100, 12 * MB, 12 * MB)
    key, values = describe_map(done)
    assert i18n.t(key, "de", **values) == "Karte: 12 MB, geht auch ohne Netz"
    assert i18n.t(key, "en", **values) == "Map: 12 MB, works without network"
    key, values = describe_map(MapProgress("loading", 100, 30, 12 * MB, 3 * MB + MB // 2))
    assert i18n.t(key, "de", **values) == "Karte: 3.5 von 12 MB geladen"
    key, values = describe_map(MapProgress("failed", 100, 30, 12 * MB, 4 * MB))
    assert i18n.t(key, "en", **values) == "Map: 4.0 of 12 MB, the rest follows with network"


def test_the_map_setting():
    assert Settings().map_pack_mb == 40
    for bad in (-1, 1.5, "40", True, 100_000):
        with pytest.raises(SettingsError, match="map_pack_mb"):
            Settings(map_pack_mb=bad)


def test_the_session_fetches_the_map_after_the_rally_and_plays_it_offline(box, tmp_path):
    """fetch_map off the UI thread into the map's cache, progress in the snapshots; with the
    box gone the manifest kept in the pack says the map is complete, and the map's cache
    (url failing) shows every tile from the disk."""
    cache = TileCache(tmp_path / "phone" / "tiles", "http://127.0.0.1:9/{z}/{x}/{y}.png")
    settings = Settings(server_url=box.url)
    seen: list = []
    with GameSession(tmp_path / "phone", settings, tiles=cache) as session:
        session.subscribe(lambda snap: seen.append(snap.map_pack))
        assert session.fetch_map().result(10).state == "none", "no rally yet: nothing to do"
        session.pack = RallyPack(session.data_dir, SLUG)
        caller = threading.get_ident()
        worker: list[int] = []
        session.subscribe(lambda snap: worker.append(threading.get_ident()))
        result = session.fetch_map().result(30)
        assert result.state == "done" and result.kept == 21
        assert caller not in worker, "the download ran on a worker thread"
        assert session.snapshot.map_pack == result
        assert [p.state for p in seen if p is not None][-1] == "done"
        assert session.pack.map()["tiles"] == area_tiles()
    box.close()
    with GameSession(tmp_path / "phone", settings, tiles=cache) as session:
        session.pack = RallyPack(session.data_dir, SLUG)
        offline = session.fetch_map().result(30)
        assert offline.state == "done" and offline.kept == 21
    for z, x, y in area_tiles():
        assert cache.get(z, x, y) == cache.path(z, x, y)
    assert cache.errors == 0
    cache.close()


def test_no_map_without_a_package_or_with_the_setting_at_zero(tmp_path):
    box = BoxServer(tiles=[])
    cache = TileCache(tmp_path / "tiles", "")
    try:
        with GameSession(tmp_path / "a", Settings(server_url=box.url), tiles=cache) as session:
            session.pack = RallyPack(session.data_dir, SLUG)
            assert session.fetch_map().result(10).state == "none"
        off = Settings(server_url=box.url, map_pack_mb=0)
        with GameSession(tmp_path / "b", off, tiles=cache) as session:
            session.pack = RallyPack(session.data_dir, SLUG)
            assert session.fetch_map().result(10).state == "none"
        assert box.served == []
        box.manifest_status = 404  # a server from before the map pack
        with GameSession(tmp_path / "c", Settings(server_url=box.url), tiles=cache) as session:
            session.pack = RallyPack(session.data_dir, SLUG)
            assert session.fetch_map().result(10).state == "none"
    finally:
        box.close()
        cache.close()


def test_the_real_box_serves_the_pack_the_phone_keeps(tmp_path):
    """The server's manifest and /tiles/ (not a stand-in): a package installed on the box goes
    whole into the phone's map cache and is shown from there with the box gone."""
    from server import models, tiles
    from server.extensions import db
    from tests.client.conftest import serving_demo
    from tests.server.tile_helpers import make_package

    (tmp_path / "box").mkdir()
    package = tmp_path / "box" / "tiles.mbtiles"
    with serving_demo(tmp_path / "box", TILES_FILE=str(package)) as demo:
        demo.app.config["PUBLIC_BASE_URL"] = demo.url
        with demo.app.app_context():
            area = tiles.play_box(db.session.get(models.Rally, demo.rally_id))
        held = make_package(package, area, range(13, 15))
        cache = TileCache(tmp_path / "phone" / "tiles", "http://127.0.0.1:9/{z}/{x}/{y}.png")
        with GameSession(tmp_path / "phone", Settings(server_url=demo.url), tiles=cache) as s:
            s.pack = RallyPack(s.data_dir, demo.slug)
            result = s.fetch_map().result(60)
    assert result.state == "done" and result.kept == len(held)
    assert {tuple(k) for k in s.pack.map()["tiles"]} == set(held)
    for z, x, y in held:
        assert cache.get(z, x, y) == cache.path(z, x, y)
    assert cache.url == "http://127.0.0.1:9/{z}/{x}/{y}.png", "a chosen tile source stays"
    cache.close()


def test_the_default_tile_source_gives_way_to_the_box(box, tmp_path):
    """With the app's default source (OpenStreetMap, which needs internet) the map asks the box
    for the tiles outside the pack too."""
    cache = TileCache(tmp_path / "tiles", OSM_TILE_URL)
    manifest = box.manifest()
    download_map(manifest, cache, box.url, 10 * MB)
    assert cache.url == manifest_url(manifest, box.url) != OSM_TILE_URL
    cache.close()
