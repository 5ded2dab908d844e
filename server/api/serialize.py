"""The JSON shapes of the player API (see openapi.py), in one language per answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for

from routes import geometry, rules
from routes import model as domain
from routes.model import pick
from server import models


def iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")


def rally_summary(row: models.Rally, rally: domain.Rally, lang: str) -> dict[str, Any]:
    summary = geometry.summarize(rally)
    return {
        "slug": rally.slug,
        "title": pick(rally.title, lang),
        "title_i18n": dict(rally.title),
        "stops": len(rally.stops),
        "length_m": round(summary.length_m),
        "duration_min": round(summary.duration_s / 60),
        "order_mode": rally.order_mode.value,
        "status": row.status.value,
    }


def rally_public(row: models.Rally, rally: domain.Rally, lang: str) -> dict[str, Any]:
    """A rally's public face: nothing a team would have to earn."""
    first_clue = None
    if rally.order_mode is domain.OrderMode.FIXED and rally.stops:
        first_clue = pick(rally.stops[0].effective_clue, lang)
    start = None
    if rally.start is not None:
        start = {"lat": rally.start.lat, "lon": rally.start.lon, "name": row.start_name}
    return {
        **rally_summary(row, rally, lang),
        "intro": pick(rally.intro, lang),
        "start": start,
        "first_clue": first_clue,
        "solution_length": len(rally.solution_word) if rally.solution_word else None,
    }


def found_stop(f: rules.FoundStop, lang: str, images: dict[int, str | None]) -> dict[str, Any]:
    image = images.get(f.marker_id)
    return {
        "marker_id": f.marker_id,
        "stop": f.index + 1,
        "title": pick(f.title, lang),
        "story": pick(f.story, lang),
        "letter": f.letter,
        "lat": f.position.lat,
        "lon": f.position.lon,
        "found_at": iso(f.at),
        "method": f.method.value,
        "image_url": url_for("play.media", name=image) if image else None,
        "task": None if f.task is None else task(f.task, lang),
        **hints(f, lang),
    }


def task(view: rules.TaskView, lang: str) -> dict[str, Any]:
    """A found stop's task as the team may see it: the right answer only once it is over."""
    return {
        "type": view.type.value,
        "question": pick(view.question, lang),
        "options": [pick(o, lang) for o in view.options],
        "points": view.worth,
        "points_won": view.points,
        "attempts_left": view.attempts_left,
        "solved": view.solved,
        "closed": view.closed,
        "answer": view.answer,
    }


def hints(stop: rules.OpenStop | rules.FoundStop, lang: str) -> dict[str, Any]:
    """The hints a team took at a stop, and what the next one costs."""
    return {
        "hints": [pick(h, lang) for h in stop.hints],
        "hints_left": stop.hints_left,
        "next_hint_cost": stop.next_hint_cost,
    }


def open_stop(o: rules.OpenStop, lang: str) -> dict[str, Any]:
    nearby = None
    if o.nearby is not None:
        nearby = {
            "lat": o.nearby.position.lat,
            "lon": o.nearby.position.lon,
            "radius_m": o.nearby.radius_m,
            "distance_m": round(o.nearby.distance_m, 1),
            "bearing_deg": round(o.nearby.bearing_deg, 1),
        }
    return {
        "marker_id": o.marker_id,
        "stop": o.index + 1,
        "clue": pick(o.clue, lang),
        "search_area": {
            "lat": round(o.search_area.center.lat, 6),
            "lon": round(o.search_area.center.lon, 6),
            "radius_m": o.search_area.radius_m,
        },
        "marker": nearby,
        **hints(o, lang),
    }


def solution_pattern(letters: tuple[str | None, ...]) -> str:
    """The solution word so far, e.g. "B A _ _ A"."""
    return " ".join(letter or "_" for letter in letters)


def team(row: models.Team, rally: domain.Rally, view: rules.TeamView, lang: str) -> dict[str, Any]:
    """A team's whole state as the team may see it."""
    images = {s.marker.id: s.marker.image or None for s in rally.stops}
    has_word = any(rally.letter(i) for i in range(len(rally.stops)))
    return {
        "id": row.id,
        "name": row.name,
        "join_code": row.join_code,
        "rally": rally.slug,
        "language": row.language,
        "order_mode": rally.order_mode.value,
        "started_at": iso(row.started_at),
        "finished": view.complete,
        "finished_at": iso(view.finished_at),
        "score": view.score,
        "found": [found_stop(f, lang, images) for f in view.found],
        "open": [open_stop(o, lang) for o in view.open],
        "letters": list(view.letters) if has_word else [],
        "solution": solution_pattern(view.letters) if has_word else None,
        "progress": {"found": len(view.found), "total": view.total},
    }


def answer_result(
    row: models.Team, rally: domain.Rally, outcome: rules.Outcome, lang: str
) -> dict[str, Any]:
    """The answer to a task's answer: right or not, points won, attempts left, the team."""
    return {**verdict(outcome), "team": team(row, rally, outcome.view, lang)}


def verdict(outcome: rules.Outcome) -> dict[str, Any]:
    """An answer's verdict: correct, wrong or why it was refused; points won, attempts left."""
    result = outcome.answer
    if outcome.rejection is not None:
        code = outcome.rejection.value
    else:
        code = "correct" if result is not None and result.correct else "wrong"
    return {
        "result": code,
        "correct": bool(result and result.correct),
        "points": result.points if result else 0,
        "attempts_left": result.attempts_left if result else 0,
    }


def hint_result(
    row: models.Team, rally: domain.Rally, outcome: rules.Outcome, lang: str
) -> dict[str, Any]:
    """The answer to a hint request: the hint (None when refused) and the team."""
    hint = outcome.hint
    return {
        "result": outcome.rejection.value if outcome.rejection else "hint",
        "hint": None
        if hint is None
        else {"number": hint.number, "text": pick(hint.text, lang), "cost": hint.cost},
        "team": team(row, rally, outcome.view, lang),
    }


def event_result(
    row: models.Team, rally: domain.Rally, outcome: rules.Outcome, lang: str
) -> dict[str, Any]:
    """The answer to a check-in or scan: what was found now, the reveal, what is visible."""
    state = team(row, rally, outcome.view, lang)
    return {
        "result": outcome.rejection.value if outcome.rejection else "found",
        "found_now": [
            f for f in state["found"] if f["marker_id"] in {x.marker_id for x in outcome.found}
        ],
        "flags": [f.kind.value for f in outcome.flags],
        "visible": [o for o in state["open"] if o["marker"] is not None],
        "team": state,
    }
