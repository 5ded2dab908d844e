"""The error for interchange files (GPX, GeoJSON) that cannot be read: where, and what, in de/en."""

from __future__ import annotations

import math

from markers.geo import CoordinateError, LatLon, check_latlon
from markers.i18n import FALLBACK_LANGUAGE, LANGUAGES
from routes.model import ROUTES_TEXTS, Text, pick

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
        super().__init__(self.message(FALLBACK_LANGUAGE))

    def message(self, lang: str = FALLBACK_LANGUAGE) -> str:
        """The whole message in lang, e.g. "line 12: latitude 91.5 out of range (-90..90)"."""
        what = pick(self.what, lang)
        if self.line is not None:
            return ROUTES_TEXTS.t("interchange.at_line", lang, line=self.line, what=what)
        if self.feature is not None:
            return ROUTES_TEXTS.t("interchange.at_feature", lang, feature=self.feature, what=what)
        return what

    @property
    def text(self) -> Text:
        """The message in every language, for showing to a curator or organiser."""
        return {lang: self.message(lang) for lang in LANGUAGES}


def check_size(data: str | bytes, error: type[InterchangeError]) -> None:
    """Raise error when data is empty or larger than MAX_FILE_BYTES (UTF-8 encoded)."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise error(ROUTES_TEXTS.text_map(
            "interchange.too_large", mb=size / 1024 / 1024, limit=MAX_FILE_BYTES // 1024 // 1024
        ))
    if not data.strip():
        raise error(ROUTES_TEXTS.text_map("interchange.empty"))


def too_many_points() -> Text:
    """The message for a file with more than MAX_POINTS positions."""
    return ROUTES_TEXTS.text_map("interchange.too_many_points", max=MAX_POINTS)


_AXES = (("interchange.latitude", 90), ("interchange.longitude", 180))


def _coordinate_problem(lat: object, lon: object) -> Text:
    """Why check_latlon refused lat and lon, in every language."""
    for value, (axis, limit) in zip((lat, lon), _AXES, strict=True):
        name = ROUTES_TEXTS.text_map(axis)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return ROUTES_TEXTS.text_map("interchange.not_a_number", axis=name, value=repr(value))
        if not math.isfinite(value) or abs(value) > limit:
            shown = repr(value).removesuffix(".0")
            return ROUTES_TEXTS.text_map(
                "interchange.out_of_range", axis=name, value=shown, limit=limit
            )
    return ROUTES_TEXTS.text_map("interchange.invalid_position", lat=repr(lat), lon=repr(lon))


def latlon(
    lat: object,
    lon: object,
    error: type[InterchangeError],
    hint: Text | None = None,
    **where: int | None,
) -> LatLon:
    """check_latlon, raising ``error`` at ``where`` (line= or feature=) with a bilingual message."""
    try:
        return check_latlon(lat, lon)
    except CoordinateError:
        problem = _coordinate_problem(lat, lon)
    if hint:
        problem = {lang: f"{pick(problem, lang)}; {pick(hint, lang)}" for lang in LANGUAGES}
    raise error(problem, **where) from None
