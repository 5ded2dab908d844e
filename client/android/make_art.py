"""Draw the app's launcher icon and presplash (client/android/art/) with Pillow.

`make android-art` runs it; the PNGs are checked in so that a build needs no drawing. The motif:
a map pin over a picture frame, the game's "find the art" in one sign.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ART = Path(__file__).resolve().parent / "art"
BACKGROUND = (27, 58, 75)  # #1B3A4B, also android.presplash_color in buildozer.spec
FRAME = (233, 196, 106)
PIN = (231, 111, 81)
WHITE = (255, 255, 255)


def draw_sign(size: int) -> Image.Image:
    """The sign on a transparent square of size x size pixels."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    u = size / 16
    d.rectangle([2 * u, 5 * u, 14 * u, 14 * u], outline=FRAME, width=max(1, round(u)))
    d.polygon(
        [(3.5 * u, 12.5 * u), (7 * u, 8.5 * u), (9 * u, 10.5 * u), (12.5 * u, 12.5 * u)], fill=FRAME
    )
    d.ellipse([5.5 * u, 1 * u, 10.5 * u, 6 * u], fill=PIN)
    d.polygon([(5.8 * u, 4.3 * u), (10.2 * u, 4.3 * u), (8 * u, 9 * u)], fill=PIN)
    d.ellipse([7 * u, 2.5 * u, 9 * u, 4.5 * u], fill=WHITE)
    return img


def icon(size: int = 512) -> Image.Image:
    """The launcher icon: the sign on a round-cornered square (Android masks it to its shape)."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(img).rounded_rectangle([0, 0, size - 1, size - 1], size // 6, fill=BACKGROUND)
    sign = draw_sign(size * 3 // 4)
    img.alpha_composite(sign, (size // 8, size // 8))
    return img


def presplash(size: int = 512) -> Image.Image:
    """Shown while Python starts: the sign centred on the background colour, which p4a stretches
    to the screen around it (android.presplash_color)."""
    img = Image.new("RGB", (size, size), BACKGROUND)
    sign = draw_sign(size // 2)
    img.paste(sign, (size // 4, size // 4), sign)
    return img


def main() -> None:
    ART.mkdir(exist_ok=True)
    icon().save(ART / "icon.png", optimize=True)
    presplash().save(ART / "presplash.png", optimize=True)


if __name__ == "__main__":
    main()
