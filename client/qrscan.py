"""QR decoding behind one function (zxing-cpp on the desktop, pyzbar where it is missing), and
telling an Art Caching code from any other.

The decoders read one luminance channel (Gray): zxing-cpp turns colour into grey itself on every
call, which costs more than handing it grey. QR decoders find a code at any angle and mirrored,
so a camera frame is decoded as the sensor delivers it (client.sensors.camera.luminance)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markers import tokens


@dataclass(frozen=True)
class Gray:
    """One byte of luminance per pixel, rows from the top, each stride bytes after the previous
    (stride 0: width); data holds at least height * stride bytes (bytes, bytearray, memoryview)."""

    data: Any
    width: int
    height: int
    stride: int = 0

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"a {self.width}x{self.height} image has no pixels")
        if self.stride and self.stride < self.width:
            raise ValueError(f"rows of {self.width} pixels do not fit a stride of {self.stride}")
        if memoryview(self.data).nbytes < self.height * self.row_bytes:
            raise ValueError(
                f"{self.width}x{self.height} grey (stride {self.row_bytes}) needs "
                f"{self.height * self.row_bytes} bytes, got {memoryview(self.data).nbytes}"
            )

    @property
    def row_bytes(self) -> int:
        return self.stride or self.width

    def packed(self) -> bytes:
        """The pixels without row padding (width * height bytes)."""
        from PIL import Image

        if self.row_bytes == self.width:
            return bytes(memoryview(self.data).cast("B")[: self.width * self.height])
        size = (self.width, self.height)
        return Image.frombuffer("L", size, self.data, "raw", "L", self.row_bytes, 1).tobytes()


def gray_of(image: Any) -> Gray:
    """A PIL image (any mode) as Gray: ITU-R 601 luma, as zxing-cpp and Pillow compute it."""
    if image.mode != "L":
        image = image.convert("L")
    return Gray(image.tobytes(), image.width, image.height)


Backend = Callable[[Gray], list[str]]


class NoDecoder(RuntimeError):
    """Neither zxing-cpp nor pyzbar (with libzbar) can be imported."""


def _zxing() -> Backend:
    import zxingcpp

    def read(gray: Gray) -> list[str]:
        view = zxingcpp.ImageView(
            gray.data, gray.width, gray.height, zxingcpp.ImageFormat.Lum, gray.row_bytes
        )
        # one BarcodeFormat converts to BarcodeFormats at run time; the stubs do not say so
        found = zxingcpp.read_barcodes(view, formats=zxingcpp.BarcodeFormat.QRCode)  # type: ignore[arg-type]
        return [r.text for r in found]

    return read


def _zbar() -> Backend:
    from pyzbar import pyzbar

    def read(gray: Gray) -> list[str]:
        found = pyzbar.decode(
            (gray.packed(), gray.width, gray.height), symbols=[pyzbar.ZBarSymbol.QRCODE]
        )
        return [r.data.decode("utf-8", errors="replace") for r in found]

    return read


_backend: tuple[str, Backend] | None = None


def backend() -> tuple[str, Backend]:
    """("zxingcpp" | "pyzbar", the decoder); the first that imports, chosen once."""
    global _backend
    if _backend is None:
        errors = []
        for name, make in (("zxingcpp", _zxing), ("pyzbar", _zbar)):
            try:
                _backend = (name, make())
                break
            except (ImportError, OSError) as exc:
                errors.append(f"{name}: {exc}")
        else:
            raise NoDecoder("no QR decoder: " + "; ".join(errors))
    return _backend


def reset() -> None:
    """Choose the backend again on the next decode (tests)."""
    global _backend
    _backend = None


def decode(image: Any, size: tuple[int, int] | None = None) -> list[str]:
    """The texts of the QR codes in image: Gray, a PIL image, or raw RGB bytes with size=(w, h)."""
    from PIL import Image

    if isinstance(image, bytes | bytearray | memoryview):
        if size is None:
            raise ValueError("raw RGB bytes need size=(width, height)")
        width, height = size
        if len(image) != width * height * 3:
            raise ValueError(
                f"raw RGB of {width}x{height} needs {width * height * 3} bytes, got {len(image)}"
            )
        image = Image.frombytes("RGB", (width, height), bytes(image))
    if isinstance(image, Image.Image):
        image = gray_of(image)
    elif not isinstance(image, Gray):
        raise TypeError(
            f"decode takes Gray, a PIL image or raw RGB bytes, not {type(image).__name__}"
        )
    _, read = backend()
    return read(image)


def qr_token(text: str) -> str | None:
    """The token of an Art Caching QR text (a /q/<token> URL or a bare token), else None."""
    try:
        token = tokens.token_from_url(text)
    except tokens.TokenError:
        return None
    if "/" not in text.strip() and len(token) < 20:
        return None
    return token
