"""Tile packages for tests: Pillow-drawn tiles that show their own z/x/y, a fake tile server."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

from PIL import Image, ImageDraw

from markers.tiles import Box, TileKey, covering
from server import mbtiles
from tests.live import Answer, StubServer

ATTRIBUTION = "© Testkarte <b>contributors</b>"


def drawn(key: TileKey) -> bytes:
    """A 256 px PNG tile: a pale colour of its own, a border, a cross and its z/x/y."""
    z, x, y = key
    image = Image.new("RGB", (256, 256), (200 + (x * 7) % 50, 225, 200 + (y * 11) % 50))
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 0, 255, 255), outline=(40, 90, 160), width=3)
    pen.line((96, 128, 160, 128), fill=(200, 40, 40), width=5)
    pen.line((128, 96, 128, 160), fill=(200, 40, 40), width=5)
    pen.text((12, 12), f"box {z}/{x}/{y}", fill=(20, 20, 20), font_size=22)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_package(path: Path, box: Box, zooms: range, name: str = "Testkarte") -> list[TileKey]:
    """A package of drawn tiles covering box at zooms; the keys it holds."""
    keys = list(covering(box, zooms))
    package = mbtiles.Package(
        name=name,
        format="png",
        bounds=box,
        minzoom=zooms.start,
        maxzoom=zooms[-1],
        attribution=ATTRIBUTION,
    )
    mbtiles.write(path, package, ((k, drawn(k)) for k in keys))
    return keys


class TileServer(StubServer):
    """A fake upstream on 127.0.0.1 serving drawn tiles at /{z}/{x}/{y}.png, recording every
    User-Agent and the most requests it was ever answering at once; ``special`` maps a key to
    an answer of its own (a 404, a 500, garbage)."""

    def __init__(self, pause: float = 0.01) -> None:
        self.special: dict[TileKey, Answer] = {}
        self.agents: list[str] = []
        self.busy = self.most_busy = 0
        lock = threading.Lock()

        def answer(path: str) -> Answer:
            with lock:
                self.busy += 1
                self.most_busy = max(self.most_busy, self.busy)
            try:
                time.sleep(pause)
                z, x, y = (int(p) for p in path.strip("/").removesuffix(".png").split("/"))
                if (z, x, y) in self.special:
                    return self.special[(z, x, y)]
                return 200, {"Content-Type": "image/png"}, drawn((z, x, y))
            finally:
                with lock:
                    self.busy -= 1

        super().__init__(answer)

    def tile_paths(self) -> list[str]:
        """The paths asked for, in order."""
        self.agents = [h.get("User-Agent", "") for _, h in self.requests]
        return [p for p, _ in self.requests]
