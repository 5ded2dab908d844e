"""A rally as plain data: markers, the stops that use them, order mode, solution word."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from markers.geo import LatLon
from markers.geofence import Geofence
from markers.i18n import EASY_GERMAN, Catalogue, Text, package_texts
from markers.i18n import pick as pick
from routes.tasks import Hint, Task

ROUTES_TEXTS = Catalogue(package_texts("routes"))
"""The texts of routes/: validation findings and interchange file errors."""

WALKING_SPEED_MPS = 1.2
"""4.3 km/h: a group walking through a city centre, pauses at crossings included."""

DWELL_S = 300.0
"""Five minutes at each stop: find the marker, read the story, think about the next clue."""


def text(de: str = "", en: str = "", ls: str = "") -> Text:
    """A read-only Text from its German and English versions and, when given, Leichte Sprache."""
    return MappingProxyType({"de": de, "en": en, **({EASY_GERMAN: ls} if ls else {})})


class OrderMode(StrEnum):
    """FIXED: stops open one after another. FREE: every stop is open from the start."""

    FIXED = "fixed"
    FREE = "free"


@dataclass(frozen=True)
class Marker:
    """A virtual marker at a venue: where it is, how close counts, and what it tells."""

    id: int
    position: LatLon
    radius_m: float = 25.0
    title: Text = field(default_factory=text)
    clue: Text = field(default_factory=text)
    """Leads a player to this marker (shown while the marker is open and not yet found)."""
    story: Text = field(default_factory=text)
    """The reveal: the story of the place, shown once the marker is found."""
    polygon: tuple[LatLon, ...] | None = None
    venue: str | None = None
    step_free: bool | None = None
    """Whether its venue can be reached without steps (None: not known)."""
    image: str | None = None
    """The file name of its picture (shown on the reveal), if it has one."""

    @property
    def geofence(self) -> Geofence:
        return Geofence(self.position, self.radius_m, self.polygon)


@dataclass(frozen=True)
class Stop:
    """A marker's place in a rally; ``clue`` overrides the marker's own clue for this rally."""

    marker: Marker
    clue: Text | None = None
    task: Task | None = None
    """A question that opens once the marker is found."""
    hints: tuple[Hint, ...] = ()
    """Up to three hints, taken one at a time (routes.rules)."""
    clue_from: int | None = None
    """The marker id of the stop before this one when its clue was written (None: not known)."""

    @property
    def effective_clue(self) -> Text:
        return self.clue if self.clue else self.marker.clue


@dataclass(frozen=True)
class Rally:
    """A rally: its stops in order (the walking order for FIXED, a suggestion for FREE)."""

    id: int
    slug: str
    title: Text
    stops: tuple[Stop, ...]
    order_mode: OrderMode = OrderMode.FIXED
    start: LatLon | None = None
    finish: LatLon | None = None
    solution_word: str | None = None
    """Each stop reveals one letter: stop i reveals solution_word[i]."""
    walking_speed_mps: float = WALKING_SPEED_MPS
    dwell_s: float = DWELL_S
    play_area: tuple[LatLon, ...] | None = None
    """A polygon every stop should lie in (a warning, not a hard limit)."""
    intro: Text = field(default_factory=text)
    finish_text: Text = field(default_factory=text)
    """What the organisers tell a team at the finish: where to collect the prize, until when."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.walking_speed_mps) and self.walking_speed_mps > 0):
            raise ValueError("walking speed must be a positive number of metres per second")

    @property
    def markers(self) -> tuple[Marker, ...]:
        return tuple(s.marker for s in self.stops)

    def stop_index(self, marker_id: int) -> int | None:
        """Index of the stop that uses marker_id, or None when the rally has no such stop."""
        for i, s in enumerate(self.stops):
            if s.marker.id == marker_id:
                return i
        return None

    def letter(self, index: int) -> str | None:
        """The solution letter stop ``index`` reveals, or None without a matching solution word."""
        word = self.solution_word or ""
        if len(word) != len(self.stops):
            return None
        return word[index]

    def waypoints(self) -> list[LatLon]:
        """The walking line's corners: start, each stop's marker, finish."""
        points = [s.marker.position for s in self.stops]
        if self.start is not None:
            points.insert(0, self.start)
        if self.finish is not None:
            points.append(self.finish)
        return points
