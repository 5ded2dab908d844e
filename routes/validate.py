"""What a curator should fix or know about a rally: findings with a stable code and a message.

Every message is in every language (routes/translations.json) and names the numbers behind
it. Cheap enough to run on every edit: pairs of stops are compared in a sweep by latitude, so
only nearby pairs cost a geodesic distance. Stops whose coordinates or geofence are broken are
reported once and left out of the geometric checks.
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
from markers.i18n import EASY_GERMAN, LANGUAGES
from routes.geometry import RouteSummary, summarize
from routes.model import ROUTES_TEXTS, Rally, Stop, Text, pick
from routes.tasks import MAX_ATTEMPTS, MAX_HINTS, MAX_OPTIONS, MIN_OPTIONS, TaskType, finite


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
        "task_options": Severity.ERROR,
        "task_answer": Severity.ERROR,
        "task_tolerance": Severity.ERROR,
        "task_attempts": Severity.ERROR,
        "task_points": Severity.ERROR,
        "too_many_hints": Severity.ERROR,
        "hint_cost": Severity.ERROR,
        "missing_easy_german": Severity.INFO,
        "not_step_free": Severity.WARNING,
        "clue_predecessor_changed": Severity.WARNING,
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
    _check_easy_german(rally, out)
    for i in range(len(rally.stops)):
        _check_task(rally, i, out)
        _check_hints(rally, i, out)
        _check_step_free(rally, i, out)
        _check_clue_from(rally, i, out)
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
    message: Text,
    stop_index: int | None = None,
    marker_id: int | None = None,
    other: int | None = None,
    **details: object,
) -> None:
    out.append(
        Finding(
            code,
            CODES[code],
            message,
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


def _metres(x: float) -> Text:
    return {lang: _m(x, lang) for lang in LANGUAGES}


def _duration(seconds: float) -> Text:
    if seconds < 60:
        return dict.fromkeys(LANGUAGES, f"{round(seconds)} s")
    hours, minutes = divmod(round(seconds / 60), 60)
    h, mins = _t("validate.unit.hours"), _t("validate.unit.minutes")
    shown = {}
    for lang in LANGUAGES:
        parts = [f"{hours} {h[lang]}"] if hours else []
        if minutes or not hours:
            parts.append(f"{minutes} {mins[lang]}")
        shown[lang] = " ".join(parts)
    return shown


def _count(n: int, noun: str) -> Text:
    """'3 stops', '1 stop': n with the noun in its singular or plural."""
    return _t(f"validate.count.{noun}_{'one' if n == 1 else 'other'}", n=n)


def _ref(rally: Rally, i: int) -> Text:
    """'3 (Fruchthalle)' for stop index 2: its number and, when it has one, its title."""
    refs = {}
    for lang in LANGUAGES:
        name = pick(rally.stops[i].marker.title, lang)
        refs[lang] = f"{i + 1} ({name})" if name else str(i + 1)
    return refs


def _t(key: str, **values: object) -> Text:
    return ROUTES_TEXTS.text_map(key, **values)


# The checks. Each appends its findings to out.


def _valid(p: object) -> LatLon | None:
    try:
        return check_latlon(*p)  # type: ignore[misc]
    except (CoordinateError, TypeError, ValueError):
        return None


def _show_point(p: object) -> Text:
    if not isinstance(p, tuple | list) or len(p) != 2:
        return dict.fromkeys(LANGUAGES, repr(p))
    lat, lon = p
    shown = [repr(v) if not isinstance(v, float | int) else str(v) for v in (lat, lon)]
    decimal = {
        lang: [v.replace(".", ",") if lang == "de" else v for v in shown] for lang in LANGUAGES
    }
    return {
        lang: ROUTES_TEXTS.t("validate.point", lang, lat=decimal[lang][0], lon=decimal[lang][1])
        for lang in LANGUAGES
    }


def _bad_coordinates(
    out: list[Finding],
    point: object,
    place: Text,
    stop_index: int | None,
    marker_id: int | None,
    where: str,
    corner: int | None = None,
) -> None:
    _add(
        out,
        "coordinates_out_of_range",
        _t("validate.coordinates_out_of_range", where=place, point=_show_point(point)),
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
                _t("validate.where.stop", ref=_ref(rally, i)),
                i,
                m.id,
                "marker",
            )
        for k, corner in enumerate(m.polygon or ()):
            if _valid(corner) is None:
                _bad_coordinates(
                    out,
                    corner,
                    _t("validate.where.polygon_corner", corner=k + 1, stop=i + 1),
                    i,
                    m.id,
                    "polygon",
                    k,
                )
    for point, where in ((rally.start, "start"), (rally.finish, "finish")):
        if point is not None and _valid(point) is None:
            _bad_coordinates(out, point, _t(f"validate.where.{where}"), None, None, where)
    for k, corner in enumerate(rally.play_area or ()):
        if _valid(corner) is None:
            _bad_coordinates(
                out,
                corner,
                _t("validate.where.play_area_corner", corner=k + 1),
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
            _add(
                out,
                "radius_out_of_range",
                _t(
                    "validate.radius_out_of_range",
                    ref=_ref(rally, i),
                    radius=_metres(r) if number else repr(r),
                    min=_metres(lo),
                    max=_metres(hi),
                ),
                i,
                m.id,
                radius_m=r if number else None,
                min_radius_m=lo,
                max_radius_m=hi,
            )
        polygon_ok = m.polygon is None or len(m.polygon) >= 3
        if m.polygon is not None and not polygon_ok:
            _add(
                out,
                "polygon_too_small",
                _t(
                    "validate.polygon_too_small",
                    ref=_ref(rally, i),
                    corners=_count(len(m.polygon), "corner"),
                ),
                i,
                m.id,
                where="polygon",
                corners=len(m.polygon),
            )
        position = positions[i]
        usable = radius_ok and polygon_ok and all(_valid(c) for c in m.polygon or ())
        fences.append(Geofence(position, r, m.polygon) if usable and position else None)
    return fences


def _check_counts(rally: Rally, limits: Limits, out: list[Finding]) -> None:
    n = len(rally.stops)
    if n == 0:
        _add(out, "empty_rally", _t("validate.empty_rally"))
    if n > limits.max_stops:
        _add(
            out,
            "too_many_stops",
            _t("validate.too_many_stops", stops=n, max=limits.max_stops),
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
                _t("validate.duplicate_marker", first=j + 1, second=i + 1, id=mid),
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
    pair = {"a": _ref(rally, i), "b": _ref(rally, j)}
    need = reach[i] + reach[j]
    if fences[i] and fences[j] and d < need:
        _add(
            out,
            "geofences_overlap",
            _t(
                "validate.geofences_overlap",
                **pair,
                reach_a=_metres(reach[i]),
                reach_b=_metres(reach[j]),
                need=_metres(need),
                distance=_metres(d),
            ),
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
            _t(
                "validate.stops_too_close",
                **pair,
                distance=_metres(d),
                min=_metres(limits.min_spacing_m),
            ),
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
    origin = (
        _t("validate.from_start") if a is None else _t("validate.from_stop", ref=_ref(rally, a))
    )
    destination = (
        _t("validate.to_finish") if b is None else _t("validate.to_stop", ref=_ref(rally, b))
    )
    stop, other = (b, a) if b is not None else (a, None)
    _add(
        out,
        "leg_too_long",
        _t(
            "validate.leg_too_long",
            origin=origin,
            destination=destination,
            distance=_metres(d),
            max=_metres(limits.max_leg_m),
        ),
        stop,
        None if stop is None else rally.stops[stop].marker.id,
        other,
        **{"from": "start" if a is None else a, "to": "finish" if b is None else b},
        distance_m=d,
        max_leg_m=limits.max_leg_m,
    )


def _rally_too_long(rally: Rally, s: RouteSummary, limits: Limits, out: list[Finding]) -> None:
    _add(
        out,
        "rally_too_long",
        _t(
            "validate.rally_too_long",
            total=_duration(s.duration_s),
            walking=_duration(s.walking_s),
            length=_metres(s.length_m),
            stops=_count(len(rally.stops), "stop"),
            dwell=_duration(rally.dwell_s),
            max=_duration(limits.max_duration_s),
        ),
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
            _t("validate.play_area_too_small", corners=_count(len(area), "corner")),
            where="play_area",
            corners=len(area),
        )
        return
    corners = [c for c in (_valid(c) for c in area) if c is not None]
    if len(corners) < len(area):
        return
    fence = Geofence(centroid(corners), 1.0, tuple(corners))
    points: list[tuple[LatLon | None, int | None, Text, str]] = [
        (p, i, _t("validate.where.stop", ref=_ref(rally, i)), "marker")
        for i, p in enumerate(positions)
    ]
    for end, where in ((rally.start, "start"), (rally.finish, "finish")):
        if end is not None:
            points.append((_valid(end), None, _t(f"validate.where.{where}"), where))
    for p, i, place, where in points:
        d = fence.distance_outside_m(p) if p is not None else 0.0
        if d > 0:
            _add(
                out,
                "outside_play_area",
                _t("validate.outside_play_area", where=place, distance=_metres(d)),
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
        shown = [
            _t("validate.space") if c == " " else _t("validate.quoted", character=c) for c in bad
        ]
        listed = {lang: ", ".join(c[lang] for c in shown) for lang in LANGUAGES}
        _add(
            out,
            "solution_word_characters",
            _t("validate.solution_word_characters", word=word, characters=listed),
            word=word,
            characters="".join(bad),
        )
    n, letters = len(rally.stops), len(word)
    if letters != n:
        _add(
            out,
            "solution_word_length",
            _t(
                "validate.solution_word_length",
                word=word,
                letters=_count(letters, "character"),
                stops=_count(n, "stop"),
            ),
            word=word,
            letters=letters,
            stops=n,
        )


def _missing(value: Text | None) -> list[str]:
    return [lang for lang in LANGUAGES if not (value or {}).get(lang, "").strip()]


def _blank(value: Text | None) -> bool:
    return not any(isinstance(v, str) and v.strip() for v in (value or {}).values())


_PlayerText = tuple[int | None, str, Text, Text | None]
"""Stop index (None: the rally), field name, what the field is called, the text."""


def _player_texts(rally: Rally) -> list[_PlayerText]:
    """Every text a player reads: the rally's title and intro (when it has one), and at each
    stop its title, clue, story, task question and options, and hints."""
    texts: list[_PlayerText] = [(None, "title", _t("validate.field.title"), rally.title)]
    if not _blank(rally.intro):
        texts.append((None, "intro", _t("validate.field.intro"), rally.intro))
    for k, stop in enumerate(rally.stops):
        m = stop.marker
        texts += [
            (k, name, _t(f"validate.field.{name}"), value)
            for name, value in (
                ("title", m.title),
                ("clue", stop.effective_clue),
                ("story", m.story),
            )
        ]
        if stop.task is not None:
            texts.append((k, "question", _t("validate.field.question"), stop.task.question))
            texts += [
                (k, f"options[{n}]", _t("validate.field.option", n=n + 1), o)
                for n, o in enumerate(stop.task.options)
            ]
        texts += [
            (k, f"hints[{n}]", _t("validate.field.hint", n=n + 1), h.text)
            for n, h in enumerate(stop.hints)
        ]
    return texts


def _check_translations(rally: Rally, out: list[Finding]) -> None:
    for i, name, field_name, value in _player_texts(rally):
        missing = _missing(value)
        if missing:
            _missing_translation(rally, i, name, field_name, missing, out)


def _whose(rally: Rally, i: int | None) -> Text:
    return (
        _t("validate.where.rally") if i is None else _t("validate.where.stop", ref=_ref(rally, i))
    )


_LISTED = 3
"""How many of the texts without Leichte Sprache its finding names."""


def _check_easy_german(rally: Rally, out: list[Finding]) -> None:
    """One finding for all the texts that have words but none in Leichte Sprache."""
    lacking = [
        (i, name, field_name)
        for i, name, field_name, value in _player_texts(rally)
        if not _blank(value) and _blank({EASY_GERMAN: (value or {}).get(EASY_GERMAN, "")})
    ]
    if not lacking:
        return
    named = [
        {lang: f"{_whose(rally, i)[lang]}: {f[lang]}" for lang in LANGUAGES}
        for i, _, f in lacking[:_LISTED]
    ]
    rest = len(lacking) - len(named)
    listed = {lang: "; ".join(n[lang] for n in named) for lang in LANGUAGES}
    _add(
        out,
        "missing_easy_german",
        _t(
            "validate.missing_easy_german",
            texts=_count(len(lacking), "text"),
            listed=_t("validate.and_more", listed=listed, n=rest) if rest else listed,
        ),
        count=len(lacking),
        texts=tuple({"stop_index": i, "field": name} for i, name, _ in lacking),
    )


def _missing_translation(
    rally: Rally,
    i: int | None,
    name: str,
    field_name: Text,
    missing: list[str],
    out: list[Finding],
) -> None:
    names = [
        _t(f"validate.language.{lang}")
        if f"validate.language.{lang}" in ROUTES_TEXTS
        else dict.fromkeys(LANGUAGES, lang)
        for lang in missing
    ]
    and_ = _t("validate.and")
    listed = {lang: f" {and_[lang]} ".join(n[lang] for n in names) for lang in LANGUAGES}
    _add(
        out,
        "missing_translation",
        _t(
            "validate.missing_translation",
            whose=_whose(rally, i),
            field=field_name,
            languages=listed,
        ),
        i,
        None if i is None else rally.stops[i].marker.id,
        field=name,
        languages=tuple(missing),
    )


def _is_number(x: object) -> bool:
    return not isinstance(x, bool) and isinstance(x, int | float)


def _stop_finding(
    rally: Rally, i: int, code: str, key: str, out: list[Finding], **values: object
) -> None:
    """A finding about stop i whose text (key) names the stop and values; values go to details."""
    message = _t(key, ref=_ref(rally, i), **values)
    out.append(
        Finding(
            code, CODES[code], message, i, rally.stops[i].marker.id, None, MappingProxyType(values)
        )
    )


def _check_task(rally: Rally, i: int, out: list[Finding]) -> None:
    task = rally.stops[i].task
    if task is None:
        return
    n = len(task.options)
    if task.type is TaskType.CHOICE:
        if not MIN_OPTIONS <= n <= MAX_OPTIONS:
            _add(
                out,
                "task_options",
                _t("validate.task_options", ref=_ref(rally, i), options=_count(n, "option")),
                i,
                rally.stops[i].marker.id,
                options=n,
            )
        answer = task.answer
        if not (_is_number(answer) and isinstance(answer, int) and 0 <= answer < n):
            shown = answer + 1 if _is_number(answer) and isinstance(answer, int) else repr(answer)
            _stop_finding(
                rally, i, "task_answer", "validate.task_answer_choice", out, answer=shown, count=n
            )
    elif task.type is TaskType.NUMBER:
        if finite(task.answer) is None:
            _stop_finding(
                rally,
                i,
                "task_answer",
                "validate.task_answer_number",
                out,
                answer=repr(task.answer),
            )
        tolerance = task.tolerance
        given = finite(tolerance)
        if given is None or given < 0:
            _stop_finding(
                rally, i, "task_tolerance", "validate.task_tolerance", out, tolerance=tolerance
            )
    elif not any(isinstance(a, str) and a.strip() for a in task.accepted):
        _stop_finding(rally, i, "task_answer", "validate.task_answer_text", out)
    if not (_is_number(task.attempts) and 1 <= task.attempts <= MAX_ATTEMPTS):
        _stop_finding(
            rally,
            i,
            "task_attempts",
            "validate.task_attempts",
            out,
            attempts=task.attempts,
            max=MAX_ATTEMPTS,
        )
    if not (_is_number(task.points) and task.points >= 0):
        _stop_finding(rally, i, "task_points", "validate.task_points", out, points=task.points)


def _check_hints(rally: Rally, i: int, out: list[Finding]) -> None:
    hints = rally.stops[i].hints
    if len(hints) > MAX_HINTS:
        _add(
            out,
            "too_many_hints",
            _t(
                "validate.too_many_hints",
                ref=_ref(rally, i),
                hints=_count(len(hints), "hint"),
                max=MAX_HINTS,
            ),
            i,
            rally.stops[i].marker.id,
            hints=len(hints),
            max=MAX_HINTS,
        )
    for n, hint in enumerate(hints):
        if not (_is_number(hint.cost) and hint.cost >= 0):
            _stop_finding(rally, i, "hint_cost", "validate.hint_cost", out, n=n + 1, cost=hint.cost)


def _check_step_free(rally: Rally, i: int, out: list[Finding]) -> None:
    if rally.stops[i].marker.step_free is False:
        _stop_finding(rally, i, "not_step_free", "validate.not_step_free", out)


def _check_clue_from(rally: Rally, i: int, out: list[Finding]) -> None:
    """A stop whose clue was written for the way from another stop than the one now before it."""
    stop: Stop = rally.stops[i]
    before = rally.stops[i - 1].marker.id if i > 0 else None
    if stop.clue_from is None or stop.clue_from == before:
        return
    was_index = rally.stop_index(stop.clue_from)
    was = (
        _t("validate.marker_ref", id=stop.clue_from)
        if was_index is None
        else _t("validate.stop_ref", ref=_ref(rally, was_index))
    )
    key = "validate.clue_predecessor_changed"
    values: dict[str, object] = {"was": was}
    if i == 0:
        key += "_first"
    else:
        values["now"] = _t("validate.stop_ref", ref=_ref(rally, i - 1))
    _add(
        out,
        "clue_predecessor_changed",
        _t(key, ref=_ref(rally, i), **values),
        i,
        stop.marker.id,
        None if was_index is None else was_index,
        clue_from=stop.clue_from,
        before=before,
    )
