"""The OpenAPI 3.1 document of /api/v1: the contract, and the schemas requests are checked with."""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Callable
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from markers.i18n import LANGUAGES, PLAYER_LANGUAGES, TEXT_LANGUAGES

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: list[str], props: dict[str, Any], extra: bool = False) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": props,
        "additionalProperties": extra,
    }


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def char_class(excluded: Callable[[str], bool], last: int = 0x10FFFF) -> str:
    """The inside of a regex character class holding every code point ``excluded`` is true for,
    as ranges: BMP ones as \\uXXXX escapes, others as themselves, which ECMA 262 (with Unicode
    semantics, as JSON Schema reads patterns) and Python's re read alike."""

    def char(cp: int) -> str:
        return f"\\u{cp:04x}" if cp < 0x10000 else chr(cp)

    ranges: list[tuple[int, int]] = []
    for cp in range(last + 1):
        if excluded(chr(cp)):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in ranges)


def _not_in_a_name(c: str) -> bool:
    """What server.teams.clean_name refuses: Unicode category C (control, format, surrogate,
    private use, unassigned) but tab and line breaks, which become spaces; and the few characters
    NFC turns into several, which could push a name past its limit."""
    if c in "\t\n\r":
        return False
    return unicodedata.category(c).startswith("C") or len(unicodedata.normalize("NFC", c)) > 1


@cache
def _team_name() -> dict[str, Any]:
    """A team's name as server.teams.clean_name accepts it (built once: it scans Unicode)."""
    bad = char_class(_not_in_a_name)
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": 40,
        "pattern": r"\S",
        "not": {"type": "string", "pattern": f"[{bad}]"},
        "x-error": {"code": "invalid_team_name", "max": 40},
        "description": "Something visible; no control (but tab and line breaks), format, "
        "private-use or unassigned character (Unicode "
        f"{unicodedata.unidata_version} category C), none that NFC normalisation would turn "
        "into several; runs of spaces, tabs and line breaks become one space",
    }


LAZY_SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {"TeamName": _team_name}
"""Schemas built on first use of the document, as they take a moment to build."""

SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
MAX_ID = 2**31 - 1
"""The largest id a database column holds (PostgreSQL's integer)."""
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
"""The control characters (Unicode Cc), as the inside of a regex character class."""
LINE_PATTERN = f"^[^{CONTROL}]*$"
"""One line of text: no control character."""
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
"""Text of several lines: no control character but tab, line feed and carriage return."""


LAT = {"type": "number", "minimum": -90, "maximum": 90, "description": "WGS84 latitude"}
LON = {"type": "number", "minimum": -180, "maximum": 180, "description": "WGS84 longitude"}
TIME = {"type": "string", "format": "date-time", "maxLength": 40}
TEXT = {"type": "string"}
LINE = {"type": "string", "pattern": LINE_PATTERN}
RECORDED_AT_TEXT = (
    "When the event happened, by the phone's clock (RFC 3339 with a time zone). Refused "
    "(422): more than MAX_CLOCK_SKEW_S (default 120 s) after the server's clock, or more "
    "than that before the team started. A time before one this device already sent counts "
    "as that later time and is flagged 'backdated' for the organisers (see docs/rules.md)."
)
BILINGUAL = obj(
    list(LANGUAGES), {lang: {"type": "string", "maxLength": 10000} for lang in TEXT_LANGUAGES}
)
LANGUAGE = {
    "type": "string",
    "enum": list(PLAYER_LANGUAGES),
    "description": "A player's language: de, en, or de-x-ls (Leichte Sprache, easy German)",
}
STAFF_LANGUAGE = {"type": "string", "enum": list(LANGUAGES)}
EVENT_ID = {
    "type": "string",
    "pattern": UUID_PATTERN,
    "description": "A UUID the client makes once per event and resends unchanged",
}

HINT_FIELDS = {
    "hints": {"type": "array", "items": TEXT, "description": "The hints taken, in order"},
    "hints_left": {"type": "integer", "minimum": 0},
    "next_hint_cost": _nullable({"type": "integer", "minimum": 0}),
}
ANSWER_VALUE = {
    "anyOf": [
        {"type": "integer", "minimum": -(2**53), "maximum": 2**53},
        {"type": "number", "minimum": -1e15, "maximum": 1e15},
        {"type": "string", "maxLength": 200, "pattern": LINE_PATTERN},
    ],
    "description": "choice: the 0-based index of the option; number: a number (or a string "
    "with a decimal comma or point); text: the answer (case, accents and spaces do not count)",
}
STOP_NUMBER = {"type": "integer", "minimum": 1, "maximum": 1000, "description": "1-based"}

RALLY_SUMMARY_REQUIRED = ["slug", "title", "stops", "length_m", "duration_min", "order_mode"]
RALLY_SUMMARY = {
    "slug": TEXT,
    "title": TEXT,
    "title_i18n": BILINGUAL,
    "stops": {"type": "integer"},
    "length_m": {"type": "number"},
    "duration_min": {"type": "number"},
    "order_mode": {"type": "string", "enum": ["fixed", "free"]},
    "status": {"type": "string", "enum": ["draft", "published", "closed"]},
}

MAX_BATCH = 50
"""Events in one batch (POST /team/events), at most."""
BATCH_KINDS = {"checkin": "Checkin", "scan": "Scan", "answer": "Answer", "hint": "HintRequest"}
"""A batch's event kinds and the schema of each one's body."""

SCHEMAS: dict[str, Any] = {
    "Error": obj(
        ["error"],
        {
            "error": obj(
                ["code", "message"],
                {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                },
            )
        },
    ),
    "Point": obj(["lat", "lon"], {"lat": LAT, "lon": LON, "name": TEXT}),
    "RallySummary": obj(RALLY_SUMMARY_REQUIRED, RALLY_SUMMARY),
    "RallyList": obj(["rallies"], {"rallies": {"type": "array", "items": ref("RallySummary")}}),
    "Rally": obj(
        RALLY_SUMMARY_REQUIRED,
        {
            **RALLY_SUMMARY,
            "intro": TEXT,
            "start": _nullable(ref("Point")),
            "first_clue": _nullable(TEXT),
            "solution_length": _nullable({"type": "integer"}),
        },
    ),
    "TeamCreate": obj(
        ["name"],
        {
            "name": ref("TeamName"),
            "language": LANGUAGE,
        },
    ),
    "TeamJoin": obj(
        ["join_code"],
        {
            "join_code": {
                "type": "string",
                "minLength": 4,
                "maxLength": 12,
                "pattern": "^ *[A-Za-z0-9]+ *$",
                "description": "Letters and digits, in either case",
            }
        },
    ),
    "TeamCreated": obj(
        ["token", "join_code", "team"],
        {
            "token": {"type": "string", "description": "Bearer token; shown once"},
            "join_code": TEXT,
            "team": ref("Team"),
        },
    ),
    "SearchArea": obj(
        ["lat", "lon", "radius_m"], {"lat": LAT, "lon": LON, "radius_m": {"type": "number"}}
    ),
    "NearbyMarker": obj(
        ["lat", "lon", "radius_m", "distance_m", "bearing_deg"],
        {
            "lat": LAT,
            "lon": LON,
            "radius_m": {"type": "number"},
            "distance_m": {"type": "number"},
            "bearing_deg": {"type": "number"},
        },
    ),
    "OpenStop": obj(
        ["marker_id", "stop", "clue", "search_area", "marker"],
        {
            "marker_id": {"type": "integer"},
            "stop": {"type": "integer"},
            "clue": TEXT,
            "search_area": ref("SearchArea"),
            "marker": _nullable(ref("NearbyMarker")),
            **HINT_FIELDS,
        },
    ),
    "Task": obj(
        [
            "type",
            "question",
            "options",
            "points",
            "points_won",
            "attempts_left",
            "solved",
            "closed",
            "answer",
        ],
        {
            "type": {"type": "string", "enum": ["choice", "number", "text"]},
            "question": TEXT,
            "options": {"type": "array", "items": TEXT},
            "points": {"type": "integer", "description": "Won by a right first answer"},
            "points_won": {"type": "integer", "description": "Won so far"},
            "attempts_left": {"type": "integer", "minimum": 0},
            "solved": {"type": "boolean"},
            "closed": {"type": "boolean", "description": "Solved, or no attempt left"},
            "answer": {
                "anyOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}],
                "description": "The right answer, once the task is closed; null before",
            },
        },
    ),
    "FoundStop": obj(
        ["marker_id", "stop", "title", "story", "letter", "lat", "lon", "found_at", "method"],
        {
            "marker_id": {"type": "integer"},
            "stop": {"type": "integer"},
            "title": TEXT,
            "story": TEXT,
            "letter": _nullable(TEXT),
            "lat": LAT,
            "lon": LON,
            "found_at": TIME,
            "method": {"type": "string", "enum": ["gps", "qr", "assist"]},
            "image_url": _nullable(TEXT),
            "task": _nullable(ref("Task")),
            **HINT_FIELDS,
        },
    ),
    "Team": obj(
        [
            "id",
            "name",
            "rally",
            "language",
            "started_at",
            "finished",
            "finished_at",
            "score",
            "found",
            "open",
            "letters",
            "solution",
            "progress",
        ],
        {
            "id": {"type": "integer"},
            "name": _nullable(TEXT),
            "rally": TEXT,
            "join_code": {"type": "string", "description": "For a further phone to join"},
            "language": LANGUAGE,
            "order_mode": {"type": "string"},
            "started_at": TIME,
            "finished": {"type": "boolean"},
            "finished_at": _nullable(TIME),
            "score": {"type": "integer"},
            "found": {"type": "array", "items": ref("FoundStop")},
            "open": {"type": "array", "items": ref("OpenStop")},
            "letters": {"type": "array", "items": _nullable(TEXT)},
            "solution": _nullable(TEXT),
            "progress": obj(
                ["found", "total"], {"found": {"type": "integer"}, "total": {"type": "integer"}}
            ),
        },
    ),
    "Checkin": obj(
        ["lat", "lon", "accuracy_m", "recorded_at", "client_event_id"],
        {
            "lat": LAT,
            "lon": LON,
            "accuracy_m": {"type": "number", "minimum": 0, "maximum": 100000},
            "recorded_at": {**TIME, "description": RECORDED_AT_TEXT},
            "client_event_id": EVENT_ID,
            "heading": {"type": "number", "minimum": 0, "maximum": 360},
            "mock_location": {"type": "boolean"},
        },
    ),
    "Scan": {
        **obj(
            ["client_event_id"],
            {
                "token": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 300,
                    "pattern": LINE_PATTERN,
                    "description": "The token, or the whole URL the QR code holds",
                },
                "code": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 32,
                    "pattern": LINE_PATTERN,
                    "description": "Instead of token: the stop's short code as typed (KM7-4QX; "
                    "any case, dashes and spaces ignored, O read as 0, I and L as 1)",
                },
                "client_event_id": EVENT_ID,
                "recorded_at": {**TIME, "description": RECORDED_AT_TEXT + " Without it: now."},
                "lat": LAT,
                "lon": LON,
                "accuracy_m": {"type": "number", "minimum": 0, "maximum": 100000},
                "mock_location": {"type": "boolean"},
            },
        ),
        "dependentRequired": {
            "lat": ["lon", "accuracy_m"],
            "lon": ["lat", "accuracy_m"],
            "accuracy_m": ["lat", "lon"],
        },
        "allOf": [
            {
                "oneOf": [{"required": ["token"]}, {"required": ["code"]}],
                "x-error": {"code": "scan_token_or_code"},
            }
        ],
    },
    "Answer": obj(
        ["stop", "answer", "client_event_id"],
        {
            "stop": STOP_NUMBER,
            "answer": ANSWER_VALUE,
            "client_event_id": EVENT_ID,
            "recorded_at": {**TIME, "description": RECORDED_AT_TEXT + " Without it: now."},
        },
    ),
    "HintRequest": obj(
        ["stop", "client_event_id"],
        {
            "stop": STOP_NUMBER,
            "client_event_id": EVENT_ID,
            "recorded_at": {**TIME, "description": RECORDED_AT_TEXT + " Without it: now."},
        },
    ),
    "AnswerResult": obj(
        ["result", "correct", "points", "attempts_left", "team"],
        {
            "result": {
                "type": "string",
                "enum": ["correct", "wrong", "not_found", "no_task", "task_closed"],
            },
            "correct": {"type": "boolean"},
            "points": {"type": "integer", "description": "Won with this answer"},
            "attempts_left": {"type": "integer", "minimum": 0},
            "team": ref("Team"),
        },
    ),
    "HintResult": obj(
        ["result", "hint", "team"],
        {
            "result": {"type": "string", "enum": ["hint", "no_hint"]},
            "hint": _nullable(
                obj(
                    ["number", "text", "cost"],
                    {"number": {"type": "integer"}, "text": TEXT, "cost": {"type": "integer"}},
                )
            ),
            "team": ref("Team"),
        },
    ),
    "EventResult": obj(
        ["result", "found_now", "flags", "visible", "team"],
        {
            "result": {
                "type": "string",
                "enum": [
                    "found",
                    "outside",
                    "not_open",
                    "already_found",
                    "not_in_rally",
                    "teleport",
                    "mock_location",
                ],
            },
            "found_now": {"type": "array", "items": ref("FoundStop")},
            "flags": {"type": "array", "items": {"type": "string"}},
            "visible": {"type": "array", "items": ref("OpenStop")},
            "team": ref("Team"),
        },
    ),
    "EventBatch": obj(
        ["events"],
        {
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BATCH,
                "items": obj(
                    ["kind", "body"],
                    {
                        "kind": {"type": "string", "enum": list(BATCH_KINDS)},
                        "body": {
                            "type": "object",
                            "description": "Exactly the body the kind's own endpoint takes ("
                            + ", ".join(f"{k}: {v}" for k, v in BATCH_KINDS.items())
                            + "), with its client_event_id; checked like there, and refused "
                            "in this event's result only",
                        },
                    },
                ),
            }
        },
    ),
    "EventBatchResult": obj(
        ["results", "team"],
        {
            "results": {
                "type": "array",
                "description": "One per event, in the order sent",
                "items": obj(
                    ["client_event_id", "status", "body"],
                    {
                        "client_event_id": _nullable(
                            {"type": "string", "description": "null when the body has none"}
                        ),
                        "status": {
                            "type": "integer",
                            "description": "What the kind's own endpoint would have answered: "
                            "200, or 409 (rally closed), 422 (the body is wrong), 503 (busy: "
                            "send it again)",
                        },
                        "body": {
                            "anyOf": [
                                ref("EventResult"),
                                ref("AnswerResult"),
                                ref("HintResult"),
                                ref("Error"),
                            ],
                            "description": "That endpoint's answer, or its error",
                        },
                    },
                ),
            },
            "team": ref("Team"),
        },
    ),
    "LeaderboardEntry": obj(
        ["rank", "team", "score", "found", "finished", "duration_s"],
        {
            "rank": {"type": "integer"},
            "team": _nullable(TEXT),
            "score": {"type": "integer"},
            "found": {"type": "integer"},
            "finished": {"type": "boolean"},
            "duration_s": _nullable({"type": "number"}),
        },
    ),
    "Leaderboard": obj(
        ["rally", "total_stops", "entries"],
        {
            "rally": TEXT,
            "total_stops": {"type": "integer"},
            "entries": {"type": "array", "items": ref("LeaderboardEntry")},
        },
    ),
}


def err(description: str) -> dict[str, Any]:
    """An error response: the Error schema with a description."""
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


def ok(schema: str, description: str = "OK") -> dict[str, Any]:
    """A JSON response of components/schemas/<schema>."""
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def req(schema: str) -> dict[str, Any]:
    """A required JSON request body of components/schemas/<schema>."""
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 80, "pattern": SLUG_PATTERN},
}
BEARER = [{"team": []}]
COMMON_ERRORS = {
    "400": err("Not JSON, or NaN/Infinity in it"),
    "413": err("Body too large"),
    "415": err("Not application/json"),
    "422": err("A field is missing or wrong"),
    "429": err("Rate limited"),
}
EVENT_ERRORS = {
    **COMMON_ERRORS,
    "401": err("Missing or unknown token"),
    "409": err("Rally closed"),
    "503": err("Busy: send the same event (same client_event_id) again"),
}
LATE_OR_EARLY = (
    "; or recorded_at later than the server's clock allows (time_in_future) or before the "
    "team started (time_before_start)"
)

PATHS: dict[str, Any] = {
    "/rallies": {
        "get": {
            "operationId": "listRallies",
            "tags": ["player"],
            "summary": "Published rallies",
            "responses": {"200": ok("RallyList")},
        }
    },
    "/rallies/{slug}": {
        "get": {
            "operationId": "getRally",
            "tags": ["player"],
            "parameters": [SLUG],
            "summary": "A rally's public face: start, first clue, order mode; no marker positions",
            "responses": {"200": ok("Rally"), "404": err("No such published rally")},
        }
    },
    "/rallies/{slug}/teams": {
        "post": {
            "operationId": "createTeam",
            "tags": ["player"],
            "parameters": [SLUG],
            "summary": "Start a team; its token is shown once",
            "requestBody": req("TeamCreate"),
            "responses": {
                "201": ok("TeamCreated", "Created"),
                "404": err("No such rally"),
                "409": err("Name taken (team_name_taken), or rally closed (rally_closed)"),
                **COMMON_ERRORS,
                "503": err("Busy: try again"),
            },
        }
    },
    "/rallies/{slug}/join": {
        "post": {
            "operationId": "joinTeam",
            "tags": ["player"],
            "parameters": [SLUG],
            "summary": "A further phone joins a team with its join code",
            "requestBody": req("TeamJoin"),
            "responses": {
                "201": ok("TeamCreated", "Joined"),
                "404": err("No such rally or join code"),
                "409": err("Rally closed"),
                **COMMON_ERRORS,
            },
        }
    },
    "/rallies/{slug}/leaderboard": {
        "get": {
            "operationId": "getLeaderboard",
            "tags": ["player"],
            "parameters": [
                SLUG,
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "description": "How many entries, from the top",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                },
            ],
            "responses": {
                "200": ok("Leaderboard"),
                "404": err("No such rally"),
                "422": err("limit is not a whole number"),
            },
        }
    },
    "/team": {
        "get": {
            "operationId": "getTeam",
            "tags": ["player"],
            "security": BEARER,
            "summary": "The team's state: finds, open clues, search areas, letters, score",
            "responses": {"200": ok("Team"), "401": err("Missing or unknown token")},
        }
    },
    "/team/checkins": {
        "post": {
            "operationId": "checkin",
            "tags": ["player"],
            "security": BEARER,
            "summary": "A GPS fix; finds the open marker whose geofence holds it",
            "requestBody": req("Checkin"),
            "responses": {
                "200": ok("EventResult"),
                **EVENT_ERRORS,
                "422": err("A field is missing or wrong" + LATE_OR_EARLY),
            },
        }
    },
    "/team/scans": {
        "post": {
            "operationId": "scan",
            "tags": ["player"],
            "security": BEARER,
            "summary": "A scanned QR fallback, or its short code typed",
            "requestBody": req("Scan"),
            "responses": {
                "200": ok("EventResult"),
                **EVENT_ERRORS,
                "422": err(
                    "A field is missing or wrong; neither or both of token and code "
                    "(scan_token_or_code); or the token is not a valid code of this rally "
                    "(token_malformed, token_bad_signature, token_unknown_key, token_retired_key, "
                    "token_wrong_rally); or no stop has the short code (short_code_unknown; "
                    "a code of another rally: token_wrong_rally)" + LATE_OR_EARLY
                ),
                "429": err(
                    "Too many wrong short codes from this address (short_code_locked), or "
                    "rate limited"
                ),
            },
        }
    },
    "/team/answers": {
        "post": {
            "operationId": "answerTask",
            "tags": ["player"],
            "security": BEARER,
            "summary": "An answer to the task of a found stop; each event id counts once",
            "requestBody": req("Answer"),
            "responses": {
                "200": ok("AnswerResult"),
                **EVENT_ERRORS,
                "422": err(
                    "A field is missing or wrong; no such stop (no_such_stop); an answer of the "
                    "wrong form for the task (bad_answer: no attempt used)" + LATE_OR_EARLY
                ),
            },
        }
    },
    "/team/hints": {
        "post": {
            "operationId": "takeHint",
            "tags": ["player"],
            "security": BEARER,
            "summary": "The next hint of a stop, at its point cost; each event id counts once",
            "requestBody": req("HintRequest"),
            "responses": {
                "200": ok("HintResult"),
                **EVENT_ERRORS,
                "422": err(
                    "A field is missing or wrong; no such stop (no_such_stop)" + LATE_OR_EARLY
                ),
            },
        }
    },
    "/team/events": {
        "post": {
            "operationId": "postEvents",
            "tags": ["player"],
            "security": BEARER,
            "summary": "Several events at once (an outbox catching up after an outage): applied "
            "in recorded_at order (an event without it: now), each exactly once by its "
            "client_event_id (a resent one gets its first answer); each event's answer or error "
            "in its result, in the order sent. The request counts once against the rate limit "
            "(RATELIMIT_BATCHES)",
            "requestBody": req("EventBatch"),
            "responses": {
                "200": ok("EventBatchResult"),
                **COMMON_ERRORS,
                "401": err("Missing or unknown token"),
                "422": err(
                    "The envelope is wrong: no events, more than 50, an unknown kind, a body "
                    "that is no object (a wrong event is refused in its own result)"
                ),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "tags": ["meta"],
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}


def register(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Add an area's paths and schemas (curator, organiser) to the one document."""
    for name in (*paths, *schemas):
        if name in PATHS or name in SCHEMAS or name in LAZY_SCHEMAS:
            raise ValueError(f"{name} is already in the OpenAPI document")
    PATHS.update(paths)
    SCHEMAS.update(schemas)
    validator.cache_clear()


def document(server_url: str = "/api/v1") -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Art Caching API",
            "version": "1.0.0",
            "description": "Player, curator and organiser API of Art Caching. "
            "Coordinates are WGS84 latitude/longitude in degrees; times "
            "RFC 3339 with zone. Errors are JSON with a stable code.",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": server_url}],
        "paths": copy.deepcopy(PATHS),
        "components": {
            "schemas": {
                **copy.deepcopy(SCHEMAS),
                **{name: copy.deepcopy(build()) for name, build in LAZY_SCHEMAS.items()},
            },
            "securitySchemes": {
                "team": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The team token from createTeam or joinTeam",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "A curator's or organiser's login session; "
                    "unsafe methods also need the X-CSRFToken header",
                },
            },
        },
    }


@cache
def validator(schema_name: str) -> Draft202012Validator:
    """A validator for components/schemas/<schema_name>, resolving $refs in the document."""
    doc = document()
    schema = {"$ref": f"#/components/schemas/{schema_name}", **{"components": doc["components"]}}
    return Draft202012Validator(schema, format_checker=None)
