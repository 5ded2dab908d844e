"""QR codes with qrcode: the module matrix (for vector PDFs), PNG bytes and SVG text.

Every function refuses data that needs a version above ``max_version`` (6 by default: modules large
enough to scan from a printed poster at arm's length).
"""

from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.exceptions import DataOverflowError

QUIET_ZONE = 4
_LEVELS = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}


def make(
    data: str,
    max_version: int = 6,
    error_correction: str = "M",
    box_size: int = 10,
    border: int = QUIET_ZONE,
) -> qrcode.QRCode:
    """A QRCode of the smallest version that holds data; ValueError above max_version."""
    level = _LEVELS.get(error_correction)
    if level is None:
        raise ValueError(f"error correction must be one of L, M, Q, H, got {error_correction!r}")
    qr = qrcode.QRCode(error_correction=level, box_size=box_size, border=border)
    qr.add_data(data)
    try:
        qr.make(fit=True)
        fits = qr.version <= max_version
    except (DataOverflowError, ValueError):  # qrcode's ValueError: beyond version 40
        fits = False
    if not fits:
        raise ValueError(
            f"{len(data.encode())} bytes need a QR code above version {max_version} at error "
            f"correction {error_correction}; shorten the data (e.g. the public base URL)"
        )
    return qr


def version(data: str, error_correction: str = "M") -> int:
    """The smallest QR version (1 to 40) that holds data."""
    return make(data, 40, error_correction).version


def matrix(data: str, max_version: int = 6, error_correction: str = "M") -> list[list[bool]]:
    """Rows of dark (True) and light modules, 17 + 4 * version square, without quiet zone."""
    return [[bool(m) for m in row] for row in make(data, max_version, error_correction).modules]


def png_bytes(
    data: str,
    box_size: int = 10,
    border: int = QUIET_ZONE,
    max_version: int = 6,
    error_correction: str = "M",
) -> bytes:
    """A black-on-white PNG, box_size pixels per module, border modules of quiet zone."""
    from qrcode.image.pil import PilImage

    qr = make(data, max_version, error_correction, box_size=box_size, border=border)
    buf = io.BytesIO()
    qr.make_image(image_factory=PilImage).save(buf)
    return buf.getvalue()


def rectangles(rows: list[list[bool]]) -> list[tuple[int, int, int, int]]:
    """(x, y, width, height) in modules covering every dark module: runs along each row, and
    equal runs in the rows below merged into one rectangle. For vector drawings (SVG, PDF)."""
    done: list[tuple[int, int, int, int]] = []
    open_runs: dict[tuple[int, int], int] = {}
    for y, row in enumerate([*rows, []]):
        runs: set[tuple[int, int]] = set()
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.add((start, x - start))
            x += 1
        for run in list(open_runs):
            if run not in runs:
                top = open_runs.pop(run)
                done.append((run[0], top, run[1], y - top))
        for run in runs:
            open_runs.setdefault(run, y)
    return sorted(done, key=lambda r: (r[1], r[0]))


def svg_text(
    data: str, border: int = QUIET_ZONE, max_version: int = 6, error_correction: str = "M"
) -> str:
    """A standalone SVG: one path of dark modules, viewBox in modules including the quiet zone."""
    rows = matrix(data, max_version, error_correction)
    size = len(rows) + 2 * border
    path = "".join(f"M{x + border} {y + border}h{w}v{h}h-{w}z" for x, y, w, h in rectangles(rows))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>'
    )
