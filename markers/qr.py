"""QR codes with qrcode: the module matrix (for vector PDFs), PNG bytes and SVG text.

Every function refuses data that needs a version above ``max_version`` (6 by default: modules large
enough to scan from a printed poster at arm's length).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from typing import NamedTuple

import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.exceptions import DataOverflowError
from qrcode.util import mask_func

QUIET_ZONE = 4
_LEVELS = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
_BITS = bytes.maketrans(b"\x00\x01", b"01")


def _fitted(
    data: str, max_version: int, error_correction: str, box_size: int = 10, border: int = QUIET_ZONE
) -> qrcode.QRCode:
    """A QRCode holding data at the smallest version, not yet made; ValueError above
    max_version."""
    level = _LEVELS.get(error_correction)
    if level is None:
        raise ValueError(f"error correction must be one of L, M, Q, H, got {error_correction!r}")
    qr = qrcode.QRCode(error_correction=level, box_size=box_size, border=border)
    qr.add_data(data)
    try:
        fits = qr.best_fit() <= max_version
    except (DataOverflowError, ValueError):  # qrcode's ValueError: beyond version 40
        fits = False
    if not fits:
        raise ValueError(
            f"{len(data.encode())} bytes need a QR code above version {max_version} at error "
            f"correction {error_correction}; shorten the data (e.g. the public base URL)"
        )
    return qr


def make(
    data: str,
    max_version: int = 6,
    error_correction: str = "M",
    box_size: int = 10,
    border: int = QUIET_ZONE,
) -> qrcode.QRCode:
    """A QRCode of the smallest version that holds data; ValueError above max_version."""
    qr = _fitted(data, max_version, error_correction, box_size, border)
    qr.make(fit=False)
    return qr


def version(data: str, error_correction: str = "M") -> int:
    """The smallest QR version (1 to 40) that holds data."""
    return make(data, 40, error_correction).version


def matrix(data: str, max_version: int = 6, error_correction: str = "M") -> list[list[bool]]:
    """Rows of dark (True) and light modules, 17 + 4 * version square, without quiet zone: the
    modules of make(), whose mask qrcode picks by drawing and scoring all eight; here the eight
    are one drawing with each mask's flips applied to one int of bits, scored the same way."""
    qr = _fitted(data, max_version, error_correction)
    qr.makeImpl(True, 0)  # as qrcode scores masks: the format bits left light
    modules: list[list[bool]] = qr.modules
    bits = _lines(modules)
    grid = _grid(len(modules))
    masks = _masks(qr.version)
    scores = [_penalty(bits ^ mask.flips, grid) for mask in masks]
    best = scores.index(min(scores))
    for r, c in masks[best].modules:
        modules[r][c] = not modules[r][c]
    qr.setup_type_info(False, best)
    if qr.version >= 7:
        qr.setup_type_number(False)
    return modules


def _lines(modules: Sequence[Sequence[bool]]) -> int:
    """The rows, then the columns, as the bits of one int: each line's modules in order and a
    light bit between lines."""
    lines = [*modules, *zip(*modules, strict=True)]
    return int(b"\x00".join(map(bytes, lines)).translate(_BITS), 2)


class _Grid(NamedTuple):
    """Masks of the bits in _lines() that qrcode's penalty rules look at, for one size."""

    size: int
    pairs: int  # a bit and the one before it lie in the same line
    windows: int  # the 10 bits before it too
    blocks: int  # a row bit and the one before it, in rows 2 to n
    rows: int  # the rows' bits


@functools.cache
def _grid(n: int) -> _Grid:
    def lines(row: str, column: str, first_row: str | None = None) -> int:
        text = "0".join([first_row or row] + [row] * (n - 1) + [column] * n)
        return int(text, 2)

    return _Grid(
        n,
        lines("0" + "1" * (n - 1), "0" + "1" * (n - 1)),
        lines("0" * 10 + "1" * (n - 10), "0" * 10 + "1" * (n - 10)),
        lines("0" + "1" * (n - 1), "0" * n, "0" * n),
        lines("1" * n, "0" * n),
    )


class _Mask(NamedTuple):
    """Where a mask differs from mask 0: as (row, column) and as bits of _lines()."""

    modules: tuple[tuple[int, int], ...]
    flips: int


@functools.cache
def _masks(version: int) -> tuple[_Mask, ...]:
    """The eight masks of a version, told by the data modules (those qrcode leaves empty until
    it places the data) that each flips unlike mask 0."""
    blank = qrcode.QRCode(version=version)
    n = blank.modules_count = 17 + 4 * version
    blank.modules = [[None] * n for _ in range(n)]
    blank.setup_position_probe_pattern(0, 0)
    blank.setup_position_probe_pattern(n - 7, 0)
    blank.setup_position_probe_pattern(0, n - 7)
    blank.setup_position_adjust_pattern()
    blank.setup_timing_pattern()
    blank.setup_type_info(True, 0)
    if version >= 7:
        blank.setup_type_number(True)
    first = mask_func(0)
    masks = []
    for mask in range(8):
        other = mask_func(mask)
        grid = [
            [blank.modules[r][c] is None and first(r, c) != other(r, c) for c in range(n)]
            for r in range(n)
        ]
        flipped = tuple((r, c) for r in range(n) for c in range(n) if grid[r][c])
        masks.append(_Mask(flipped, _lines(grid)))
    return tuple(masks)


_FINDERS = ("10111010000", "00001011101")


def _penalty(bits: int, grid: _Grid) -> int:
    """qrcode's util.lost_point on the bits of _lines(): runs of five or more alike in a row or
    column (3 points and 1 for each module beyond 5), 2 x 2 blocks alike (3), finder-like
    patterns 1011101 with 4 light modules before or after (40), and 10 for each 5 % that the
    dark share strays from half."""
    n = grid.size
    alike = ~(bits ^ (bits >> 1)) & grid.pairs  # this bit as the one before it
    fives = alike & (alike >> 1) & (alike >> 2) & (alike >> 3)  # the 4 before it, too
    runs = fives.bit_count() + 2 * (fives & ~(fives >> 1)).bit_count()
    above = ~(bits ^ (bits >> (n + 1)))  # this bit as the one above it
    blocks = (alike & (alike >> (n + 1)) & above & grid.blocks).bit_count()
    shifted = [bits >> (10 - j) for j in range(11)]
    finders = 0
    for pattern in _FINDERS:
        match = grid.windows
        for s, p in zip(shifted, pattern, strict=True):
            match &= s if p == "1" else ~s
        finders += match.bit_count()
    dark = (bits & grid.rows).bit_count() / n**2
    return runs + 3 * blocks + 40 * finders + int(abs(dark * 100 - 50) / 5) * 10


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
