"""QR decoding behind one function (zxing-cpp on the desktop, pyzbar where it is missing), and
telling an Art Caching code from any other."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markers import tokens

Backend = Callable[[Any], list[str]]


class NoDecoder(RuntimeError):
    """Neither zxing-cpp nor pyzbar (with libzbar) can be imported."""


def _zxing() -> Backend:
    import zxingcpp

    def read(image: Any) -> list[str]:
        # one BarcodeFormat converts to BarcodeFormats at run time; the stubs do not say so
        found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)  # type: ignore[arg-type]
        return [r.text for r in found]

    return read


def _zbar() -> Backend:
    from pyzbar import pyzbar

    def read(image: Any) -> list[str]:
        gray = image.convert("L")
        found = pyzbar.decode(
            (gray.tobytes(), gray.width, gray.height), symbols=[pyzbar.ZBarSymbol.QRCODE]
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
    """The texts of the QR codes in image: a PIL image, or raw RGB bytes with size=(w, h)."""
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
    elif not isinstance(image, Image.Image):
        raise TypeError(f"decode takes a PIL image or raw RGB bytes, not {type(image).__name__}")
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
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
