"""Uploaded images: JPEG or PNG only, re-encoded without metadata, stored under a random name.

Nothing of the upload survives but its pixels: the file is decoded by Pillow (its type told by
its bytes, never by its name), checked for size before its pixels are loaded (no decompression
bombs), turned upright, scaled down and written anew, so EXIF, GPS and any other metadata are
gone. Files live in MEDIA_DIR, outside the static folder; play.media serves them at /media/<name>.
"""

from __future__ import annotations

import io
import os
import secrets
import warnings
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from server.usererror import UserError

FORMATS = ("JPEG", "PNG")
JPEG_QUALITY = 85


class MediaError(UserError):
    """An upload that cannot be used."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int
    max_side: int


def limits() -> Limits:
    """The app's upload limits (MEDIA_MAX_BYTES, MEDIA_MAX_PIXELS, MEDIA_MAX_SIDE)."""
    cfg = current_app.config
    return Limits(cfg["MEDIA_MAX_BYTES"], cfg["MEDIA_MAX_PIXELS"], cfg["MEDIA_MAX_SIDE"])


def reencode(data: bytes, lim: Limits) -> tuple[bytes, str]:
    """The image re-encoded (JPEG stays JPEG at quality 85, PNG stays PNG), and its extension."""
    if len(data) > lim.max_bytes:
        raise MediaError("image_too_large", max_mb=megabytes(lim.max_bytes))
    if not data:
        raise MediaError("image_empty")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except UnidentifiedImageError:
            raise MediaError("image_type") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise MediaError("image_too_many_pixels", max_mp=_megapixels(lim)) from None
        except Exception:
            raise MediaError("image_broken") from None
        with image:
            kind = "JPEG" if image.format in ("JPEG", "MPO") else "PNG"
            width, height = image.size
            if width * height > lim.max_pixels or width <= 0 or height <= 0:
                raise MediaError("image_too_many_pixels", max_mp=_megapixels(lim))
            try:
                if kind == "JPEG":
                    image.draft("RGB", (lim.max_side, lim.max_side))
                image.load()
                upright = ImageOps.exif_transpose(image)
            except Exception:
                raise MediaError("image_broken") from None
    return _encode(upright, kind, lim.max_side)


def _encode(image: Image.Image, kind: str, max_side: int) -> tuple[bytes, str]:
    """Scaled to max_side and written from a fresh image, so no metadata comes along."""
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if kind == "JPEG":
        mode = "RGB"
    elif image.mode in ("RGB", "RGBA", "L", "LA"):
        mode = image.mode
    else:
        alpha = image.mode.endswith("A") or "transparency" in image.info
        mode = "RGBA" if alpha else "RGB"
    pixels = image.convert(mode) if image.mode != mode else image
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    out = io.BytesIO()
    if kind == "JPEG":
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        return out.getvalue(), "jpg"
    clean.save(out, "PNG", optimize=True)
    return out.getvalue(), "png"


def _megapixels(lim: Limits) -> str:
    return f"{lim.max_pixels / 1e6:g}"


def megabytes(n: int) -> str:
    """Bytes as MB for messages: 8388608 -> "8"."""
    return f"{n / (1024 * 1024):g}"


def media_dir() -> Path:
    path = Path(current_app.config["MEDIA_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(data: bytes) -> str:
    """Check, re-encode and write an uploaded image; its new file name (e.g. ``<32 chars>.jpg``)."""
    encoded, ext = reencode(data, limits())
    folder = media_dir()
    name = f"{secrets.token_urlsafe(24)}.{ext}"
    tmp = folder / f".{name}.part"
    with open(tmp, "wb") as f:
        f.write(encoded)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / name)
    return name


def remove(name: str | None) -> None:
    """Delete a stored image (a missing file is fine: the goal is that it is gone)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return
    with suppress(FileNotFoundError):
        (Path(current_app.config["MEDIA_DIR"]) / name).unlink()
