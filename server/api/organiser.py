"""The organiser JSON API under /api/v1/organiser (session login, CSRF, role checks): rallies,
the live view's data, results, team management, assists, close and purge."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import func, select

from routes.model import pick
from server import models, rallies
from server.api import bp
from server.api.openapi import (
    CONTROL,
    ID,
    LINE_PATTERN,
    SLUG_PATTERN,
    err,
    obj,
    ok,
    ref,
    register,
)
from server.api.serialize import iso
from server.api.validation import validated
from server.auth import api_roles_required
from server.exports import results as exports_results
from server.extensions import db
from server.i18n import language
from server.organiser import actions, live

ORGANISER = models.Role.ORGANISER


def rally_summary(row: models.Rally, teams: int) -> dict:
    return {
        "slug": row.slug,
        "title": pick(row.text("title"), language()),
        "status": row.status.value,
        "stops": len(row.stops),
        "teams": teams,
        "published_at": iso(row.published_at),
        "closed_at": iso(row.closed_at),
        "purged_at": iso(row.purged_at),
    }


def team_counts() -> dict[int, int]:
    return dict(
        db.session.execute(
            select(models.Team.rally_id, func.count()).group_by(models.Team.rally_id)
        ).all()
    )


@bp.get("/organiser/rallies")
@api_roles_required(ORGANISER)
def organiser_rallies():
    counts = team_counts()
    rows = db.session.scalars(select(models.Rally).order_by(models.Rally.slug)).all()
    return {"rallies": [rally_summary(r, counts.get(r.id, 0)) for r in rows]}


@bp.get("/organiser/rallies/<slug>/live")
@api_roles_required(ORGANISER)
def organiser_live(slug: str):
    row = rallies.by_slug(slug, staff=True)
    resp = jsonify(live.live_data(row, language()))
    resp.cache_control.no_cache = True
    resp.cache_control.private = True
    resp.add_etag()
    return resp.make_conditional(request)


@bp.get("/organiser/rallies/<slug>/results")
@api_roles_required(ORGANISER)
def organiser_results(slug: str):
    row = rallies.by_slug(slug, staff=True)
    lang = language()
    rows = exports_results.team_results(row)
    summary = exports_results.summarize(row, rows)
    return {
        "rally": rally_summary(row, len(rows)),
        "summary": {
            "teams": summary.teams,
            "finished": summary.finished,
            "finds": summary.finds,
            "methods": summary.methods,
            "flags": summary.flags,
            "fastest_s": _round(summary.fastest_s),
            "median_s": _round(summary.median_s),
            "tasks_solved": summary.tasks_solved,
            "hints": summary.hints,
            "stops": [
                {
                    "number": s.number,
                    "marker_id": s.marker_id,
                    "title": pick(s.title, lang),
                    "found": s.found,
                    "methods": s.methods,
                    "task": s.has_task,
                    "hint_count": s.hint_count,
                    "solved": s.tasks.solved,
                    "answered": s.tasks.answered,
                    "hinted": s.tasks.hinted,
                }
                for s in summary.stops
            ],
        },
        "results": [
            {
                "rank": r.rank,
                "team_id": r.team_id,
                "team": exports_results.team_label(r, lang),
                "anonymous": r.name is None,
                "started_at": iso(r.started_at),
                "finished_at": iso(r.finished_at),
                "duration_s": _round(r.duration_s),
                "found": r.found,
                "score": r.score,
                "methods": r.methods,
                "flags": r.flags,
                "task_points": r.tasks.points,
                "tasks_solved": r.tasks.solved,
                "tasks_answered": r.tasks.answered,
                "hints": r.tasks.hints,
                "hint_cost": r.tasks.hint_cost,
            }
            for r in rows
        ],
    }


def _round(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds)


def team_json(team: models.Team) -> dict:
    return {
        "id": team.id,
        "name": team.name,
        "found": team.found_count,
        "score": team.score,
        "finished": team.finished_at is not None,
    }


@bp.patch("/organiser/rallies/<slug>/teams/<int:team_id>")
@api_roles_required(ORGANISER)
def organiser_rename_team(slug: str, team_id: int):
    body = validated("TeamRename")
    team = actions.rename(rallies.by_slug(slug, staff=True), team_id, body["name"])
    return team_json(team)


@bp.delete("/organiser/rallies/<slug>/teams/<int:team_id>")
@api_roles_required(ORGANISER)
def organiser_remove_team(slug: str, team_id: int):
    actions.remove(rallies.by_slug(slug, staff=True), team_id)
    return "", 204


@bp.post("/organiser/rallies/<slug>/teams/<int:team_id>/assists")
@api_roles_required(ORGANISER)
def organiser_assist(slug: str, team_id: int):
    body = validated("Assist")
    row = rallies.by_slug(slug, staff=True)
    applied = actions.assist(row, team_id, body["marker_id"], body["reason"])
    team = db.session.get(models.Team, team_id)
    return {"found": applied.body["found"], "team": team_json(team)}, 201


@bp.post("/organiser/rallies/<slug>/close")
@api_roles_required(ORGANISER)
def organiser_close(slug: str):
    row = actions.close(rallies.by_slug(slug, staff=True))
    return rally_summary(row, team_counts().get(row.id, 0))


@bp.post("/organiser/rallies/<slug>/purge")
@api_roles_required(ORGANISER)
def organiser_purge(slug: str):
    body = validated("Purge")
    row = rallies.by_slug(slug, staff=True)
    report = actions.purge(row, body["confirm"])
    return {
        "rally": rally_summary(row, report.teams),
        "purged": {
            "teams": report.teams,
            "tokens": report.tokens,
            "client_events": report.client_events,
            "flags": report.flags,
        },
    }


# --- the OpenAPI document -------------------------------------------------------------------

_INT = {"type": "integer"}
_STR = {"type": "string"}
_TIME = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}
_COUNTS = {"type": "object", "additionalProperties": _INT}
_STATUS = {"type": "string", "enum": ["draft", "published", "closed"]}
_SESSION = [{"session": []}]
_SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 80, "pattern": SLUG_PATTERN},
}
_TEAM = {"name": "team_id", "in": "path", "required": True, "schema": ID}


def _ok(schema: str, status: str = "200", description: str = "OK") -> dict:
    return {status: ok(schema, description)}


def _errors(*codes: str) -> dict:
    text = {
        "400": "Bad JSON or CSRF token missing",
        "401": "Not logged in",
        "403": "Not an organiser",
        "404": "No such rally or team",
        "409": "Conflicts with the rally's state",
        "422": "A field is missing or wrong",
    }
    return {c: err(text[c]) for c in codes}


def _op(
    op_id: str,
    summary: str,
    responses: dict,
    params: list,
    body: str | None = None,
) -> dict:
    op = {
        "operationId": op_id,
        "tags": ["organiser"],
        "summary": summary,
        "security": _SESSION,
        "parameters": params,
        "responses": responses,
    }
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    return op


_READ = _errors("401", "403", "404")
_TASK_PROPS = {
    "task_points": {**_INT, "description": "Points the team's tasks won"},
    "tasks_solved": _INT,
    "tasks_answered": {**_INT, "description": "Tasks answered at least once, right or wrong"},
    "hints": {**_INT, "description": "Hints taken"},
    "hint_cost": {**_INT, "description": "Points the hints taken cost"},
}
_TASK_FIELDS = list(_TASK_PROPS)
_STOP_TASK_PROPS = {
    "task": {"type": "boolean", "description": "Whether the stop has a task"},
    "hint_count": {**_INT, "description": "How many hints the stop offers"},
    "solved": {**_INT, "description": "Teams that solved its task"},
    "answered": {**_INT, "description": "Teams that answered its task at least once"},
    "hinted": {**_INT, "description": "Teams that took at least one of its hints"},
}
_STOP_TASK_FIELDS = list(_STOP_TASK_PROPS)
_WRITE = _errors("400", "401", "403", "404", "409", "422")

register(
    {
        "/organiser/rallies": {
            "get": _op(
                "organiserRallies",
                "Every rally (draft, published, closed) with its team count",
                {**_ok("OrganiserRallyList"), **_errors("401", "403")},
                [],
            )
        },
        "/organiser/rallies/{slug}/live": {
            "get": _op(
                "organiserLive",
                "The live view: teams, finds, tasks and hints, coarse recent positions while the "
                "event runs, counts, recent flags (ETag; answers 304 to If-None-Match)",
                {**_ok("LiveView"), "304": {"description": "Not modified"}, **_READ},
                [_SLUG],
            )
        },
        "/organiser/rallies/{slug}/results": {
            "get": _op(
                "organiserResults",
                "Ranked results with methods, flags, tasks and hints, and anonymous counts",
                {**_ok("OrganiserResults"), **_READ},
                [_SLUG],
            )
        },
        "/organiser/rallies/{slug}/teams/{team_id}": {
            "patch": _op(
                "organiserRenameTeam",
                "Rename a team (e.g. an offensive name)",
                {**_ok("OrganiserTeam"), **_WRITE},
                [_SLUG, _TEAM],
                "TeamRename",
            ),
            "delete": _op(
                "organiserRemoveTeam",
                "Remove a team with its finds and flags",
                {"204": {"description": "Removed"}, **_WRITE},
                [_SLUG, _TEAM],
            ),
        },
        "/organiser/rallies/{slug}/teams/{team_id}/assists": {
            "post": _op(
                "organiserAssist",
                "Mark a stop found for a stuck team, with the reason",
                {**_ok("AssistResult", "201", "Marked found"), **_WRITE},
                [_SLUG, _TEAM],
                "Assist",
            )
        },
        "/organiser/rallies/{slug}/close": {
            "post": _op(
                "organiserClose",
                "Close the event: play stops (players get 409 rally_closed)",
                {**_ok("OrganiserRally"), **_WRITE},
                [_SLUG],
            )
        },
        "/organiser/rallies/{slug}/purge": {
            "post": _op(
                "organiserPurge",
                "Delete the personal data of a closed event; anonymous counts stay",
                {**_ok("PurgeResult"), **_WRITE},
                [_SLUG],
                "Purge",
            )
        },
    },
    {
        "OrganiserRally": obj(
            ["slug", "title", "status", "stops", "teams", "published_at", "closed_at", "purged_at"],
            {
                "slug": _STR,
                "title": _STR,
                "status": _STATUS,
                "stops": _INT,
                "teams": _INT,
                "published_at": _TIME,
                "closed_at": _TIME,
                "purged_at": _TIME,
            },
        ),
        "OrganiserRallyList": obj(
            ["rallies"], {"rallies": {"type": "array", "items": ref("OrganiserRally")}}
        ),
        "LiveTeam": obj(
            [
                "id",
                "name",
                "rank",
                "score",
                "found",
                "finds",
                "next_stop",
                "finished",
                "started_at",
                "finished_at",
                "duration_s",
                "last_active_at",
                "position",
                "flags",
                *_TASK_FIELDS,
            ],
            {
                "id": _INT,
                "name": {"anyOf": [_STR, {"type": "null"}]},
                "rank": _INT,
                "score": _INT,
                "found": _INT,
                "finds": {
                    "type": "object",
                    "description": "stop number -> method",
                    "additionalProperties": {"type": "string", "enum": ["gps", "qr", "assist"]},
                },
                "next_stop": {"anyOf": [_INT, {"type": "null"}]},
                "finished": {"type": "boolean"},
                "started_at": _TIME,
                "finished_at": _TIME,
                "duration_s": {"anyOf": [_INT, {"type": "null"}]},
                "last_active_at": _TIME,
                "position": {
                    "anyOf": [
                        obj(
                            ["lat", "lon", "at"],
                            {"lat": {"type": "number"}, "lon": {"type": "number"}, "at": _TIME},
                        ),
                        {"type": "null"},
                    ],
                    "description": "Rounded, recent, only while running",
                },
                "flags": _COUNTS,
                **_TASK_PROPS,
            },
        ),
        "LiveView": obj(
            ["rally", "positions", "counts", "stops", "teams", "flags"],
            {
                "rally": obj(
                    [
                        "slug",
                        "title",
                        "status",
                        "order_mode",
                        "closed_at",
                        "purged_at",
                        "total_stops",
                    ],
                    {
                        "slug": _STR,
                        "title": _STR,
                        "status": _STATUS,
                        "order_mode": _STR,
                        "closed_at": _TIME,
                        "purged_at": _TIME,
                        "total_stops": _INT,
                    },
                ),
                "positions": obj(
                    ["shown", "max_age_min", "decimals"],
                    {
                        "shown": {"type": "boolean"},
                        "max_age_min": {"type": "number"},
                        "decimals": _INT,
                    },
                ),
                "counts": obj(
                    [
                        "teams",
                        "finished",
                        "active",
                        "finds",
                        "methods",
                        "flags",
                        "tasks_solved",
                        "hints",
                    ],
                    {
                        "teams": _INT,
                        "finished": _INT,
                        "active": _INT,
                        "finds": _INT,
                        "methods": _COUNTS,
                        "flags": _COUNTS,
                        "tasks_solved": _INT,
                        "hints": {**_INT, "description": "Hints taken by all teams"},
                    },
                ),
                "stops": {
                    "type": "array",
                    "items": obj(
                        [
                            "number",
                            "marker_id",
                            "lat",
                            "lon",
                            "radius_m",
                            "title",
                            "found",
                            *_STOP_TASK_FIELDS,
                        ],
                        {
                            "number": _INT,
                            "marker_id": _INT,
                            "lat": {"type": "number"},
                            "lon": {"type": "number"},
                            "radius_m": {"type": "number"},
                            "title": _STR,
                            "found": _INT,
                            **_STOP_TASK_PROPS,
                        },
                    ),
                },
                "teams": {"type": "array", "items": ref("LiveTeam")},
                "flags": {
                    "type": "array",
                    "items": obj(
                        ["id", "team_id", "team", "kind", "at", "stop", "detail"],
                        {
                            "id": _INT,
                            "team_id": _INT,
                            "team": {"anyOf": [_STR, {"type": "null"}]},
                            "kind": _STR,
                            "at": _TIME,
                            "stop": {"anyOf": [_INT, {"type": "null"}]},
                            "detail": {"type": "object"},
                        },
                    ),
                },
            },
        ),
        "OrganiserResults": obj(
            ["rally", "summary", "results"],
            {
                "rally": ref("OrganiserRally"),
                "summary": obj(
                    [
                        "teams",
                        "finished",
                        "finds",
                        "methods",
                        "flags",
                        "fastest_s",
                        "median_s",
                        "tasks_solved",
                        "hints",
                        "stops",
                    ],
                    {
                        "teams": _INT,
                        "finished": _INT,
                        "finds": _INT,
                        "methods": _COUNTS,
                        "flags": _COUNTS,
                        "fastest_s": {"anyOf": [_INT, {"type": "null"}]},
                        "median_s": {"anyOf": [_INT, {"type": "null"}]},
                        "tasks_solved": _INT,
                        "hints": {**_INT, "description": "Hints taken by all teams"},
                        "stops": {
                            "type": "array",
                            "items": obj(
                                [
                                    "number",
                                    "marker_id",
                                    "title",
                                    "found",
                                    "methods",
                                    *_STOP_TASK_FIELDS,
                                ],
                                {
                                    "number": _INT,
                                    "marker_id": _INT,
                                    "title": _STR,
                                    "found": _INT,
                                    "methods": _COUNTS,
                                    **_STOP_TASK_PROPS,
                                },
                            ),
                        },
                    },
                ),
                "results": {
                    "type": "array",
                    "items": obj(
                        [
                            "rank",
                            "team_id",
                            "team",
                            "anonymous",
                            "started_at",
                            "finished_at",
                            "duration_s",
                            "found",
                            "score",
                            "methods",
                            "flags",
                            *_TASK_FIELDS,
                        ],
                        {
                            "rank": _INT,
                            "team_id": _INT,
                            "team": _STR,
                            "anonymous": {"type": "boolean"},
                            "started_at": _TIME,
                            "finished_at": _TIME,
                            "duration_s": {"anyOf": [_INT, {"type": "null"}]},
                            "found": _INT,
                            "score": _INT,
                            "methods": _COUNTS,
                            "flags": _COUNTS,
                            **_TASK_PROPS,
                        },
                    ),
                },
            },
        ),
        "OrganiserTeam": obj(
            ["id", "name", "found", "score", "finished"],
            {
                "id": _INT,
                "name": {"anyOf": [_STR, {"type": "null"}]},
                "found": _INT,
                "score": _INT,
                "finished": {"type": "boolean"},
            },
        ),
        "TeamRename": obj(["name"], {"name": ref("TeamName")}),
        "Assist": obj(
            ["marker_id", "reason"],
            {
                "marker_id": ID,
                "reason": {
                    "type": "string",
                    "minLength": 3,
                    "maxLength": actions.REASON_MAX,
                    "pattern": f"^[^{CONTROL}]*[^\\s{CONTROL}][^{CONTROL}]+"
                    f"[^\\s{CONTROL}][^{CONTROL}]*$",
                    "x-error": {"code": "assist_reason", "max": actions.REASON_MAX},
                    "description": "Why the stop is marked found; shown with the flag. One line, "
                    "at least three characters once runs of spaces became one",
                },
            },
        ),
        "AssistResult": obj(
            ["found", "team"],
            {
                "found": {"type": "array", "items": _INT, "description": "Stop numbers"},
                "team": ref("OrganiserTeam"),
            },
        ),
        "Purge": obj(
            ["confirm"],
            {
                "confirm": {
                    "type": "string",
                    "maxLength": 80,
                    "pattern": LINE_PATTERN,
                    "description": "The rally's slug, typed again to confirm",
                }
            },
        ),
        "PurgeResult": obj(
            ["rally", "purged"],
            {
                "rally": ref("OrganiserRally"),
                "purged": obj(
                    ["teams", "tokens", "client_events", "flags"],
                    {"teams": _INT, "tokens": _INT, "client_events": _INT, "flags": _INT},
                ),
            },
        ),
    },
)
