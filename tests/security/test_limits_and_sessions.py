"""Limits that hold on verified identities, and staff sessions that end: each attack of issue 9
items 2 and 6 replayed from outside through the test client, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from server import auth
from server.cli import users
from server.extensions import db
from server.models import AuditEntry, Role, User, utcnow
from tests.server.helpers import API, assert_error, bearer, create_team, new_team
from tests.server.test_auth import ERROR, PASSWORD, login

LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def address(ip: str) -> dict[str, str]:
    """Test-client options that make a request come from ip."""
    return {"REMOTE_ADDR": ip}


@pytest.fixture(scope="module")
def password_hash() -> str:
    return auth.hash_password(PASSWORD)


def add_users(app, password_hash: str) -> dict[str, int]:
    """An admin and an organiser, both with PASSWORD; their ids by name."""
    with app.app_context():
        rows = [
            User(username=name, password_hash=password_hash, role=role)
            for name, role in (("admin", Role.ADMIN), ("organiser", Role.ORGANISER))
        ]
        db.session.add_all(rows)
        db.session.commit()
        return {u.username: u.id for u in rows}


def audit_actions(app, user_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry.action).filter_by(object_type="user", object_id=user_id)
            )
        )


def replay(app, cookie: str):
    """A fresh client carrying only a captured session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def staff_csrf(client) -> str:
    """The CSRF token of a logged-in staff client, as the staff scripts fetch it."""
    return client.get("/api/v1/session").get_json()["csrf_token"]


def captured(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


# -- rate limits ---------------------------------------------------------------------------


def test_made_up_bearers_share_the_address_bucket(make_app, demo):
    app = make_app(**LIMITED, RATELIMIT_DEFAULT="5 per minute")
    client = app.test_client()
    token = new_team(client, demo[0], "Echt")
    codes = [
        client.get(f"{API}/rallies", headers=bearer(secrets.token_urlsafe(16))).status_code
        for _ in range(6)
    ]
    assert codes == [200] * 5 + [429]
    assert_error(client.get(f"{API}/rallies", headers=bearer("made-up")), 429, "rate_limited")
    assert client.get(f"{API}/rallies").status_code == 429
    assert client.get(f"{API}/team", headers=bearer(token)).status_code == 200


def test_a_team_request_looks_its_token_up_once(app, demo):
    client = app.test_client()
    token = new_team(client, demo[0], "Einmal")
    with app.app_context():
        lookups: list[str] = []

        def count(conn, cursor, statement, *args) -> None:
            if "team_token" in statement:
                lookups.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            app.config["RATELIMIT_ENABLED"] = True
            assert client.get(f"{API}/team", headers=bearer(token)).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert len(lookups) == 1


def test_forty_wrong_staff_passwords_meet_429_and_a_lockout(make_app, password_hash):
    app = make_app(**LIMITED, WTF_CSRF_ENABLED=True)
    ids = add_users(app, password_hash)
    client = app.test_client()
    codes = [
        login(client, "admin", "wrong password", **bearer(secrets.token_urlsafe(8))).status_code
        for _ in range(40)
    ]
    assert codes[:10] == [401] * 10
    assert 429 in codes and codes[-1] == 429
    refused = login(client, "admin", "wrong password")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "user.locked" in audit_actions(app, ids["admin"])


def test_the_right_password_is_refused_during_a_lockout_until_it_ends(
    make_app, password_hash, monkeypatch
):
    app = make_app(WTF_CSRF_ENABLED=True, LOGIN_LOCKOUT_FAILURES=10, LOGIN_LOCKOUT_SECONDS=60)
    ids = add_users(app, password_hash)
    client = app.test_client()
    assert [login(client, "organiser", "wrong").status_code for _ in range(10)] == [401] * 10
    locked = login(client, "organiser", **{"Accept-Language": "de"})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 61
    assert "1 Minuten" in ERROR.search(locked.get_data(as_text=True)).group(1)
    english = login(client, "organiser", **{"Accept-Language": "en"})
    assert "try again in 1 minutes" in english.get_data(as_text=True)
    assert client.get("/api/v1/session").status_code == 401
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).filter_by(action="user.locked"))
        assert entry.object_id == ids["organiser"] and entry.detail["failures"] == 10

    start = utcnow()
    monkeypatch.setattr(auth, "utcnow", lambda: start + timedelta(seconds=61))
    assert login(client, "organiser").status_code == 302, "the lockout ended"
    client.post("/logout", data={"csrf_token": staff_csrf(client)})

    def at(seconds: float) -> None:
        monkeypatch.setattr(auth, "utcnow", lambda: start + timedelta(seconds=seconds))

    assert [login(client, "organiser", "wrong").status_code for _ in range(10)] == [401] * 10
    at(122)
    assert [login(client, "organiser", "wrong").status_code for _ in range(10)] == [401] * 10
    at(122 + 100)
    assert login(client, "organiser").status_code == 429, "the second lockout lasts longer"
    at(122 + 121)
    assert login(client, "organiser").status_code == 302


def test_three_hundred_teams_from_one_address_get_in_and_then_no_more(make_app, demo):
    app = make_app(**LIMITED)
    assert app.config["RATELIMIT_TEAM_CREATE"] == "300 per 10 minutes"
    client = app.test_client()
    slug = demo[0]
    for i in range(300):
        resp = create_team(client, slug, f"Team {i}")
        assert resp.status_code == 201, (i, resp.get_json())
    error = assert_error(create_team(client, slug, "Team 301"), 429, "team_creation_limited")
    assert "10 min" in error["message"] or "Minuten" in error["message"]
    late = create_team(client, slug, "Team 302")
    assert int(late.headers["Retry-After"]) > 0
    web = client.post(f"/play/{slug}/join", data={"name": "Web team"})
    assert web.status_code == 429 and "Teams" in web.get_data(as_text=True)
    elsewhere = client.post(
        f"{API}/rallies/{slug}/teams", json={"name": "Elsewhere"}, environ_base=address("10.9.9.9")
    )
    assert elsewhere.status_code == 201


def _guess(client, slug: str, code: str, ip: str):
    return client.post(
        f"{API}/rallies/{slug}/join", json={"join_code": code}, environ_base=address(ip)
    )


def test_join_code_guessing_is_locked_per_address(make_app, demo):
    app = make_app(**LIMITED)
    client = app.test_client()
    slug = demo[0]
    code = create_team(client, slug, "Ziel").get_json()["join_code"]
    for _ in range(3):
        assert _guess(client, slug, code, "10.0.0.1").status_code == 201, "right codes do not count"
    codes = [_guess(client, slug, f"WRONG{i:03d}", "10.0.0.1").status_code for i in range(101)]
    assert codes == [404] * 100 + [429]
    assert_error(_guess(client, slug, code, "10.0.0.1"), 429, "join_code_locked")
    web = client.post(
        f"/play/{slug}/code", data={"join_code": code}, environ_base=address("10.0.0.1")
    )
    assert web.status_code == 429
    assert _guess(client, slug, code, "10.0.0.2").status_code == 201


def test_join_code_guessing_is_locked_per_rally(make_app, demo):
    app = make_app(**LIMITED, RATELIMIT_JOIN_CODE_RALLY_FAILURES="30 per hour")
    client = app.test_client()
    slug = demo[0]
    code = create_team(client, slug, "Ziel").get_json()["join_code"]
    for n in range(30):
        assert _guess(client, slug, f"WRONG{n:03d}", f"10.1.{n}.1").status_code == 404
    assert_error(_guess(client, slug, "WRONG999", "10.2.0.1"), 429, "join_code_locked")
    assert_error(_guess(client, slug, code, "10.2.0.2"), 429, "join_code_locked")


# -- sessions ------------------------------------------------------------------------------


@pytest.fixture
def staff(make_app, password_hash):
    """An app with CSRF on, an admin and an organiser; (app, ids)."""
    app = make_app(WTF_CSRF_ENABLED=True)
    return app, add_users(app, password_hash)


def logged_in(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    assert client.get("/api/v1/session").status_code == 200
    return client


def assert_session_ended(app, cookie: str) -> None:
    client = replay(app, cookie)
    assert_error(client.get("/api/v1/session"), 401, "login_required")
    page = client.get("/organiser/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_logout_ends_every_session_of_the_account(staff):
    app, _ = staff
    laptop, phone = logged_in(app, "organiser"), logged_in(app, "organiser")
    laptop_cookie, phone_cookie = captured(laptop), captured(phone)
    assert replay(app, laptop_cookie).get("/api/v1/session").status_code == 200
    laptop.post("/logout", data={"csrf_token": staff_csrf(laptop)})
    assert_session_ended(app, laptop_cookie)
    assert_session_ended(app, phone_cookie)
    assert logged_in(app, "organiser") is not None


def test_a_new_password_ends_every_session(staff):
    app, _ = staff
    cookie = captured(logged_in(app, "organiser"))
    result = app.test_cli_runner().invoke(
        users, ["set-password", "organiser", "--password", "a new password"]
    )
    assert result.exit_code == 0, result.output
    assert_session_ended(app, cookie)
    assert login(app.test_client(), "organiser", "a new password").status_code == 302


def test_an_admin_deactivates_and_reactivates_an_account_on_the_web(staff):
    app, ids = staff
    admin = logged_in(app, "admin")
    cookie = captured(logged_in(app, "organiser"))
    page = admin.get("/staff/accounts", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "organiser" in page.get_data(as_text=True)
    target = f"/staff/accounts/{ids['organiser']}/active"
    assert admin.post(target, data={"active": "0"}).status_code == 400, "CSRF is checked"
    token = staff_csrf(admin)
    done = admin.post(
        target,
        data={"active": "0", "csrf_token": token},
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert "deactivated" in done.get_data(as_text=True)
    assert_session_ended(app, cookie)
    assert login(app.test_client(), "organiser").status_code == 401
    assert admin.post(target, data={"active": "1", "csrf_token": token}).status_code == 302
    assert logged_in(app, "organiser") is not None
    assert audit_actions(app, ids["organiser"]) == ["user.deactivate", "user.activate"]
    with app.app_context():
        assert {e.user_id for e in db.session.scalars(select(AuditEntry))} == {ids["admin"]}


def test_an_admin_cannot_deactivate_themself_and_others_may_not_at_all(staff):
    app, ids = staff
    admin = logged_in(app, "admin")
    token = staff_csrf(admin)
    answer = admin.post(
        f"/staff/accounts/{ids['admin']}/active",
        data={"active": "0", "csrf_token": token},
        headers={"Accept-Language": "de"},
        follow_redirects=True,
    )
    assert "eigene Konto" in answer.get_data(as_text=True)
    assert admin.get("/api/v1/session").status_code == 200
    organiser = logged_in(app, "organiser")
    assert organiser.get("/staff/accounts").status_code == 403
    assert (
        organiser.post(
            f"/staff/accounts/{ids['admin']}/active",
            data={"active": "0", "csrf_token": staff_csrf(organiser)},
        ).status_code
        == 403
    )
    assert admin.post(
        "/staff/accounts/99999999999/active", data={"active": "0", "csrf_token": token}
    ).status_code in (404,)
    assert audit_actions(app, ids["admin"]) == []


def test_the_cli_deactivates_activates_and_lists_accounts(staff):
    app, _ = staff
    cookie = captured(logged_in(app, "organiser"))
    runner = app.test_cli_runner()
    result = runner.invoke(users, ["deactivate", "Organiser"])
    assert result.exit_code == 0, result.output
    assert_session_ended(app, cookie)
    listing = runner.invoke(users, ["list"]).output
    assert re.search(r"^organiser\torganiser\tdeactivated$", listing, re.M), listing
    assert re.search(r"^admin\tadmin\tactive$", listing, re.M), listing
    assert runner.invoke(users, ["activate", "organiser"]).exit_code == 0
    assert re.search(r"^organiser\torganiser\tactive$", runner.invoke(users, ["list"]).output, re.M)
    assert logged_in(app, "organiser") is not None
    unknown = runner.invoke(users, ["deactivate", "niemand"])
    assert unknown.exit_code != 0 and "niemand" in unknown.output
