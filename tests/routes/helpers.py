"""Small builders for test rallies from the real Kaiserslautern venues in assets/."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

from markers.geo import LatLon
from routes.model import Marker, OrderMode, Rally, Stop, text
from tests.conftest import ASSETS

VENUES_FILE = ASSETS / "kaiserslautern_venues.json"

Where = str | LatLon | tuple[float, float]
"""A venue name (or a unique part of one, case-insensitive) or a position."""

KL_STOPS = (
    "Fruchthalle",
    "Stiftskirche",
    "Martinskirche",
    "Unionskirche",
    "Wadgasserhof",
    "Rathaus",
    "Pfalztheater",
    "Japanischer Garten",
)
"""Eight Kaiserslautern venues, the stops of the interchange tests' rally."""


@functools.cache
def _venues() -> tuple[tuple[str, LatLon], ...]:
    data = json.loads(VENUES_FILE.read_text(encoding="utf-8"))
    return tuple((v["name"], LatLon(v["lat"], v["lon"])) for v in data)


def venues() -> dict[str, LatLon]:
    """Every venue's full name and position, in the file's order."""
    return dict(_venues())


def venue_name(name: str) -> str:
    """The full name of the venue called name, or of the one venue whose name contains it."""
    all_venues = venues()
    if name in all_venues:
        return name
    matches = [n for n in all_venues if name.lower() in n.lower()]
    if len(matches) != 1:
        raise KeyError(f"{name!r} matches {len(matches)} venues, not one: {matches}")
    return matches[0]


def venue(name: str) -> LatLon:
    """The position of the venue called name (see venue_name)."""
    return venues()[venue_name(name)]


def _place(where: Where) -> tuple[str, LatLon]:
    if isinstance(where, str):
        full = venue_name(where)
        return full, venues()[full]
    return f"{where[0]:.5f}, {where[1]:.5f}", LatLon(where[0], where[1])


def make_marker(id: int, where: Where, radius: float = 25.0, **fields) -> Marker:
    """A marker at a venue or position, with title, clue and story in German, English and
    Leichte Sprache."""
    name, position = _place(where)
    defaults = {
        "title": text(de=name, en=name, ls=name),
        "clue": text(
            de=f"Suche den Marker bei {name}.",
            en=f"Find the marker at {name}.",
            ls=f"Such den Marker bei {name}.",
        ),
        "story": text(
            de=f"Die Geschichte von {name}.",
            en=f"The story of {name}.",
            ls=f"Das ist die Geschichte von {name}.",
        ),
        "venue": name if isinstance(where, str) else None,
    }
    return Marker(id=id, position=position, radius_m=radius, **{**defaults, **fields})


def make_rally(
    stops: Sequence[Marker | Stop | Where],
    *,
    order_mode: OrderMode = OrderMode.FIXED,
    solution_word: str | None = None,
    start: Where | None = None,
    finish: Where | None = None,
    play_area: Sequence[Where] | None = None,
    id: int = 1,
    slug: str = "test-rally",
    **fields,
) -> Rally:
    """A rally through stops given as markers, stops, venue names or positions.

    Names and positions become markers with ids 1, 2, ... by their place in ``stops``.
    """
    built = []
    for i, s in enumerate(stops):
        if isinstance(s, Stop):
            built.append(s)
        elif isinstance(s, Marker):
            built.append(Stop(s))
        else:
            built.append(Stop(make_marker(i + 1, s)))
    defaults = {"title": text(de="Testrallye", en="Test rally", ls="Test-Rallye")}
    return Rally(
        id=id,
        slug=slug,
        stops=tuple(built),
        order_mode=order_mode,
        solution_word=solution_word,
        start=None if start is None else _place(start)[1],
        finish=None if finish is None else _place(finish)[1],
        play_area=None if play_area is None else tuple(_place(p)[1] for p in play_area),
        **{**defaults, **fields},
    )
