"""The curator API's part of the OpenAPI document: paths under /curator and their schemas."""

from __future__ import annotations

from typing import Any

from markers.geofence import MAX_RADIUS_M, MIN_RADIUS_M
from markers.i18n import LANGUAGES, TEXT_LANGUAGES
from routes.tasks import MAX_ANSWER_CHARS, MAX_ATTEMPTS, MAX_HINTS, MAX_OPTIONS, MIN_OPTIONS
from server.api.openapi import (
    BILINGUAL,
    ID,
    LANGUAGE,
    LAT,
    LINE_PATTERN,
    LON,
    SLUG_PATTERN,
    TEXT_PATTERN,
    TIME,
    err,
    obj,
    ok,
    ref,
    req,
)
from server.curator import fences

MAX_STOPS = 200
INT = {"type": "integer"}
NUM = {"type": "number"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
RADIUS = {
    "type": "number",
    "minimum": MIN_RADIUS_M,
    "maximum": MAX_RADIUS_M,
    "description": "Geofence radius in metres",
}
TITLE = obj(
    list(LANGUAGES),
    {
        lang: {"type": "string", "maxLength": 200, "pattern": LINE_PATTERN}
        for lang in TEXT_LANGUAGES
    },
)
TEXTS = obj(
    list(LANGUAGES),
    {
        lang: {"type": "string", "maxLength": 10000, "pattern": TEXT_PATTERN}
        for lang in TEXT_LANGUAGES
    },
)
"""A text a curator writes, in every language (Leichte Sprache optional): lines, but no other
control character."""
SLUG = {
    "type": "string",
    "minLength": 1,
    "maxLength": 80,
    "pattern": SLUG_PATTERN,
    "description": "Lowercase letters and digits, words joined by '-'",
}
WORD = {"type": "string", "maxLength": 40, "pattern": LINE_PATTERN}
STATUS = {"type": "string", "enum": ["draft", "published", "closed"]}
ACCEPTED = {"type": "string", "maxLength": MAX_ANSWER_CHARS, "pattern": LINE_PATTERN}
TASK = obj(
    ["type", "question", "answer"],
    {
        "type": {"type": "string", "enum": ["choice", "number", "text"]},
        "question": TEXTS,
        "options": {
            "type": "array",
            "minItems": MIN_OPTIONS,
            "maxItems": MAX_OPTIONS,
            "items": TITLE,
            "description": "choice only",
        },
        "answer": {
            "anyOf": [
                {"type": "integer", "minimum": -(2**53), "maximum": 2**53},
                {"type": "number", "minimum": -1e15, "maximum": 1e15},
                ACCEPTED,
                {"type": "array", "minItems": 1, "maxItems": 20, "items": ACCEPTED},
            ],
            "description": "choice: the 0-based index of the right option; number: the number; "
            "text: the accepted answer or answers (case, accents and spaces do not count)",
        },
        "tolerance": {
            "type": "number",
            "minimum": 0,
            "maximum": 1e15,
            "description": "number only",
        },
        "points": {"type": "integer", "minimum": 0, "maximum": 100000},
        "attempts": {"type": "integer", "minimum": 1, "maximum": MAX_ATTEMPTS},
        "letter": {
            "type": "string",
            "enum": ["find", "answer"],
            "description": "When the stop's letter shows: once found, or once the task is over",
        },
    },
)
"""A stop's task in the rally file's shape (routes/rallyfile.py parse_task checks the rest)."""
HINTS = {
    "type": "array",
    "maxItems": MAX_HINTS,
    "items": obj(
        ["text"], {"text": TEXTS, "cost": {"type": "integer", "minimum": 0, "maximum": 100000}}
    ),
}
ANY_TASK = {
    "anyOf": [{"type": "object"}, {"type": "null"}],
    "description": "The stop's task in the rally file's shape (see StopTask), or null",
}
ORDER_MODE = {"type": "string", "enum": ["fixed", "free"]}


def _null(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


OWNER = _null(obj(["id", "username"], {"id": INT, "username": STR}))
CORNERS = {
    "type": "array",
    "items": {
        "type": "array",
        "items": {"type": "number", "minimum": -180, "maximum": 180},
        "minItems": 2,
        "maxItems": 2,
        "description": "[lat, lon]: latitude -90 to 90, longitude -180 to 180",
    },
}
POLYGON = {
    "anyOf": [
        {**CORNERS, "minItems": fences.MIN_CORNERS, "maxItems": fences.MAX_CORNERS},
        {"type": "null"},
    ],
    "description": "A polygon geofence: its corners as [lat, lon], not closed, not crossing "
    "itself, the marker inside or near it; null for the circle of radius_m",
    "x-error": {"code": "polygon_corners", "min": fences.MIN_CORNERS, "max": fences.MAX_CORNERS},
}
POINT = obj(["lat", "lon"], {"lat": LAT, "lon": LON})
STEP_FREE = {
    "anyOf": [BOOL, {"type": "null"}],
    "description": "Reachable without steps: true, false, or null while nobody has said",
}

SCHEMAS: dict[str, Any] = {
    "CuratorVenue": obj(
        [
            "id",
            "name",
            "kind",
            "lat",
            "lon",
            "address",
            "fact",
            "step_free",
            "placed",
            "placed_by",
            "editable",
        ],
        {
            "id": INT,
            "name": STR,
            "kind": STR,
            "lat": _null(LAT),
            "lon": _null(LON),
            "address": STR,
            "fact": STR,
            "step_free": STEP_FREE,
            "placed": BOOL,
            "placed_by": {
                **OWNER,
                "description": "Who gave it its position (from the audit log); null for "
                "imported positions and unplaced venues",
            },
            "editable": {
                "type": "boolean",
                "description": "May this user place or move it, take its position back, set "
                "step_free: anyone while it has no position, then whoever placed it and admins",
            },
        },
    ),
    "CuratorVenueList": obj(
        ["venues"], {"venues": {"type": "array", "items": ref("CuratorVenue")}}
    ),
    "VenueUpdate": {
        **obj([], {"lat": LAT, "lon": LON, "step_free": STEP_FREE}),
        "minProperties": 1,
        "dependentRequired": {"lat": ["lon"], "lon": ["lat"]},
    },
    "CuratorMarker": obj(
        [
            "id",
            "lat",
            "lon",
            "radius_m",
            "polygon",
            "title",
            "clue",
            "story",
            "venue_id",
            "venue",
            "image",
            "image_url",
            "owner",
            "editable",
            "rallies",
            "updated_at",
        ],
        {
            "id": INT,
            "lat": LAT,
            "lon": LON,
            "radius_m": NUM,
            "polygon": _null(CORNERS),
            "title": BILINGUAL,
            "clue": BILINGUAL,
            "story": BILINGUAL,
            "venue_id": _null(INT),
            "venue": _null(STR),
            "image": _null(STR),
            "image_url": _null(STR),
            "owner": OWNER,
            "editable": BOOL,
            "rallies": {
                "type": "array",
                "items": obj(["id", "slug", "status"], {"id": INT, "slug": STR, "status": STATUS}),
            },
            "updated_at": _null(TIME),
        },
    ),
    "CuratorMarkerList": obj(
        ["markers"], {"markers": {"type": "array", "items": ref("CuratorMarker")}}
    ),
    "MarkerCreate": obj(
        ["lat", "lon"],
        {
            "lat": LAT,
            "lon": LON,
            "radius_m": RADIUS,
            "polygon": POLYGON,
            "title": TITLE,
            "clue": TEXTS,
            "story": TEXTS,
            "venue_id": _null(ID),
        },
    ),
    "MarkerUpdate": {
        **obj(
            [],
            {
                "lat": LAT,
                "lon": LON,
                "radius_m": RADIUS,
                "polygon": POLYGON,
                "title": TITLE,
                "clue": TEXTS,
                "story": TEXTS,
                "venue_id": _null(ID),
            },
        ),
        "dependentRequired": {"lat": ["lon"], "lon": ["lat"]},
    },
    "ImageUpload": obj(
        ["image"],
        {
            "image": {
                "type": "string",
                "contentMediaType": "application/octet-stream",
                "description": "A JPEG or PNG file; re-encoded, metadata removed",
            }
        },
    ),
    "Deleted": obj(["deleted", "id"], {"deleted": BOOL, "id": INT}),
    "Finding": obj(
        ["code", "severity", "message", "stop_index", "marker_id", "other_stop_index", "details"],
        {
            "code": STR,
            "severity": {"type": "string", "enum": ["error", "warning", "info"]},
            "message": BILINGUAL,
            "stop_index": _null(INT),
            "marker_id": _null(INT),
            "other_stop_index": _null(INT),
            "details": {"type": "object"},
        },
    ),
    "RouteNumbers": obj(
        ["length_m", "duration_s", "walking_s", "dwell_s", "legs_m", "stops"],
        {
            "length_m": NUM,
            "duration_s": NUM,
            "walking_s": NUM,
            "dwell_s": NUM,
            "legs_m": {"type": "array", "items": NUM},
            "stops": INT,
        },
    ),
    "RallyFindings": obj(
        ["findings", "publishable", "summary", "route"],
        {
            "findings": {"type": "array", "items": ref("Finding")},
            "publishable": {"type": "boolean", "description": "No error-level finding"},
            "summary": ref("RouteNumbers"),
            "route": {
                "type": "array",
                "items": {"type": "array", "items": NUM, "minItems": 2, "maxItems": 2},
            },
        },
    ),
    "CuratorRallyBrief": obj(
        ["id", "slug", "title", "status", "order_mode", "stops", "owner", "editable", "updated_at"],
        {
            "id": INT,
            "slug": STR,
            "title": BILINGUAL,
            "status": STATUS,
            "order_mode": ORDER_MODE,
            "stops": INT,
            "owner": OWNER,
            "editable": BOOL,
            "updated_at": _null(TIME),
        },
    ),
    "CuratorRallyList": obj(
        ["rallies"], {"rallies": {"type": "array", "items": ref("CuratorRallyBrief")}}
    ),
    "StopTask": TASK,
    "CuratorStop": obj(
        ["index", "marker_id", "letter", "clue", "clue_from", "task", "hints", "marker"],
        {
            "index": INT,
            "marker_id": INT,
            "letter": _null(STR),
            "clue": BILINGUAL,
            "clue_from": {
                **_null(INT),
                "description": "The marker id of the stop before this one when its clue was "
                "written (null: the first stop then, or not known)",
            },
            "task": ANY_TASK,
            "hints": {
                "type": "array",
                "items": obj(["text", "cost"], {"text": BILINGUAL, "cost": INT}),
            },
            "marker": obj(
                [
                    "id",
                    "lat",
                    "lon",
                    "radius_m",
                    "polygon",
                    "title",
                    "clue",
                    "story",
                    "image_url",
                    "venue",
                ],
                {
                    "id": INT,
                    "lat": LAT,
                    "lon": LON,
                    "radius_m": NUM,
                    "polygon": _null(CORNERS),
                    "title": BILINGUAL,
                    "clue": BILINGUAL,
                    "story": BILINGUAL,
                    "image_url": _null(STR),
                    "venue": _null(STR),
                },
            ),
        },
    ),
    "CuratorRally": obj(
        [
            "id",
            "slug",
            "title",
            "status",
            "order_mode",
            "stops",
            "owner",
            "editable",
            "updated_at",
            "intro",
            "finish_text",
            "solution_word",
            "start",
            "finish",
            "teams",
            "published_at",
            "can",
            "findings",
            "publishable",
            "summary",
            "route",
        ],
        {
            "id": INT,
            "slug": STR,
            "title": BILINGUAL,
            "status": STATUS,
            "order_mode": ORDER_MODE,
            "owner": OWNER,
            "editable": BOOL,
            "updated_at": _null(TIME),
            "intro": BILINGUAL,
            "finish_text": BILINGUAL,
            "solution_word": _null(STR),
            "start": _null(obj(["lat", "lon", "name"], {"lat": LAT, "lon": LON, "name": STR})),
            "finish": _null(POINT),
            "teams": INT,
            "published_at": _null(TIME),
            "can": obj(
                ["edit", "edit_stops", "publish", "unpublish", "delete", "simulate"],
                {
                    k: BOOL
                    for k in ("edit", "edit_stops", "publish", "unpublish", "delete", "simulate")
                },
            ),
            "stops": {"type": "array", "items": ref("CuratorStop")},
            "findings": {"type": "array", "items": ref("Finding")},
            "publishable": BOOL,
            "summary": ref("RouteNumbers"),
            "route": {"type": "array", "items": {"type": "array", "items": NUM}},
        },
    ),
    "RallyCreate": obj(
        ["slug"],
        {
            "slug": SLUG,
            "title": TITLE,
            "intro": TEXTS,
            "order_mode": ORDER_MODE,
            "solution_word": _null(WORD),
        },
    ),
    "RallyUpdate": obj(
        [],
        {
            "slug": SLUG,
            "title": TITLE,
            "intro": TEXTS,
            "finish_text": TEXTS,
            "order_mode": ORDER_MODE,
            "solution_word": _null(WORD),
            "start": _null(
                obj(
                    ["lat", "lon"],
                    {
                        "lat": LAT,
                        "lon": LON,
                        "name": {"type": "string", "maxLength": 200, "pattern": LINE_PATTERN},
                    },
                )
            ),
            "finish": {
                **POINT,
                "type": ["object", "null"],
                "description": "Where the walk ends; null for none",
            },
        },
    ),
    "RallyStops": obj(
        ["stops"],
        {
            "stops": {
                "type": "array",
                "maxItems": MAX_STOPS,
                "items": obj(
                    ["marker_id"],
                    {
                        "marker_id": ID,
                        "clue": TEXTS,
                        "task": {**TASK, "type": ["object", "null"]},
                        "hints": HINTS,
                    },
                ),
                "description": "Each stop's clue, task and hints stay with its marker unless "
                "sent; task null removes it. Writing a clue records the stop before it "
                "(clue_from).",
            }
        },
    ),
    "RallyCopy": obj(["slug"], {"slug": SLUG}),
    "RallyStatusChange": obj(
        ["status"], {"status": {"type": "string", "enum": ["published", "draft"]}}
    ),
    "OrderSuggestion": obj(
        ["order", "marker_ids", "length_m", "original_length_m", "saving_m", "changed"],
        {
            "order": {"type": "array", "items": INT},
            "marker_ids": {"type": "array", "items": INT},
            "length_m": NUM,
            "original_length_m": NUM,
            "saving_m": NUM,
            "changed": BOOL,
        },
    ),
    "SimulateStep": {
        **obj(
            [],
            {
                "lat": LAT,
                "lon": LON,
                "accuracy_m": {"type": "number", "minimum": 0, "maximum": 100000},
                "at": {**TIME, "description": "Simulated time of the event (default: now)"},
                "marker_id": {
                    **ID,
                    "description": "Scan this marker's QR code instead of a GPS fix",
                },
                "state": {
                    "type": "string",
                    "maxLength": 20000,
                    "pattern": "^[A-Za-z0-9_.-]*$",
                    "description": "The state the previous step returned; none to start",
                },
                "language": LANGUAGE,
            },
        ),
        "dependentRequired": {"lat": ["lon"], "lon": ["lat"], "accuracy_m": ["lat"]},
        "if": {"not": {"required": ["marker_id"]}},
        "then": {"required": ["lat"]},
    },
    "SimulateWalk": obj(
        [],
        {
            "at": {**TIME, "description": "Simulated start of the walk (default: now)"},
            "language": LANGUAGE,
        },
    ),
    "SimulationWalk": obj(
        ["steps", "finished", "score", "task_points", "found", "total"],
        {
            "steps": {
                "type": "array",
                "description": "Each fix of the walk along the walking line at the rally's "
                "walking speed, and the rules' answer; at the start and where stops were found "
                "also the player's answer and the tasks answered",
                "items": obj(
                    ["lat", "lon", "at", "result"],
                    {
                        "lat": NUM,
                        "lon": NUM,
                        "at": TIME,
                        "result": {"type": "string"},
                        "event": ref("EventResult"),
                        "tasks": {"type": "array", "items": {"type": "object"}},
                    },
                ),
            },
            "finished": BOOL,
            "score": INT,
            "task_points": INT,
            "found": INT,
            "total": INT,
        },
    ),
    "SimulationStep": obj(
        ["state", "event", "tasks", "task_points"],
        {
            "state": {"type": "string", "description": "Send it with the next step"},
            "event": ref("EventResult"),
            "tasks": {
                "type": "array",
                "description": "The tasks of the stops found in this step, answered at once with "
                "the rally's own answer",
                "items": obj(
                    ["stop", "marker_id", "correct", "points"],
                    {"stop": INT, "marker_id": INT, "correct": BOOL, "points": INT},
                ),
            },
            "task_points": {**INT, "description": "Points the walk's tasks won so far"},
        },
    ),
}


def _param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID}


AUTH = {"401": err("Not logged in"), "403": err("Not a curator, or not the owner")}
WRITE = {
    **AUTH,
    "400": err("Not JSON, NaN in it, or CSRF token missing"),
    "413": err("Body too large"),
    "415": err("Not application/json"),
    "422": err("A field is missing or wrong"),
}
SESSION = [{"session": []}]
MARKER, RALLY, VENUE = _param("marker_id"), _param("rally_id"), _param("venue_id")


def _op(
    op_id: str,
    summary: str,
    responses: dict[str, Any],
    body: str | None = None,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": op_id,
        "tags": ["curator"],
        "summary": summary,
        "security": SESSION,
        "responses": responses,
    }
    if params:
        out["parameters"] = params
    if body:
        out["requestBody"] = req(body)
    return out


PATHS: dict[str, Any] = {
    "/curator/venues": {
        "get": _op(
            "curatorListVenues",
            "Every venue; those without lat/lon need a position",
            {"200": ok("CuratorVenueList"), **AUTH},
        )
    },
    "/curator/venues/{venue_id}": {
        "patch": _op(
            "curatorUpdateVenue",
            "Place or move a venue (lat and lon), or say whether it is step-free",
            {"200": ok("CuratorVenue"), "404": err("No such venue"), **WRITE},
            "VenueUpdate",
            [VENUE],
        )
    },
    "/curator/venues/{venue_id}/position": {
        "delete": _op(
            "curatorUnplaceVenue",
            "Take a venue's position back (undo a placement): it has none again",
            {
                "200": ok("CuratorVenue"),
                "404": err("No such venue"),
                **AUTH,
                "400": err("CSRF token missing"),
            },
            params=[VENUE],
        )
    },
    "/curator/markers": {
        "get": _op(
            "curatorListMarkers",
            "Every marker, with owner and the rallies using it",
            {"200": ok("CuratorMarkerList"), **AUTH},
        ),
        "post": _op(
            "curatorCreateMarker",
            "A new marker, owned by the caller",
            {"201": ok("CuratorMarker", "Created"), **WRITE},
            "MarkerCreate",
        ),
    },
    "/curator/markers/{marker_id}": {
        "get": _op(
            "curatorGetMarker",
            "One marker",
            {"200": ok("CuratorMarker"), "404": err("No such marker"), **AUTH},
            params=[MARKER],
        ),
        "patch": _op(
            "curatorUpdateMarker",
            "Move, resize or rewrite a marker (owner, admin)",
            {"200": ok("CuratorMarker"), "404": err("No such marker"), **WRITE},
            "MarkerUpdate",
            [MARKER],
        ),
        "delete": _op(
            "curatorDeleteMarker",
            "Delete a marker; refused while a rally uses it as a stop",
            {
                "200": ok("Deleted"),
                "404": err("No such marker"),
                "409": err("A rally uses the marker"),
                **AUTH,
                "400": err("CSRF token missing"),
            },
            params=[MARKER],
        ),
    },
    "/curator/markers/{marker_id}/image": {
        "put": {
            **_op(
                "curatorPutMarkerImage",
                "Upload (or replace) the marker's image: JPEG or PNG, re-encoded without metadata",
                {
                    "200": ok("CuratorMarker"),
                    "404": err("No such marker"),
                    **WRITE,
                    "413": err("File larger than MEDIA_MAX_BYTES, or too many pixels"),
                    "415": err("Not multipart/form-data, or not a JPEG or PNG image"),
                    "422": err("No file, or an empty or broken one (image_empty, image_broken)"),
                },
                params=[MARKER],
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": ref("ImageUpload"),
                        "encoding": {"image": {"contentType": "image/jpeg, image/png"}},
                    }
                },
            },
        },
        "delete": _op(
            "curatorDeleteMarkerImage",
            "Remove the marker's image",
            {
                "200": ok("CuratorMarker"),
                "404": err("No such marker"),
                **AUTH,
                "400": err("CSRF token missing"),
            },
            params=[MARKER],
        ),
    },
    "/curator/rallies": {
        "get": _op(
            "curatorListRallies",
            "Every rally, drafts included",
            {"200": ok("CuratorRallyList"), **AUTH},
        ),
        "post": _op(
            "curatorCreateRally",
            "A new draft rally, owned by the caller",
            {"201": ok("CuratorRally", "Created"), "409": err("Slug taken"), **WRITE},
            "RallyCreate",
        ),
    },
    "/curator/rallies/{rally_id}": {
        "get": _op(
            "curatorGetRally",
            "A rally with stops, letters, route, findings, rights",
            {"200": ok("CuratorRally"), "404": err("No such rally"), **AUTH},
            params=[RALLY],
        ),
        "patch": _op(
            "curatorUpdateRally",
            "Change texts, start, and (drafts only) slug, order mode, solution word",
            {
                "200": ok("CuratorRally"),
                "404": err("No such rally"),
                "409": err("Published or closed, or slug taken"),
                **WRITE,
            },
            "RallyUpdate",
            [RALLY],
        ),
        "delete": _op(
            "curatorDeleteRally",
            "Delete a draft without teams",
            {
                "200": ok("Deleted"),
                "404": err("No such rally"),
                "409": err("Not a draft, or teams joined"),
                **AUTH,
                "400": err("CSRF token missing"),
            },
            params=[RALLY],
        ),
    },
    "/curator/rallies/{rally_id}/stops": {
        "put": _op(
            "curatorSetStops",
            "The rally's stops in order (add, remove, reorder in one); drafts only",
            {
                "200": ok("CuratorRally"),
                "404": err("No such rally"),
                "409": err("Published or closed"),
                **WRITE,
            },
            "RallyStops",
            [RALLY],
        )
    },
    "/curator/rallies/{rally_id}/copy": {
        "post": _op(
            "curatorCopyRally",
            "A new draft, owned by the caller, with the same markers (shared) and a copy of "
            "each stop's clue, task and hints",
            {
                "201": ok("CuratorRally", "Created"),
                "404": err("No such rally"),
                "409": err("Slug taken"),
                **WRITE,
            },
            "RallyCopy",
            [RALLY],
        )
    },
    "/curator/rallies/{rally_id}/findings": {
        "get": _op(
            "curatorRallyFindings",
            "Validation findings, length and walking time, route line",
            {"200": ok("RallyFindings"), "404": err("No such rally"), **AUTH},
            params=[RALLY],
        )
    },
    "/curator/rallies/{rally_id}/order-suggestion": {
        "get": _op(
            "curatorSuggestOrder",
            "A shorter walking order (routes.order); apply it with curatorSetStops",
            {"200": ok("OrderSuggestion"), "404": err("No such rally"), **AUTH},
            params=[RALLY],
        )
    },
    "/curator/rallies/{rally_id}/status": {
        "put": _op(
            "curatorSetRallyStatus",
            "Publish (refused with the findings while any is an error) or unpublish "
            "(refused once teams joined)",
            {
                "200": ok("CuratorRally"),
                "404": err("No such rally"),
                "409": err("Error-level findings (named in the message), teams joined, or closed"),
                **WRITE,
            },
            "RallyStatusChange",
            [RALLY],
        )
    },
    "/curator/rallies/{rally_id}/simulate": {
        "post": _op(
            "curatorSimulate",
            "One step of a simulated walk: the player's rules on a pretend team, nothing stored; "
            "the answer's event is what a player's check-in or scan gets; the tasks of the stops "
            "found are answered at once and right",
            {"200": ok("SimulationStep"), "404": err("No such rally"), **WRITE},
            "SimulateStep",
            [RALLY],
        )
    },
    "/curator/rallies/{rally_id}/simulate/walk": {
        "post": _op(
            "curatorSimulateWalk",
            "The whole simulated walk in one request: a pretend team walks the walking line at "
            "the rally's walking speed, answers each task right at once, nothing stored; "
            "limited per curator (RATELIMIT_SIMULATE_WALK), not by the players' address limit",
            {
                "200": ok("SimulationWalk"),
                "404": err("No such rally"),
                "409": err("The rally has no stops"),
                "429": err("Too many walks in a minute"),
                **WRITE,
            },
            "SimulateWalk",
            [RALLY],
        )
    },
}

OWNERSHIP = (
    "Ownership rule: markers and rallies belong to the curator who made them; only the owner or "
    "an admin changes them (403 marker_not_yours / rally_not_yours), imported ones only admins. "
    "Any curator may read everything and use any marker as a stop. A published rally keeps its "
    "stops, their order, its order mode, solution word and slug (409 rally_published) until it "
    "is unpublished, which is refused once a team has joined (409 rally_has_teams); closed "
    "rallies are read only (409 rally_closed_readonly). A venue without a position may be "
    "placed by any curator; once placed, only the curator who placed it and admins move it, "
    "take its position back or set step_free (403 venue_not_yours). See docs/curator.md."
)
for _item in PATHS.values():
    for _method, _operation in _item.items():
        if _method != "get":
            _operation.setdefault("description", OWNERSHIP)
