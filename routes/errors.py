"""The error for interchange files (GPX, GeoJSON) that cannot be read: where, and what, by key."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

from markers.geo import CoordinateError, LatLon, check_latlon
from markers.i18n import FALLBACK_LANGUAGE, LANGUAGES
from routes.model import ROUTES_TEXTS, Text

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Interchange files larger than this are refused before parsing."""

MAX_POINTS = 100_000
"""At most this many positions per file (a 3-hour walk logged every second is about 11,000)."""


class InterchangeError(ValueError):
    """A bad interchange file: the text ``key`` of routes/translations.json, filled with ``values``
    (a language map among them is shown in the reader's language), is what is wrong.

    ``line`` (1-based) or ``feature`` (0-based) says where, ``position`` (0-based) which position
    of the feature's coordinates; ``hint`` is the key of a text that may help the author.
    """

    def __init__(
        self,
        key: str,
        /,
        *,
        line: int | None = None,
        feature: int | None = None,
        position: int | None = None,
        hint: str | None = None,
        **values: object,
    ) -> None:
        self.key = key
        self.values: Mapping[str, object] = MappingProxyType(values)
        self.line = line
        self.feature = feature
        self.position = position
        self.hint = hint
        super().__init__(self.message(FALLBACK_LANGUAGE))

    def problem(self, lang: str = FALLBACK_LANGUAGE) -> str:
        """What is wrong in lang, without where, e.g. "latitude 91.5 out of range (-90..90)"."""
        what = ROUTES_TEXTS.t(self.key, lang, **self.values)
        if self.hint:
            what = ROUTES_TEXTS.t(
                "interchange.with_hint", lang, what=what, hint=ROUTES_TEXTS.t(self.hint, lang)
            )
        if self.position is not None:
            what = ROUTES_TEXTS.t(
                "interchange.at_position", lang, position=self.position, what=what
            )
        return what

    def message(self, lang: str = FALLBACK_LANGUAGE) -> str:
        """The whole message in lang, e.g. "line 12: latitude 91.5 out of range (-90..90)"."""
        what = self.problem(lang)
        if self.line is not None:
            return ROUTES_TEXTS.t("interchange.at_line", lang, line=self.line, what=what)
        if self.feature is not None:
            return ROUTES_TEXTS.t("interchange.at_feature", lang, feature=self.feature, what=what)
        return what

    @property
    def what(self) -> Text:
        """What is wrong in every language, without where."""
        return {lang: self.problem(lang) for lang in LANGUAGES}

    @property
    def text(self) -> Text:
        """The message in every language, for showing to a curator or organiser."""
        return {lang: self.message(lang) for lang in LANGUAGES}


E = TypeVar("E", bound=InterchangeError)


def check_size(data: str | bytes, error: type[InterchangeError]) -> None:
    """Raise error when data is empty or larger than MAX_FILE_BYTES (UTF-8 encoded)."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise error(
            "interchange.too_large", mb=size / 1024 / 1024, limit=MAX_FILE_BYTES // 1024 // 1024
        )
    if not data.strip():
        raise error("interchange.empty")


def too_many_points(error: type[E], *, line: int | None = None, feature: int | None = None) -> E:
    """The error for a file with more than MAX_POINTS positions, at line or feature."""
    return error("interchange.too_many_points", line=line, feature=feature, max=MAX_POINTS)


_AXES = (("interchange.latitude", 90), ("interchange.longitude", 180))


def _coordinate_problem(lat: object, lon: object) -> tuple[str, dict[str, object]]:
    """Why check_latlon refused lat and lon: the key of the text and its values."""
    for value, (axis, limit) in zip((lat, lon), _AXES, strict=True):
        name = ROUTES_TEXTS.text_map(axis)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "interchange.not_a_number", {"axis": name, "value": repr(value)}
        if not math.isfinite(value) or abs(value) > limit:
            shown = repr(value).removesuffix(".0")
            return "interchange.out_of_range", {"axis": name, "value": shown, "limit": limit}
    return "interchange.invalid_position", {"lat": repr(lat), "lon": repr(lon)}


def latlon(
    lat: object,
    lon: object,
    error: type[InterchangeError],
    hint: str | None = None,
    *,
    line: int | None = None,
    feature: int | None = None,
    position: int | None = None,
) -> LatLon:
    """check_latlon, raising ``error`` at line, or feature and position, when it refuses;
    ``hint`` is the key of a text added to the message."""
    try:
        return check_latlon(lat, lon)
    except CoordinateError:
        key, values = _coordinate_problem(lat, lon)
    raise error(key, line=line, feature=feature, position=position, hint=hint, **values) from None
