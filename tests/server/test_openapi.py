"""The OpenAPI document: valid 3.1, every /api/v1 route in it, real answers match its schemas."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate

from tests.server.helpers import (
    API,
    bearer,
    checkin,
    create_team,
    demo_stops,
    new_event_id,
    qr_token,
    scan,
)

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def spec(client) -> dict[str, Any]:
    resp = client.get(f"{API}/openapi.json")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    return resp.get_json()


def openapi_path(rule: str) -> str:
    """A Flask rule under /api/v1 as an OpenAPI path: <slug> and <int:id> become {slug}, {id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule[len(API) :])


def response_validator(
    spec: dict[str, Any], path: str, method: str, status: int
) -> Draft202012Validator:
    """The documented JSON schema of one answer, its $refs resolved in the document."""
    responses = spec["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not document {status}"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    return Draft202012Validator(
        {**schema, "components": spec["components"]}, format_checker=FormatChecker()
    )


def check(spec: dict[str, Any], path: str, method: str, resp) -> dict[str, Any]:
    """The answer validates against what the document says for its status; its body."""
    body = resp.get_json()
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in response_validator(spec, path, method, resp.status_code).iter_errors(body)
    ]
    assert not errors, (method, path, resp.status_code, errors[:5])
    return body


def test_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_api_route_is_documented(app, spec):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(API + "/")]
    assert len(rules) >= 9
    for rule in rules:
        path = openapi_path(rule.rule)
        assert path in spec["paths"], f"{rule.rule} is not in the OpenAPI document"
        for method in sorted(m.lower() for m in rule.methods):
            if method in METHODS:
                assert method in spec["paths"][path], f"{method.upper()} {rule.rule} undocumented"


def test_every_documented_operation_exists(app, spec):
    routes = {
        (openapi_path(r.rule), m.lower())
        for r in app.url_map.iter_rules()
        if r.rule.startswith(API + "/")
        for m in r.methods
    }
    for path, item in spec["paths"].items():
        for method in item:
            if method in METHODS:
                assert (path, method) in routes, f"{method.upper()} {path} has no route"


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    target = spec
    for part in schema["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return target


def test_every_player_post_has_a_request_body_schema(spec):
    posts = {
        p: item["post"]
        for p, item in spec["paths"].items()
        if "post" in item and "player" in item["post"]["tags"]
    }
    assert set(posts) == {
        "/rallies/{slug}/teams",
        "/rallies/{slug}/join",
        "/team/checkins",
        "/team/scans",
        "/team/answers",
        "/team/hints",
        "/team/events",
    }
    for path, op in posts.items():
        assert op["requestBody"]["required"] is True, path
        assert "422" in op["responses"] and "400" in op["responses"], path
        assert "413" in op["responses"] and "415" in op["responses"], path


def test_every_request_body_schema_resolves_to_an_object(spec):
    bodies = [
        (p, m, op["requestBody"])
        for p, item in spec["paths"].items()
        for m, op in item.items()
        if m in METHODS and "requestBody" in op
    ]
    assert len(bodies) >= 4
    for path, method, body in bodies:
        for media, content in body["content"].items():
            schema = content["schema"]
            if "$ref" in schema:
                schema = _resolve(spec, schema)
            if media == "application/json":
                assert schema["type"] == "object" and schema.get("properties"), (method, path)


def test_every_operation_has_an_id_and_json_errors(spec):
    ids = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            ids.append(op["operationId"])
            for status, answer in op["responses"].items():
                if status.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    if "player" in op["tags"]:
                        assert schema == {"$ref": "#/components/schemas/Error"}, (path, status)
    assert len(ids) == len(set(ids))


def test_schemas_compile_as_json_schema_2020_12(spec):
    for name, schema in spec["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert name


def test_real_answers_match_the_documented_schemas(app, client, demo, spec):
    slug, rally_id = demo
    check(spec, "/rallies", "get", client.get(f"{API}/rallies"))
    rally = check(spec, "/rallies/{slug}", "get", client.get(f"{API}/rallies/{slug}"))
    assert rally["slug"] == slug and rally["first_clue"]
    check(spec, "/rallies/{slug}", "get", client.get(f"{API}/rallies/no-such-rally"))

    created = check(spec, "/rallies/{slug}/teams", "post", create_team(client, slug, "Schema"))
    token = created["token"]
    check(spec, "/rallies/{slug}/teams", "post", create_team(client, slug, "Schema"))
    check(spec, "/rallies/{slug}/teams", "post", create_team(client, slug, ""))
    check(
        spec,
        "/rallies/{slug}/join",
        "post",
        client.post(f"{API}/rallies/{slug}/join", json={"join_code": created["join_code"]}),
    )
    check(
        spec,
        "/rallies/{slug}/join",
        "post",
        client.post(f"{API}/rallies/{slug}/join", json={"join_code": "NOPE1234"}),
    )

    first = demo_stops(app, rally_id)[0]
    near = check(
        spec,
        "/team/checkins",
        "post",
        checkin(
            client,
            token,
            first.position.lat + 0.0009,
            first.position.lon,
            at=datetime.now(UTC) - timedelta(seconds=90),
        ),
    )
    assert near["result"] == "outside"
    assert near["visible"] and near["visible"][0]["marker"] is not None
    found = check(
        spec,
        "/team/checkins",
        "post",
        checkin(
            client,
            token,
            first.position.lat,
            first.position.lon,
            at=datetime.now(UTC) - timedelta(seconds=60),
        ),
    )
    assert found["result"] == "found" and found["found_now"]
    second = demo_stops(app, rally_id)[1]
    scanned = check(
        spec, "/team/scans", "post", scan(client, token, qr_token(app, rally_id, second.marker_id))
    )
    assert scanned["result"] == "found"
    check(spec, "/team/scans", "post", scan(client, token, "not a code"))
    check(spec, "/team/checkins", "post", checkin(client, token, 91.0, 7.0))
    check(
        spec,
        "/team/checkins",
        "post",
        client.post(
            f"{API}/team/checkins", data="{", content_type="application/json", headers=bearer(token)
        ),
    )
    check(
        spec,
        "/team/checkins",
        "post",
        client.post(f"{API}/team/checkins", json={"client_event_id": new_event_id()}),
    )

    team = check(spec, "/team", "get", client.get(f"{API}/team", headers=bearer(token)))
    assert team["progress"] == {"found": 2, "total": 10}
    check(spec, "/team", "get", client.get(f"{API}/team", headers=bearer("nope")))
    board = check(
        spec, "/rallies/{slug}/leaderboard", "get", client.get(f"{API}/rallies/{slug}/leaderboard")
    )
    assert board["entries"][0]["team"] == "Schema"
    check(spec, "/rallies/{slug}/leaderboard", "get", client.get(f"{API}/rallies/nope/leaderboard"))
    check(
        spec,
        "/rallies/{slug}/leaderboard",
        "get",
        client.get(f"{API}/rallies/{slug}/leaderboard?limit=x"),
    )


def test_request_schemas_reject_what_the_server_rejects(spec):
    """The published request schemas are the ones the server checks bodies with."""
    from server.api.openapi import validator

    for name in ("TeamCreate", "TeamJoin", "Checkin", "Scan"):
        assert (
            validator(name).schema["components"]["schemas"][name]
            == spec["components"]["schemas"][name]
        )


@pytest.mark.parametrize(
    "name",
    [
        "Die Zebras Ümlaut",
        "  Otter „Straße“ – 3 ",
        "🦊 Füchse",
        "漢字チーム",
        "\u3000x",
        "",
        "   ",
        "Tab\tTeam\r\n",
        "Vertical\x0btab",
        "NUL\x00",
        "Zero\u200bWidth",
        "Private\ue000",
        "Unassigned\U00050000",
        "Qa\u0958",
        "x" * 40,
        "x" * 41,
    ],
)
def test_the_team_name_schema_takes_what_clean_name_takes(name):
    """A name the document allows, the server takes; the document is stricter only on a few
    rare characters (control whitespace but tab and line breaks, those NFC lengthens)."""
    from server.api.openapi import validator
    from server.teams import clean_name
    from server.usererror import UserError

    try:
        clean_name(name)
        accepted = True
    except UserError:
        accepted = False
    documented = validator("TeamCreate").is_valid({"name": name})
    stricter = {"Qa\u0958", "Vertical\x0btab"}
    assert documented == accepted or (not documented and name in stricter), name


def test_players_may_choose_leichte_sprache_staff_de_and_en(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["TeamCreate"]["properties"]["language"]["enum"] == ["de", "en", "de-x-ls"]
    assert schemas["Team"]["properties"]["language"]["enum"] == ["de", "en", "de-x-ls"]
    user = schemas["StaffSession"]["properties"]["user"]["properties"]
    assert user["language"]["enum"] == ["de", "en"]
