"""What a curator should fix or know about a rally: findings with a stable code and a message.

Every message is in German and English and names the numbers behind it. Cheap enough to run on
every edit: pairs of stops are compared in a sweep by latitude, so only nearby pairs cost a
geodesic distance. Stops whose coordinates or geofence are broken are reported once and left out
of the geometric checks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from types import MappingProxyType

from markers.geo import CoordinateError, LatLon, centroid, check_latlon, distance_m
from markers.geofence import MAX_RADIUS_M, MIN_RADIUS_M, Geofence
from routes.geometry import RouteSummary, summarize
from routes.model import LANGUAGES, Rally, Text, pick, text


class Severity(StrEnum):
    """ERROR: the rally cannot be played as it is. WARNING: it can, but should be fixed."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


CODES: Mapping[str, Severity] = MappingProxyType(
    {
        "empty_rally": Severity.ERROR,
        "too_many_stops": Severity.WARNING,
        "duplicate_marker": Severity.ERROR,
        "coordinates_out_of_range": Severity.ERROR,
        "radius_out_of_range": Severity.ERROR,
        "polygon_too_small": Severity.ERROR,
        "geofences_overlap": Severity.WARNING,
        "stops_too_close": Severity.WARNING,
        "leg_too_long": Severity.WARNING,
        "outside_play_area": Severity.WARNING,
        "solution_word_length": Severity.ERROR,
        "solution_word_characters": Severity.ERROR,
        "missing_translation": Severity.WARNING,
        "rally_too_long": Severity.INFO,
    }
)
"""Every finding code and its severity. Codes are stable: clients may match on them."""


@dataclass(frozen=True)
class Finding:
    """One thing to fix or know; stop indices count from 0 (messages count stops from 1)."""

    code: str
    severity: Severity
    message: Text
    stop_index: int | None = None
    marker_id: int | None = None
    other_stop_index: int | None = None
    details: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def as_dict(self) -> dict[str, object]:
        """The finding as plain JSON-ready data."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": dict(self.message),
            "stop_index": self.stop_index,
            "marker_id": self.marker_id,
            "other_stop_index": self.other_stop_index,
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class Limits:
    """The thresholds validate() applies."""

    min_spacing_m: float = 40.0
    """Stops closer than this confuse players even when their geofences do not overlap."""
    max_leg_m: float = 1500.0
    min_radius_m: float = MIN_RADIUS_M
    max_radius_m: float = MAX_RADIUS_M
    max_stops: int = 100
    max_duration_s: float = 3 * 3600.0


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding is an error, i.e. the rally should not be published."""
    return any(f.severity is Severity.ERROR for f in findings)


def validate(rally: Rally, limits: Limits = Limits()) -> list[Finding]:
    """All findings for the rally, ordered by stop index (rally-wide ones first), then code."""
    out: list[Finding] = []
    positions = _check_coordinates(rally, out)
    fences = _check_fences(rally, positions, limits, out)
    _check_counts(rally, limits, out)
    _check_pairs(rally, positions, fences, limits, out)
    _check_legs_and_duration(rally, positions, limits, out)
    _check_play_area(rally, positions, out)
    _check_solution_word(rally, out)
    _check_translations(rally, out)
    return sorted(out, key=_order_key)


def _order_key(f: Finding) -> tuple:
    return (
        f.stop_index is not None,
        f.stop_index or 0,
        f.code,
        -1 if f.other_stop_index is None else f.other_stop_index,
    )


def _add(
    out: list[Finding],
    code: str,
    de: str,
    en: str,
    stop_index: int | None = None,
    marker_id: int | None = None,
    other: int | None = None,
    **details: object,
) -> None:
    out.append(
        Finding(
            code,
            CODES[code],
            text(de=de, en=en),
            stop_index,
            marker_id,
            other,
            MappingProxyType(details),
        )
    )


# Formatting: numbers and names as a reader of each language expects them.


def _num(x: float, lang: str, decimals: int) -> str:
    s = f"{x:,.{decimals}f}"
    return s.translate(str.maketrans(",.", ".,")) if lang == "de" else s


def _m(x: float, lang: str) -> str:
    """Metres: whole above 100 m, one decimal below."""
    if not math.isfinite(x):
        return f"{x} m"
    s = _num(x, lang, 0 if abs(x) >= 100 else 1)
    return (s[:-2] if s[-2:] in (".0", ",0") else s) + " m"


def _duration(seconds: float, lang: str) -> str:
    if seconds < 60:
        return f"{round(seconds)} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    h, mins = ("Std.", "Min.") if lang == "de" else ("h", "min")
    if not hours:
        return f"{minutes} {mins}"
    return f"{hours} {h}" + (f" {minutes} {mins}" if minutes else "")


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _ref(rally: Rally, i: int, lang: str) -> str:
    """'3 (Fruchthalle)' for stop index 2: its number and, when it has one, its title."""
    name = pick(rally.stops[i].marker.title, lang)
    return f"{i + 1} ({name})" if name else str(i + 1)


# The checks. Each appends its findings to out.


def _valid(p: object) -> LatLon | None:
    try:
        return check_latlon(*p)  # type: ignore[misc]
    except (CoordinateError, TypeError, ValueError):
        return None


def _show_point(p: object, lang: str) -> str:
    try:
        lat, lon = p  # type: ignore[misc]
    except (TypeError, ValueError):
        return repr(p)
    names = ("Breite", "Länge") if lang == "de" else ("latitude", "longitude")
    shown = [repr(v) if not isinstance(v, float | int) else str(v) for v in (lat, lon)]
    if lang == "de":
        shown = [v.replace(".", ",") for v in shown]
    return f"{names[0]} {shown[0]}, {names[1]} {shown[1]}"


def _bad_coordinates(
    out: list[Finding],
    point: object,
    de_where: str,
    en_where: str,
    stop_index: int | None,
    marker_id: int | None,
    where: str,
    corner: int | None = None,
) -> None:
    _add(
        out,
        "coordinates_out_of_range",
        f"{de_where} hat ungültige Koordinaten ({_show_point(point, 'de')}): Die Breite muss "
        "zwischen −90 und 90 liegen, die Länge zwischen −180 und 180.",
        f"{en_where} has invalid coordinates ({_show_point(point, 'en')}): latitude must lie "
        "between −90 and 90, longitude between −180 and 180.",
        stop_index,
        marker_id,
        where=where,
        corner=corner,
    )


def _check_coordinates(rally: Rally, out: list[Finding]) -> list[LatLon | None]:
    """Report every position out of range; return each stop's position, None where invalid."""
    positions = []
    for i, stop in enumerate(rally.stops):
        m = stop.marker
        p = _valid(m.position)
        positions.append(p)
        if p is None:
            _bad_coordinates(
                out,
                m.position,
                f"Station {_ref(rally, i, 'de')}",
                f"Stop {_ref(rally, i, 'en')}",
                i,
                m.id,
                "marker",
            )
        for k, corner in enumerate(m.polygon or ()):
            if _valid(corner) is None:
                _bad_coordinates(
                    out,
                    corner,
                    f"Ecke {k + 1} des Polygons von Station {i + 1}",
                    f"Corner {k + 1} of the polygon of stop {i + 1}",
                    i,
                    m.id,
                    "polygon",
                    k,
                )
    for point, de, en, where in (
        (rally.start, "Der Start", "The start", "start"),
        (rally.finish, "Das Ziel", "The finish", "finish"),
    ):
        if point is not None and _valid(point) is None:
            _bad_coordinates(out, point, de, en, None, None, where)
    for k, corner in enumerate(rally.play_area or ()):
        if _valid(corner) is None:
            _bad_coordinates(
                out,
                corner,
                f"Ecke {k + 1} des Spielgebiets",
                f"Corner {k + 1} of the play area",
                None,
                None,
                "play_area",
                k,
            )
    return positions


def _check_fences(
    rally: Rally, positions: list[LatLon | None], limits: Limits, out: list[Finding]
) -> list[Geofence | None]:
    """Report bad radii and polygons; return each stop's geofence, None where unusable."""
    fences: list[Geofence | None] = []
    for i, stop in enumerate(rally.stops):
        m = stop.marker
        r = m.radius_m
        radius_ok = (
            not isinstance(r, bool)
            and isinstance(r, int | float)
            and math.isfinite(r)
            and limits.min_radius_m <= r <= limits.max_radius_m
        )
        if not radius_ok:
            lo, hi = limits.min_radius_m, limits.max_radius_m
            number = not isinstance(r, bool) and isinstance(r, int | float)
            de_r, en_r = (_m(r, "de"), _m(r, "en")) if number else (repr(r), repr(r))
            _add(
                out,
                "radius_out_of_range",
                f"Station {_ref(rally, i, 'de')}: Der Radius des Fundbereichs von {de_r} liegt "
                f"außerhalb der erlaubten {_m(lo, 'de')} bis {_m(hi, 'de')}.",
                f"Stop {_ref(rally, i, 'en')}: the geofence radius of {en_r} lies outside "
                f"the allowed {_m(lo, 'en')} to {_m(hi, 'en')}.",
                i,
                m.id,
                radius_m=r if number else None,
                min_radius_m=lo,
                max_radius_m=hi,
            )
        polygon_ok = m.polygon is None or len(m.polygon) >= 3
        if not polygon_ok:
            _add(
                out,
                "polygon_too_small",
                f"Station {_ref(rally, i, 'de')}: Das Polygon des Fundbereichs hat nur "
                f"{len(m.polygon)} Ecken, braucht aber mindestens 3.",
                f"Stop {_ref(rally, i, 'en')}: the geofence polygon has only "
                f"{_plural(len(m.polygon), 'corner', 'corners')}; it needs at least 3.",
                i,
                m.id,
                where="polygon",
                corners=len(m.polygon),
            )
        usable = (
            radius_ok
            and polygon_ok
            and positions[i] is not None
            and all(_valid(c) for c in m.polygon or ())
        )
        fences.append(Geofence(positions[i], r, m.polygon) if usable else None)
    return fences


def _check_counts(rally: Rally, limits: Limits, out: list[Finding]) -> None:
    n = len(rally.stops)
    if n == 0:
        _add(out, "empty_rally", "Die Rallye hat keine Stationen.", "The rally has no stops.")
    if n > limits.max_stops:
        _add(
            out,
            "too_many_stops",
            f"Die Rallye hat {n} Stationen, mehr als {limits.max_stops}.",
            f"The rally has {n} stops, more than {limits.max_stops}.",
            stops=n,
            max_stops=limits.max_stops,
        )
    first_use: dict[object, int] = {}
    for i, stop in enumerate(rally.stops):
        mid = stop.marker.id
        if mid in first_use:
            j = first_use[mid]
            _add(
                out,
                "duplicate_marker",
                f"Die Stationen {j + 1} und {i + 1} verwenden denselben Marker (ID {mid}); "
                "ein Marker kann pro Rallye nur einmal gefunden werden.",
                f"Stops {j + 1} and {i + 1} use the same marker (id {mid}); "
                "a marker can be found only once per rally.",
                i,
                mid,
                j,
            )
        else:
            first_use[mid] = i


_MIN_M_PER_DEG_LAT = 110_000.0
"""Below the shortest degree of latitude (110,574 m at the equator): a safe lower bound."""


def _check_pairs(
    rally: Rally,
    positions: list[LatLon | None],
    fences: list[Geofence | None],
    limits: Limits,
    out: list[Finding],
) -> None:
    """Overlapping geofences and stops too close, sweeping the stops sorted by latitude."""
    reach = [f.reach_m() if f else 0.0 for f in fences]
    horizon = max([limits.min_spacing_m, *(2 * r for r in reach)])
    by_lat = sorted((p.lat, i) for i, p in enumerate(positions) if p is not None)
    for a, (lat_a, i) in enumerate(by_lat):
        for lat_b, j in by_lat[a + 1 :]:
            if (lat_b - lat_a) * _MIN_M_PER_DEG_LAT > horizon:
                break
            _check_pair(rally, min(i, j), max(i, j), positions, fences, reach, limits, out)


def _check_pair(
    rally: Rally,
    i: int,
    j: int,
    positions: list,
    fences: list,
    reach: list[float],
    limits: Limits,
    out: list[Finding],
) -> None:
    mi, mj = rally.stops[i].marker, rally.stops[j].marker
    if mi.id == mj.id:
        return
    d = distance_m(positions[i], positions[j])
    de_pair = f"Die Stationen {_ref(rally, i, 'de')} und {_ref(rally, j, 'de')}"
    en_pair = f"Stops {_ref(rally, i, 'en')} and {_ref(rally, j, 'en')}"
    need = reach[i] + reach[j]
    if fences[i] and fences[j] and d < need:
        _add(
            out,
            "geofences_overlap",
            f"{de_pair} überschneiden sich: Ihre Fundbereiche ({_m(reach[i], 'de')} und "
            f"{_m(reach[j], 'de')}) bräuchten {_m(need, 'de')} Abstand, die Marker liegen aber "
            f"nur {_m(d, 'de')} auseinander, sodass eine GPS-Position beide finden könnte.",
            f"{en_pair} overlap: their geofences ({_m(reach[i], 'en')} and "
            f"{_m(reach[j], 'en')}) need {_m(need, 'en')} between the markers, but the markers "
            f"are only {_m(d, 'en')} apart, so one GPS fix could find both.",
            i,
            mi.id,
            j,
            distance_m=d,
            reach_m=(reach[i], reach[j]),
            overlap_m=need - d,
        )
    elif d < limits.min_spacing_m:
        _add(
            out,
            "stops_too_close",
            f"{de_pair} liegen nur {_m(d, 'de')} auseinander; Stationen sollten mindestens "
            f"{_m(limits.min_spacing_m, 'de')} Abstand haben.",
            f"{en_pair} are only {_m(d, 'en')} apart; stops should be at least "
            f"{_m(limits.min_spacing_m, 'en')} apart.",
            i,
            mi.id,
            j,
            distance_m=d,
            min_spacing_m=limits.min_spacing_m,
        )


def _check_legs_and_duration(
    rally: Rally, positions: list[LatLon | None], limits: Limits, out: list[Finding]
) -> None:
    ends: list[tuple[LatLon | None, int | None]] = [(p, i) for i, p in enumerate(positions)]
    if rally.start is not None:
        ends.insert(0, (_valid(rally.start), None))
    if rally.finish is not None:
        ends.append((_valid(rally.finish), None))
    summary: RouteSummary | None = None
    if all(p is not None for p, _ in ends):
        summary = summarize(rally)
        legs: list[float | None] = list(summary.legs)
    else:
        legs = [distance_m(a, b) if a and b else None for (a, _), (b, _) in pairwise(ends)]
    for k, d in enumerate(legs):
        if d is not None and d > limits.max_leg_m:
            _leg_too_long(rally, ends[k][1], ends[k + 1][1], d, limits, out)
    if summary is not None and summary.duration_s > limits.max_duration_s:
        _rally_too_long(rally, summary, limits, out)


def _leg_too_long(
    rally: Rally, a: int | None, b: int | None, d: float, limits: Limits, out: list[Finding]
) -> None:
    de_from = f"von Station {_ref(rally, a, 'de')}" if a is not None else "vom Start"
    en_from = f"from stop {_ref(rally, a, 'en')}" if a is not None else "from the start"
    de_to = f"zu Station {_ref(rally, b, 'de')}" if b is not None else "zum Ziel"
    en_to = f"to stop {_ref(rally, b, 'en')}" if b is not None else "to the finish"
    stop, other = (b, a) if b is not None else (a, None)
    _add(
        out,
        "leg_too_long",
        f"Der Weg {de_from} {de_to} ist {_m(d, 'de')} lang, mehr als {_m(limits.max_leg_m, 'de')}.",
        f"The walk {en_from} {en_to} is {_m(d, 'en')} long, more than "
        f"{_m(limits.max_leg_m, 'en')}.",
        stop,
        None if stop is None else rally.stops[stop].marker.id,
        other,
        **{"from": "start" if a is None else a, "to": "finish" if b is None else b},
        distance_m=d,
        max_leg_m=limits.max_leg_m,
    )


def _rally_too_long(rally: Rally, s: RouteSummary, limits: Limits, out: list[Finding]) -> None:
    n = len(rally.stops)
    times = (s.duration_s, s.walking_s, rally.dwell_s, limits.max_duration_s)
    de, en = ([_duration(x, lang) for x in times] for lang in ("de", "en"))
    _add(
        out,
        "rally_too_long",
        f"Die Rallye dauert etwa {de[0]}: {de[1]} für {_m(s.length_m, 'de')} Weg und "
        f"{_plural(n, 'Station', 'Stationen')} zu je {de[2]}; das ist mehr als {de[3]}.",
        f"The rally takes about {en[0]}: {en[1]} to walk {_m(s.length_m, 'en')} plus "
        f"{_plural(n, 'stop', 'stops')} of {en[2]} each; that is more than {en[3]}.",
        duration_s=s.duration_s,
        walking_s=s.walking_s,
        dwell_s=s.dwell_s,
        length_m=s.length_m,
        max_duration_s=limits.max_duration_s,
    )


def _check_play_area(rally: Rally, positions: list[LatLon | None], out: list[Finding]) -> None:
    area = rally.play_area
    if area is None:
        return
    if len(area) < 3:
        _add(
            out,
            "polygon_too_small",
            f"Das Spielgebiet hat nur {len(area)} Ecken, braucht aber mindestens 3.",
            f"The play area has only {_plural(len(area), 'corner', 'corners')}; "
            "it needs at least 3.",
            where="play_area",
            corners=len(area),
        )
        return
    corners = [_valid(c) for c in area]
    if None in corners:
        return
    fence = Geofence(centroid(corners), 1.0, tuple(corners))
    points: list[tuple[LatLon | None, int | None, str, str, str]] = [
        (p, i, f"Station {_ref(rally, i, 'de')}", f"Stop {_ref(rally, i, 'en')}", "marker")
        for i, p in enumerate(positions)
    ]
    if rally.start is not None:
        points.append((_valid(rally.start), None, "Der Start", "The start", "start"))
    if rally.finish is not None:
        points.append((_valid(rally.finish), None, "Das Ziel", "The finish", "finish"))
    for p, i, de, en, where in points:
        d = fence.distance_outside_m(p) if p is not None else 0.0
        if d > 0:
            _add(
                out,
                "outside_play_area",
                f"{de} liegt {_m(d, 'de')} außerhalb des Spielgebiets.",
                f"{en} lies {_m(d, 'en')} outside the play area.",
                i,
                None if i is None else rally.stops[i].marker.id,
                where=where,
                distance_m=d,
            )


def _check_solution_word(rally: Rally, out: list[Finding]) -> None:
    word = rally.solution_word
    if not word:
        return
    bad = list(dict.fromkeys(c for c in word if not c.isalpha()))
    if bad:

        def show(c: str, lang: str) -> str:
            if c == " ":
                return "Leerzeichen" if lang == "de" else "space"
            return f"„{c}“" if lang == "de" else f'"{c}"'

        _add(
            out,
            "solution_word_characters",
            f"Das Lösungswort „{word}“ darf nur Buchstaben enthalten, nicht: "
            + ", ".join(show(c, "de") for c in bad)
            + ".",
            f'The solution word "{word}" may contain letters only, not: '
            + ", ".join(show(c, "en") for c in bad)
            + ".",
            word=word,
            characters="".join(bad),
        )
    n, letters = len(rally.stops), len(word)
    if letters != n:
        _add(
            out,
            "solution_word_length",
            f"Das Lösungswort „{word}“ hat {letters} Zeichen, die Rallye aber "
            f"{_plural(n, 'Station', 'Stationen')}; jede Station verrät einen Buchstaben.",
            f'The solution word "{word}" has {_plural(letters, "character", "characters")}, '
            f"but the rally has {_plural(n, 'stop', 'stops')}; each stop reveals one letter.",
            word=word,
            letters=letters,
            stops=n,
        )


_FIELDS = {
    "title": ("Der Titel", "the title"),
    "clue": ("Der Hinweis", "the clue"),
    "story": ("Die Geschichte", "the story"),
    "intro": ("Die Einführung", "the introduction"),
}
_LANGUAGE_NAMES = {"de": ("Deutsch", "German"), "en": ("Englisch", "English")}


def _missing(value: Text | None) -> list[str]:
    return [lang for lang in LANGUAGES if not (value or {}).get(lang, "").strip()]


def _check_translations(rally: Rally, out: list[Finding]) -> None:
    texts: list[tuple[int | None, str, Text | None]] = [(None, "title", rally.title)]
    if any((v or "").strip() for v in (rally.intro or {}).values()):
        texts.append((None, "intro", rally.intro))
    for i, stop in enumerate(rally.stops):
        m = stop.marker
        texts += [(i, "title", m.title), (i, "clue", stop.effective_clue), (i, "story", m.story)]
    for i, name, value in texts:
        missing = _missing(value)
        if missing:
            _missing_translation(rally, i, name, missing, out)


def _missing_translation(
    rally: Rally, i: int | None, name: str, missing: list[str], out: list[Finding]
) -> None:
    def langs(k: int, conj: str) -> str:
        return f" {conj} ".join(_LANGUAGE_NAMES.get(lang, (lang, lang))[k] for lang in missing)

    de_whose = "Rallye" if i is None else f"Station {_ref(rally, i, 'de')}"
    en_whose = "Rally" if i is None else f"Stop {_ref(rally, i, 'en')}"
    _add(
        out,
        "missing_translation",
        f"{de_whose}: {_FIELDS[name][0]} fehlt auf {langs(0, 'und')}.",
        f"{en_whose}: {_FIELDS[name][1]} is missing in {langs(1, 'and')}.",
        i,
        None if i is None else rally.stops[i].marker.id,
        field=name,
        languages=tuple(missing),
    )
