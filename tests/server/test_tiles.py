"""The box serves the map: tiles of the installed package at /tiles/, the maps' tile URL, the
phone's tile manifest."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading

import pytest

from markers.tiles import covering
from server import maps, mbtiles, models, tiles
from server.config import DEFAULT_TILE_URL
from server.extensions import db
from tests.server.tile_helpers import drawn, make_package

ZOOMS = range(14, 17)


@pytest.fixture
def boxed(make_app, demo, tmp_path):
    """An app with a package of drawn tiles covering the demo rally's play area installed;
    (app, slug, the keys held)."""
    path = tmp_path / "instance" / "tiles.mbtiles"
    app = make_app(TILES_FILE=str(path))
    slug, rally_id = demo
    with app.app_context():
        box = tiles.play_box(db.session.get(models.Rally, rally_id))
    keys = make_package(path, box, ZOOMS)
    return app, slug, keys


def test_a_tile_comes_with_its_type_a_long_cache_and_an_etag(boxed):
    app, _, keys = boxed
    client = app.test_client()
    z, x, y = keys[0]
    answer = client.get(f"/tiles/{z}/{x}/{y}.png")
    assert answer.status_code == 200
    assert answer.mimetype == "image/png"
    assert answer.data == drawn((z, x, y))
    assert answer.cache_control.public and answer.cache_control.max_age >= 86400
    etag = answer.headers["ETag"]
    again = client.get(f"/tiles/{z}/{x}/{y}.png", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get(f"/tiles/{z}/{x}/{y + 1}.png", headers={"If-None-Match": etag})
    assert other.status_code in (200, 404) and other.headers.get("ETag") != etag


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/3/0/0.png",
        "/tiles/14/-1/0.png",
        "/tiles/14/99999999/0.png",
        "/tiles/99/0/0.png",
        "/tiles/1" + "0" * 40 + "/0/0.png",
        "/tiles/14/x/0.png",
        "/tiles/14/0/0.jpg",
        "/tiles/../../etc/passwd",
    ],
)
def test_a_tile_not_held_or_bad_numbers_are_404_not_500(boxed, path):
    app, _, _ = boxed
    assert app.test_client().get(path).status_code == 404


def test_a_nul_byte_in_a_tile_path_is_refused_as_bad_input(boxed):
    app, _, _ = boxed
    assert app.test_client().get("/tiles/14/0/0%00.png").status_code == 400


def test_no_package_and_a_broken_package_are_404(make_app, tmp_path):
    path = tmp_path / "tiles.mbtiles"
    app = make_app(TILES_FILE=str(path))
    client = app.test_client()
    assert client.get("/tiles/14/8544/5624.png").status_code == 404
    path.write_bytes(b"this is not SQLite at all" * 100)
    assert client.get("/tiles/14/8544/5624.png").status_code == 404
    with app.test_request_context():
        assert tiles.installed() is None
        assert maps.settings()["tile_url"] == DEFAULT_TILE_URL


def test_tiles_are_not_rate_limited(boxed, make_app, tmp_path):
    _, _, keys = boxed
    app = make_app(
        TILES_FILE=str(tmp_path / "instance" / "tiles.mbtiles"),
        RATELIMIT_ENABLED=True,
        RATELIMIT_DEFAULT="5 per minute",
    )
    client = app.test_client()
    z, x, y = keys[0]
    assert all(client.get(f"/tiles/{z}/{x}/{y}.png").status_code == 200 for _ in range(12))


def test_a_new_package_is_seen_without_a_restart(boxed, tmp_path):
    """Import renames a new file into place: the next request serves from it."""
    app, _, keys = boxed
    client = app.test_client()
    z, x, y = keys[0]
    first = client.get(f"/tiles/{z}/{x}/{y}.png").data
    fresh = tmp_path / "fresh.mbtiles"
    package = mbtiles.MBTiles(app.config["TILES_FILE"]).package
    mbtiles.write(fresh, package, [((z, x, y), drawn((z, x + 1, y)))])
    tiles.install(fresh, app.config["TILES_FILE"], 10**9)
    second = client.get(f"/tiles/{z}/{x}/{y}.png").data
    assert second != first and second == drawn((z, x + 1, y))


def test_many_threads_read_tiles_at_once(boxed):
    app, _, keys = boxed
    wrong: list[str] = []

    def read(part: list) -> None:
        client = app.test_client()
        for key in part:
            z, x, y = key
            answer = client.get(f"/tiles/{z}/{x}/{y}.png")
            if answer.status_code != 200 or answer.data != drawn(key):
                wrong.append(f"{key}: {answer.status_code}")

    threads = [threading.Thread(target=read, args=(keys[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_the_maps_use_the_box_tiles_when_a_package_is_installed(boxed):
    app, slug, _ = boxed
    with app.test_request_context():
        settings = maps.settings()
    assert settings["tile_url"] == "/tiles/{z}/{x}/{y}.png"
    assert settings["attribution"] == "© Testkarte contributors"
    options = settings["tile_options"]
    assert (options["minNativeZoom"], options["maxNativeZoom"]) == (14, 16)
    (south, west), (north, east) = options["bounds"]
    assert south < north and west < east
    policy = app.test_client().get(f"/play/{slug}").headers["Content-Security-Policy"]
    assert "img-src 'self'" in policy


def test_a_tile_url_that_is_set_wins_over_the_package(boxed, make_app, monkeypatch, tmp_path):
    path = str(tmp_path / "instance" / "tiles.mbtiles")
    app = make_app(TILES_FILE=path, TILE_URL="https://tiles.example.org/{z}/{x}/{y}.png")
    with app.test_request_context():
        assert maps.settings()["tile_url"] == "https://tiles.example.org/{z}/{x}/{y}.png"
    monkeypatch.setenv("TILE_URL", DEFAULT_TILE_URL)
    app = make_app(TILES_FILE=path)
    with app.test_request_context():
        assert maps.settings()["tile_url"] == DEFAULT_TILE_URL


def test_a_hostile_attribution_reaches_the_map_as_text(boxed, tmp_path):
    app, _, _ = boxed
    package = mbtiles.MBTiles(app.config["TILES_FILE"]).package
    evil = tmp_path / "evil.mbtiles"
    shutil.copyfile(app.config["TILES_FILE"], evil)
    with sqlite3.connect(evil) as con:
        con.execute(
            "UPDATE metadata SET value=? WHERE name='attribution'",
            ("<img src=x onerror=alert(1)>© Evil <script>alert(2)</script>&lt;b&gt;",),
        )
    con.close()
    tiles.install(evil, app.config["TILES_FILE"], 10**9)
    with app.test_request_context():
        shown = maps.settings()["attribution"]
    assert "<" not in shown and "alert(1)" not in shown
    assert shown.startswith("© Evil") and "&lt;b&gt;" in shown
    assert package.name == "Testkarte"


def test_the_manifest_lists_the_play_area_tiles_lowest_zooms_first(boxed):
    app, slug, keys = boxed
    answer = app.test_client().get(f"/api/v1/rallies/{slug}/tiles")
    assert answer.status_code == 200
    body = answer.json
    assert body["url"] == "https://artcaching.example.org/tiles/{z}/{x}/{y}.png"
    assert body["attribution"] == "© Testkarte contributors"
    assert body["capped"] is False
    assert sorted(map(tuple, body["tiles"])) == sorted(keys)
    zs = [z for z, _, _ in body["tiles"]]
    assert zs == sorted(zs)
    sizes = mbtiles.MBTiles(app.config["TILES_FILE"]).sizes()
    assert body["bytes"] == sum(sizes.values())


def test_the_manifest_drops_the_highest_zooms_over_the_limit(boxed, make_app, tmp_path):
    _, slug, _ = boxed
    sizes = mbtiles.MBTiles(tmp_path / "instance" / "tiles.mbtiles").sizes()
    low = sum(n for (z, _, _), n in sizes.items() if z < 16)
    app = make_app(TILES_FILE=str(tmp_path / "instance" / "tiles.mbtiles"))
    app.config["PACK_TILES_MAX_BYTES"] = low + 10
    body = app.test_client().get(f"/api/v1/rallies/{slug}/tiles").json
    assert body["capped"] is True
    assert {z for z, _, _ in body["tiles"]} == {14, 15}
    assert body["bytes"] == low <= app.config["PACK_TILES_MAX_BYTES"]
    app.config["PACK_TILES_MAX_BYTES"] = 10
    body = app.test_client().get(f"/api/v1/rallies/{slug}/tiles").json
    assert body["tiles"] == [] and body["bytes"] == 0 and body["capped"] is True


def test_the_manifest_holds_only_tiles_of_the_play_area(make_app, demo, tmp_path):
    """A package of a bigger area: the phone takes only what its rally needs."""
    path = tmp_path / "tiles.mbtiles"
    app = make_app(TILES_FILE=str(path))
    with app.app_context():
        box = tiles.play_box(db.session.get(models.Rally, demo[1]))
    wide = type(box)(box.west - 0.05, box.south - 0.03, box.east + 0.05, box.north + 0.03)
    make_package(path, wide, range(14, 16))
    body = app.test_client().get(f"/api/v1/rallies/{demo[0]}/tiles").json
    assert sorted(map(tuple, body["tiles"])) == sorted(covering(box, range(14, 16)))


def test_the_manifest_without_a_package_is_empty(make_app, demo, tmp_path):
    app = make_app(TILES_FILE=str(tmp_path / "none.mbtiles"))
    body = app.test_client().get(f"/api/v1/rallies/{demo[0]}/tiles").json
    assert body["tiles"] == [] and body["bytes"] == 0 and body["capped"] is False
    assert body["url"].endswith("/tiles/{z}/{x}/{y}.png")
    assert "<" not in body["attribution"] and "OpenStreetMap" in body["attribution"]


def test_the_manifest_of_unknown_or_draft_rallies_is_a_404(boxed):
    app, _, _ = boxed
    client = app.test_client()
    for slug, status in (("nope", 404), ("<script>", 404), ("a" * 500, 404), ("x%00y", 400)):
        answer = client.get(f"/api/v1/rallies/{slug}/tiles")
        assert answer.status_code == status and answer.is_json
    with app.app_context():
        row = db.session.scalars(db.select(models.Rally)).first()
        row.status = models.RallyStatus.DRAFT
        db.session.commit()
        slug = row.slug
    assert client.get(f"/api/v1/rallies/{slug}/tiles").status_code == 404


def test_the_manifest_is_in_the_openapi_document_and_matches_it(boxed):
    from server.api.openapi import validator

    app, slug, _ = boxed
    client = app.test_client()
    doc = client.get("/api/v1/openapi.json").json
    operation = doc["paths"]["/rallies/{slug}/tiles"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TileManifest"
    }
    validator("TileManifest").validate(client.get(f"/api/v1/rallies/{slug}/tiles").json)


def test_install_refuses_what_is_not_a_good_package(tmp_path, boxed):
    app, _, _ = boxed
    good = app.config["TILES_FILE"]
    target = tmp_path / "target.mbtiles"
    with pytest.raises(mbtiles.PackageError, match="limit"):
        tiles.install(good, target, 1000)
    empty = tmp_path / "empty.mbtiles"
    mbtiles.write(empty, mbtiles.MBTiles(good).package, [])
    with pytest.raises(mbtiles.PackageError, match="no tiles"):
        tiles.install(empty, target, 10**9)
    assert not target.exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".target")]
