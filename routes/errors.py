"""The error for interchange files (GPX, GeoJSON) that cannot be read: where, and what, in de/en."""

from __future__ import annotations

import math

from markers.geo import CoordinateError, LatLon, check_latlon
from routes.model import DEFAULT_LANGUAGE, Text, pick, text

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Interchange files larger than this are refused before parsing."""

MAX_POINTS = 100_000
"""At most this many positions per file (a 3-hour walk logged every second is about 11,000)."""


class InterchangeError(ValueError):
    """A bad interchange file: ``what`` is wrong at ``line`` (1-based) or ``feature`` (0-based)."""

    def __init__(self, what: Text, *, line: int | None = None, feature: int | None = None) -> None:
        self.what = what
        self.line = line
        self.feature = feature
        super().__init__(self.message(DEFAULT_LANGUAGE))

    def message(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """The whole message in lang, e.g. "line 12: latitude 91.5 out of range (-90..90)"."""
        de = lang == "de"
        if self.line is not None:
            where = f"{'Zeile' if de else 'line'} {self.line}: "
        elif self.feature is not None:
            where = f"Feature {self.feature}: " if de else f"feature {self.feature}: "
        else:
            where = ""
        return where + pick(self.what, lang)

    @property
    def text(self) -> Text:
        """The message in German and English, for showing to a curator or organiser."""
        return text(de=self.message("de"), en=self.message("en"))


def check_size(data: str | bytes, error: type[InterchangeError]) -> None:
    """Raise error when data is empty or larger than MAX_FILE_BYTES (UTF-8 encoded)."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        mb, limit = size / 1024 / 1024, MAX_FILE_BYTES // 1024 // 1024
        raise error(
            text(
                de=f"die Datei ist {mb:.1f} MB groß, erlaubt sind höchstens {limit} MB",
                en=f"the file is {mb:.1f} MB, more than the limit of {limit} MB",
            )
        )
    if not data.strip():
        raise error(text(de="die Datei ist leer", en="the file is empty"))


def too_many_points() -> Text:
    """The message for a file with more than MAX_POINTS positions."""
    return text(
        de=f"mehr als {MAX_POINTS} Punkte in der Datei",
        en=f"more than {MAX_POINTS} points in the file",
    )


_AXES = (("latitude", "Breitengrad", 90), ("longitude", "Längengrad", 180))


def _coordinate_problem(lat: object, lon: object) -> Text:
    """Why check_latlon refused lat and lon, in German and English."""
    for value, (en, de, limit) in zip((lat, lon), _AXES, strict=True):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return text(de=f"{de} {value!r} ist keine Zahl", en=f"{en} {value!r} is not a number")
        if not math.isfinite(value) or abs(value) > limit:
            shown = repr(value).removesuffix(".0")
            return text(
                de=f"{de} {shown} liegt außerhalb von -{limit}..{limit}",
                en=f"{en} {shown} out of range (-{limit}..{limit})",
            )
    return text(de=f"ungültige Position {lat!r}, {lon!r}", en=f"invalid position {lat!r}, {lon!r}")


def latlon(
    lat: object, lon: object, error: type[InterchangeError], hint: Text | None = None, **where
) -> LatLon:
    """check_latlon, raising ``error`` at ``where`` (line= or feature=) with a bilingual message."""
    try:
        return check_latlon(lat, lon)
    except CoordinateError:
        problem = _coordinate_problem(lat, lon)
    if hint:
        problem = text(de=f"{problem['de']}; {hint['de']}", en=f"{problem['en']}; {hint['en']}")
    raise error(problem, **where) from None
