"""The map plays from the rally pack with the network cut, in a real Kivy window under Xvfb.

The test downloads a rally's map pack from a stand-in event box (magenta tiles, z 14-16 over
the play area) into the app's tile folder, then shuts the box down. A child process (this
module run as a script) shows the GameMap there with the tile URL still pointing at the box
(nothing answers any more): every tile of the play area is drawn from the disk.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from client.pack import MB, download_map
from client.widgets.tiles import TileCache
from markers.tiles import tile_box
from tests.client.conftest import kivy_environment, kivy_log, run_python
from tests.client.test_map_pack import TILE, BoxServer
from tests.client.test_ui_map import MAGENTA, fake_snapshot, share
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.kivy, pytest.mark.slow]

ZOOM = 16
AREA = [(ZOOM, 34180 + dx, 22444 + dy) for dx in range(8) for dy in range(10)]
"""A play area of 8 x 10 tiles at zoom 16, more than the window shows."""


def centre() -> tuple[float, float]:
    box = tile_box(ZOOM, 34184, 22449)
    return box.north, box.west


@pytest.fixture(scope="module")
def run(xvfb_display, tmp_path_factory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("ui-map-pack")
    tiles = folder / "data" / "tiles"
    box = BoxServer([[14, 8546, 5612], *[list(t) for t in AREA]])
    cache = TileCache(tiles, "")
    try:
        pack = download_map(box.manifest(), cache, box.url, 40 * MB)
    finally:
        cache.close()
        box.close()
    assert pack.state == "done" and pack.kept == len(AREA) + 1
    shots = ARTIFACTS / "client-ui"
    shots.mkdir(parents=True, exist_ok=True)
    spec = {
        "tiles": str(tiles),
        "tile_url": f"{box.url}/tiles/{{z}}/{{x}}/{{y}}.png",
        "shots": str(shots),
        "report": str(folder / "report.json"),
        "centre": centre(),
        "zoom": ZOOM,
    }
    (folder / "spec.json").write_text(json.dumps(spec))
    env = kivy_environment(xvfb_display, folder / "kivy-home")
    result = run_python(
        env, ["-m", "tests.client.test_ui_map_pack", str(folder / "spec.json")], timeout_s=120
    )
    report_path = Path(spec["report"])
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    assert result.returncode == 0 and not report.get("error"), (
        f"the map child failed ({result.returncode}): {report.get('error')}\n"
        f"{result.stderr[-3000:]}\n{kivy_log(env)}"
    )
    return {"report": report, "shot": shots / "client-map-pack-offline.png", "tiles": tiles}


def test_the_map_shows_the_packs_tiles_from_the_disk_with_the_network_cut(run):
    assert share(run["shot"], MAGENTA) > 0.6, "the pack's tiles fill the map"
    report = run["report"]
    assert report["errors"] == report["fetched"] == 0, "no tile was asked of the network"


def test_the_pack_used_the_maps_folder_and_numbering(run):
    for z, x, y in AREA:
        assert (run["tiles"] / str(z) / str(x) / f"{y}.png").read_bytes() == TILE


# --- the child ------------------------------------------------------------------------------


def child(spec: dict[str, Any]) -> int:
    from client.window import prepare_window

    prepare_window()
    from kivy.app import App
    from kivy.clock import Clock

    from client.screens.tour import grab_window
    from client.widgets.map import GameMap

    report: dict[str, Any] = {"error": None}

    class MapApp(App):
        def build(self) -> Any:
            self.cache = TileCache(spec["tiles"], spec["tile_url"], timeout_s=2)
            self.map = GameMap(self.cache, zoom=spec["zoom"])
            Clock.schedule_once(self.first, 0.5)
            return self.map

        def first(self, _dt: float) -> None:
            self.map.show(fake_snapshot(*spec["centre"]))
            Clock.schedule_once(self.shoot, 4.0)

        def shoot(self, _dt: float) -> None:
            grab_window(Path(spec["shots"]) / "client-map-pack-offline.png")
            report["errors"] = self.cache.errors
            report["fetched"] = self.cache.fetched
            self.stop()

    app = MapApp()
    try:
        app.run()
    except Exception as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"
    Path(spec["report"]).write_text(json.dumps(report))
    return 1 if report["error"] else 0


if __name__ == "__main__":
    sys.exit(child(json.loads(Path(sys.argv[1]).read_text())))
