"""What every export shares: its error, the progress callback, the download, the data of the
printed codes. The export modules import this, never the package, so that nothing cycles."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from markers import shortcodes
from routes.model import Text, pick
from server.usererror import UserError

Progress = Callable[[int], None]
"""Called with the number of items done since the last call (click.progressbar.update)."""


class ExportError(UserError):
    """An export that cannot be made."""


@dataclass(frozen=True)
class Download:
    data: bytes
    mimetype: str
    filename: str


@dataclass(frozen=True)
class QrItem:
    """One stop's printed code: its number (1-based, stop order), names, the URL it holds and
    its short code (stored form)."""

    number: int
    marker_id: int
    title: Text
    venue: str | None
    url: str
    code: str = ""

    def name(self, lang: str = "de") -> str:
        return pick(self.title, lang) or self.venue or ""

    @property
    def short_code(self) -> str:
        """The short code as printed: ``KM7-4QX``."""
        return shortcodes.display(self.code) if self.code else ""


@dataclass(frozen=True)
class QrSheet:
    """Everything the printed codes of a rally show."""

    slug: str
    title: Text
    key_id: int
    printed_at: datetime
    items: tuple[QrItem, ...]
    look: Look | None = None
    typing_address: str = ""
    """Where a player types a short code, without the scheme: ``example.org/play/<slug>``."""


@dataclass(frozen=True)
class Look:
    """The event's look on printed matter: a colour ``#rrggbb`` and a logo file, each optional."""

    colour: str | None = None
    logo: Path | None = None


@dataclass(frozen=True)
class StartSheet:
    """The start poster: the rally's title and intro, its codes as (QR payload, caption), rules
    for its order mode. Room for a second code (a Wi-Fi QR) beside the join code."""

    slug: str
    title: Text
    intro: Text
    order_mode: str
    printed_at: datetime
    codes: tuple[tuple[str, str], ...]
    look: Look | None = None
    wifi: bool = False


_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ẞ": "SS"}
)


def slugify(name: str, max_length: int = 40) -> str:
    """A file-name-safe ASCII form: 'Kaiserpfalz & Casimirsaal' -> 'kaiserpfalz-casimirsaal'."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(_TRANSLIT))
    ascii_name = ascii_name.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[: max_length + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:max_length]
    return slug or "stop"
