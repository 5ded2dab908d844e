"""Schemathesis over the OpenAPI document, player and staff parts, against the app in-process:
no 5xx, every answer as documented, and nothing the document allows refused as malformed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server.helpers import API, backdate_team, demo_stops, get_team, new_team  # noqa: E402
from tests.server.organiser_helpers import login  # noqa: E402

pytestmark = pytest.mark.slow

EXAMPLES = 8
"""Generated requests per operation (derandomized): the whole file stays well under a minute."""

NAMES = {"createTeam", "organiserRenameTeam"}
"""Operations with a team name, positive cases only: a negative case draws from the name's
excluded characters (most of Unicode), which takes Hypothesis some 15 s for each strategy."""

BEYOND_THE_SCHEMA = {
    "time_in_future": "recorded_at later than the server's clock allows",
    "time_before_start": "recorded_at before the team started",
    "token_malformed": "a QR token's inside, which no schema can describe",
    "token_bad_signature": "a QR token's signature",
    "token_unknown_key": "a QR code signed by a key the server does not know",
    "token_retired_key": "a QR code signed by a retired key",
    "token_wrong_rally": "a QR code of another rally",
    "short_code_unknown": "a stop's short code that exists (a lookup: no schema lists the codes)",
    "venue_unknown": "a venue id that does not exist",
    "stop_marker_unknown": "a marker id that does not exist",
    "stop_duplicate": "the same marker twice in a rally's stops",
    "stop_unknown": "a marker that is no stop of the rally",
    "no_such_stop": "a stop number beyond the rally's number of stops",
    "bad_answer": "an answer of the form the stop's task wants (a choice, a number, a text)",
    "purge_confirmation": "the rally's slug typed again, which must match",
    "simulation_state_invalid": "the state a previous simulation step returned, signed",
    "image_type": "the bytes of a JPEG or PNG image",
    "image_empty": "the bytes of a JPEG or PNG image",
    "image_broken": "the bytes of a JPEG or PNG image",
    "image_too_many_pixels": "the size of an image in pixels",
    "polygon_corners": "a corner's latitude beyond 90 (the tools read no [lat, lon] tuple schema)",
    "polygon_not_simple": "a polygon that does not cross itself: geometry, not shape",
    "polygon_far_from_marker": "the marker inside or near its polygon",
    "polygon_too_large": "every corner of a polygon near its marker",
}
"""The refusals a request valid by the document may meet: each depends on the server's state,
its clock or the bytes of a file, and each is documented in its operation's responses."""


def _operations() -> list[str]:
    from server.api import routes  # noqa: F401  (registers the curator and organiser parts)
    from server.api.openapi import PATHS

    return sorted(
        op["operationId"]
        for item in PATHS.values()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete") and op["operationId"] != "openapi"
    )


@dataclass(frozen=True)
class Stage:
    """The app with a played rally, a logged-in admin and a team: what the cases call."""

    app: Any
    schema: Any
    cookies: dict[str, str]
    token: str
    path_parameters: dict[str, Any]


@pytest.fixture
def stage(make_app, demo) -> Stage:
    slug, rally_id = demo
    app = make_app()
    client = app.test_client()
    token = new_team(client, slug, "Fuzz")
    team_id = get_team(client, token)["id"]
    backdate_team(app, team_id, 3600)
    login(client, app, role="admin")
    cookie = client.get_cookie("session")
    assert cookie is not None
    marker_id = demo_stops(app, rally_id)[0].marker_id
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    return Stage(
        app=app,
        schema=schema,
        cookies={"session": cookie.value},
        token=token,
        path_parameters={
            "slug": slug,
            "rally_id": rally_id,
            "marker_id": marker_id,
            "venue_id": 1,
            "team_id": team_id,
        },
    )


def accepted_unless_state(ctx: Any, response: Any, case: Any) -> None:
    """Data valid by the document is not refused as malformed: a 4xx other than 401, 403, 404,
    409 and 429 is allowed only for a refusal no schema can describe (BEYOND_THE_SCHEMA)."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    status = response.status_code
    if status < 400 or status in (401, 403, 404, 409, 429):
        return
    code = (response.json() or {}).get("error", {}).get("code")
    assert code in BEYOND_THE_SCHEMA, (
        f"{case.operation.label}: the document allows what the server refuses: {status} "
        f"{response.text[:300]}\n{case.as_curl_command()}"
    )


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    accepted_unless_state,
]


@pytest.mark.parametrize("operation_id", _operations())
def test_operation_answers_as_documented(stage: Stage, operation_id: str) -> None:
    operation = stage.schema.find_operation_by_id(operation_id)
    names = {p.name for p in operation.path_parameters}
    known = {k: v for k, v in stage.path_parameters.items() if k in names}
    strategies = [
        operation.as_strategy(path_parameters=known or None),
        operation.as_strategy(),
    ]
    if operation_id not in NAMES:
        strategies.append(
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=known or None)
        )
    cases = st.one_of(*strategies)
    headers = (
        {"Authorization": f"Bearer {stage.token}"} if operation.path.startswith("/team") else {}
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, cookies=stage.cookies, checks=CHECKS)

    run()


NUL_BODIES = [
    ("post", "/rallies/{slug}/teams", {"name": "Fuzz\x00"}),
    ("post", "/rallies/{slug}/join", {"join_code": "AB\x00CDEFG"}),
    ("post", "/curator/markers", {"lat": 49.4, "lon": 7.7, "title": {"de": "\x00", "en": "a"}}),
    ("post", "/curator/rallies", {"slug": "nul", "intro": {"de": "a\x00", "en": "b"}}),
    ("post", "/organiser/rallies/{slug}/purge", {"confirm": "\x00"}),
]


@pytest.mark.parametrize(("method", "path", "body"), NUL_BODIES)
def test_nul_in_a_body_is_refused_by_the_schema(stage: Stage, method: str, path: str, body) -> None:
    """A NUL in a JSON text is refused by the documented pattern (422), on both databases."""
    client = stage.app.test_client()
    client.set_cookie("session", stage.cookies["session"])
    url = API + path.format(**stage.path_parameters)
    resp = client.open(url, method=method.upper(), json=body)
    assert resp.status_code == 422, (url, resp.status_code, resp.get_data(as_text=True)[:200])


OUT_OF_RANGE = [
    ("get", "/rallies/a%00b"),
    ("get", "/organiser/rallies/a%00b/live"),
    ("get", f"/curator/markers/{2**31}"),
    ("delete", "/organiser/rallies/{slug}/teams/" + str(2**31)),
    ("get", f"/curator/markers/{2**63}"),
]
"""Paths outside what the document allows (a NUL in a slug, an id past the column's range):
the server's input guard (server/inputs.py), not a schema, answers them with a 4xx."""


@pytest.mark.parametrize(("method", "path"), OUT_OF_RANGE)
def test_paths_out_of_range_are_a_4xx(stage: Stage, method: str, path: str) -> None:
    client = stage.app.test_client()
    client.set_cookie("session", stage.cookies["session"])
    url = API + path.format(**stage.path_parameters)
    resp = client.open(url, method=method.upper())
    assert 400 <= resp.status_code < 500, (url, resp.status_code)
