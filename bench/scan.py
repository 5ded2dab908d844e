"""Time the phone's scan path (a camera frame's bytes to the decoded texts: grey by
client.sensors.camera.luminance, then client.qrscan.decode) against raw zxing-cpp reading the
same RGB frames: 1280x720 frames rendered from real QR codes (qrcode + Pillow), some tilted,
small, blurred or noisy, a third without a code (the player is still aiming).

The figure compares with zxing-cpp reading the Pillow RGB images the frames were rendered to
(as issue 14 measured); zxing-cpp reading the RGB bytes in place (an ImageView, so it turns
them grey in its own vectorised C++) stands beside it, and so does the phone path on the same
frames in NV21, Android's preview format, whose grey plane needs no conversion. Frames and ways
take turns, so a busy machine slows all alike; CPU time of this thread is the measure (wall time
beside it)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import qrcode
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFilter

import bench
from client import qrscan
from client.sensors.camera import RawFrame, luminance

SIZE = (1280, 720)
FRAMES = 12
BUDGET_S = 3.0
QR = zxingcpp.BarcodeFormat.QRCode


def render(index: int, rng: random.Random) -> tuple[bytes, str | None]:
    """One camera frame (RGB bytes) and the text of its code (None: no code in view)."""
    w, h = SIZE
    wall = tuple(rng.randint(70, 190) for _ in range(3))
    frame = Image.new("RGB", SIZE, wall)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(frame)
    for x in range(-h, w, rng.randint(25, 60)):
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        draw.line([(x, 0), (x + h, h)], fill=colour, width=rng.randint(2, 6))  # type: ignore[arg-type]
    text = None
    if index % 3 != 2:
        text = f"https://artcaching.example.org/q/AQEB{index:02d}{rng.getrandbits(64):016x}"
        code = qrcode.make(text, box_size=8, border=4).get_image().convert("RGB")
        side = rng.randint(180, 420)
        poster = code.resize((side, side)).rotate(
            rng.choice([0, 90, 180, 270]) + rng.uniform(-35, 35), expand=True, fillcolor=wall
        )
        frame.paste(poster, (rng.randint(0, w - poster.width), rng.randint(0, h - poster.height)))
    if index % 4 == 1:
        frame = frame.filter(ImageFilter.GaussianBlur(1.2))
    sigma = rng.choice([0, 8, 16, 24])
    if sigma:
        noise = Image.effect_noise(SIZE, sigma).convert("RGB")
        frame = ImageChops.add(frame, noise, offset=-128)
    return frame.tobytes(), text


def texts(barcodes: list[Any]) -> list[str]:
    return [b.text for b in barcodes]


def main() -> None:
    rng = random.Random(14)
    frames = [render(i, rng) for i in range(FRAMES)]
    w, h = SIZE
    rgb_view = zxingcpp.ImageFormat.RGB

    def phone(data: bytes) -> list[str]:
        gray = luminance(RawFrame(data, SIZE, "rgb"))
        assert gray is not None
        return qrscan.decode(gray)

    nv21 = {  # the grey plane, then V and U at half resolution
        data: Image.frombytes("RGB", SIZE, data).convert("L").tobytes() + bytes(w * h // 2)
        for data, _ in frames
    }

    def phone_nv21(data: bytes) -> list[str]:
        gray = luminance(RawFrame(nv21[data], SIZE, "nv21"))
        assert gray is not None
        return qrscan.decode(gray)

    def raw_bytes(data: bytes) -> list[str]:
        return texts(zxingcpp.read_barcodes(zxingcpp.ImageView(data, w, h, rgb_view), formats=QR))  # type: ignore[arg-type]

    pil_frames = {data: Image.frombytes("RGB", SIZE, data) for data, _ in frames}

    def raw_pil(data: bytes) -> list[str]:
        return texts(zxingcpp.read_barcodes(pil_frames[data], formats=QR))  # type: ignore[arg-type]

    ways: dict[str, Callable[[bytes], list[str]]] = {
        "phone path": phone,
        "phone path, NV21": phone_nv21,
        "raw zxing, RGB bytes": raw_bytes,
        "raw zxing, Pillow RGB": raw_pil,
    }
    assert qrscan.backend()[0] == "zxingcpp", "the bench compares zxing-cpp with itself"
    for data, text in frames:  # same answers (and warm caches) before timing
        found = {name: way(data) for name, way in ways.items()}
        assert len({tuple(f) for f in found.values()}) == 1, f"the ways disagree: {found}"
        assert found["phone path"] == ([text] if text else []), (text, found)
    cpu = dict.fromkeys(ways, 0.0)
    wall = dict.fromkeys(ways, 0.0)
    rounds, start = 0, time.perf_counter()
    while time.perf_counter() - start < BUDGET_S:
        for i, (data, _) in enumerate(frames):
            names = list(ways)
            order = names[i % len(names) :] + names[: i % len(names)]
            for name in order:
                c, t = time.thread_time(), time.perf_counter()
                ways[name](data)
                cpu[name] += time.thread_time() - c
                wall[name] += time.perf_counter() - t
        rounds += 1
    n = rounds * len(frames)
    found = sum(1 for _, text in frames if text)
    print(
        f"  {len(frames)} frames {w}x{h} ({found} with a code), {rounds} rounds; "
        "ms per frame, CPU (wall):"
    )
    for name in ways:
        print(f"  {name:>22}: {cpu[name] / n * 1e3:6.2f} ({wall[name] / n * 1e3:6.2f})")
    raw, in_place = "raw zxing, Pillow RGB", "raw zxing, RGB bytes"
    bench.figure(
        "phone path / raw zxing on RGB",
        cpu["phone path"] / cpu[raw],
        at_most=1.0,
        detail=f"CPU time; wall {wall['phone path'] / wall[raw]:.2f}x; against RGB bytes in "
        f"place {cpu['phone path'] / cpu[in_place]:.2f}x, NV21 against those "
        f"{cpu['phone path, NV21'] / cpu[in_place]:.2f}x",
    )


if __name__ == "__main__":
    main()
