"""Accounts in the web UI: an admin creates accounts, changes roles, resets passwords and
(de)activates, never their own; each change is audited; bad input is a form error in German and
English, never a 500; CSRF and the admin role are checked on every form."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from server import auth
from server.cli import users as users_cli
from server.extensions import db
from server.i18n import t
from server.models import AuditEntry, Role, User
from tests.security.test_limits_and_sessions import (
    add_users,
    assert_session_ended,
    captured,
    logged_in,
    staff_csrf,
)
from tests.server.test_auth import PASSWORD, login

NEW_PASSWORD = "a fresh long password"
FIELD_ERROR = re.compile(r'<p class="error" id="([^"]+)">([^<]*)</p>')


@pytest.fixture(scope="module")
def password_hash() -> str:
    return auth.hash_password(PASSWORD)


@pytest.fixture
def staff(make_app, password_hash):
    """An app with CSRF on, an admin and an organiser; (app, ids)."""
    app = make_app(WTF_CSRF_ENABLED=True)
    return app, add_users(app, password_hash)


@pytest.fixture
def admin(staff):
    """The admin's logged-in client and its CSRF token."""
    app, _ = staff
    client = logged_in(app, "admin")
    return client, staff_csrf(client)


def audit(app) -> list[tuple[str, int | None, int | None, dict]]:
    """(action, user id, object id, detail) of every audit entry, oldest first."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(e.action, e.user_id, e.object_id, e.detail) for e in rows]


def account(app, name: str) -> User | None:
    with app.app_context():
        user = auth.by_name(name)
        if user is not None:
            db.session.expunge(user)
        return user


def field_errors(response) -> dict[str, str]:
    """The form errors of a page: element id -> message."""
    return {k: html.unescape(v) for k, v in FIELD_ERROR.findall(response.get_data(as_text=True))}


def create(client, token: str, lang: str = "en", **fields: str):
    data = {"username": "bea", "role": "organiser", "language": "en", "password": NEW_PASSWORD}
    data.update(fields)
    return client.post(
        "/staff/accounts", data={**data, "csrf_token": token}, headers={"Accept-Language": lang}
    )


def test_an_admin_creates_an_account_that_logs_in(staff, admin):
    app, ids = staff
    client, token = admin
    page = client.get("/staff/accounts", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert t("auth.accounts.create", "de") in page and 'id="new-username"' in page
    done = create(client, token, username="  Bea  ", language="en")
    assert done.status_code == 302
    flashed = client.get("/staff/accounts", headers={"Accept-Language": "en"})
    assert t("auth.accounts.created", "en", name="Bea") in html.unescape(flashed.text)
    bea = account(app, "bea")
    assert (bea.username, bea.role, bea.language, bea.active) == ("Bea", Role.ORGANISER, "en", True)
    assert login(app.test_client(), "bea", NEW_PASSWORD).status_code == 302
    assert audit(app) == [
        ("user.create", ids["admin"], bea.id, {"username": "Bea", "role": "organiser"})
    ]


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize(
    ("fields", "field", "code", "values"),
    [
        ({"password": "too short"}, "password", "password_too_short", {"n": 10}),
        ({"password": "x" * 1_000_000}, "password", "password_too_long", {"n": 500}),
        ({"username": ""}, "username", "account_name_length", {"n": 80}),
        ({"username": "y" * 100_000}, "username", "account_name_length", {"n": 80}),
        ({"username": "tab\tname"}, "username", "account_name_characters", {}),
        ({"username": "ORGANISER"}, "username", "account_name_taken", {"name": "ORGANISER"}),
        ({"role": "king"}, "role", "account_role", {}),
        ({"role": "admin<script>"}, "role", "account_role", {}),
        ({"language": "fr"}, "language", "account_language", {}),
    ],
)
def test_bad_input_is_a_form_error_in_the_readers_language(
    staff, admin, fields, field, code, values, lang
):
    app, _ = staff
    client, token = admin
    before = audit(app)
    refused = create(client, token, lang, **fields)
    assert refused.status_code == 422
    message = t(f"errors.{code}", lang, **values)
    assert field_errors(refused) == {f"new-{field}-error": message}
    body = refused.get_data(as_text=True)
    assert "Traceback" not in body and NEW_PASSWORD not in body
    assert f'id="new-{field}" ' in body or f'id="new-{field}"' in body
    assert 'aria-invalid="true"' in body
    with app.app_context():
        assert db.session.query(User).count() == 2
    assert audit(app) == before


@pytest.mark.parametrize("field", ["username", "password", "role", "language"])
def test_a_nul_byte_in_any_field_is_refused_before_the_database(staff, admin, field):
    """The house's check of every form (server/inputs.py): 400, on PostgreSQL too."""
    app, _ = staff
    client, token = admin
    refused = create(client, token, **{field: "nul\x00byte-long-enough"})
    assert refused.status_code == 400
    assert "Traceback" not in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(User).count() == 2
    assert audit(app) == []


def test_what_was_typed_comes_back_escaped(staff, admin):
    _, _ = staff
    client, token = admin
    name = '"><img src=x onerror=alert(1)>'
    refused = create(client, token, username=name, password="short")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "<img src=x" not in body
    assert 'value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in body


def test_html_in_a_name_is_only_text(staff, admin):
    app, _ = staff
    client, token = admin
    name = "<b>Bold</b> & Co"
    assert create(client, token, username=name).status_code == 302
    page = client.get("/staff/accounts").get_data(as_text=True)
    assert "<b>Bold</b>" not in page
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in page
    assert account(app, name) is not None


def test_an_admin_changes_a_role(staff, admin):
    app, ids = staff
    client, token = admin
    organiser = logged_in(app, "organiser")
    assert organiser.get("/organiser/").status_code == 200
    done = client.post(
        f"/staff/accounts/{ids['organiser']}/role",
        data={"role": "curator", "csrf_token": token},
        headers={"Accept-Language": "de"},
        follow_redirects=True,
    )
    expected = t("auth.accounts.role_changed", "de", name="organiser", role="Kurator:in")
    assert expected in html.unescape(done.get_data(as_text=True))
    assert account(app, "organiser").role is Role.CURATOR
    assert organiser.get("/organiser/").status_code == 403, "the new role counts at once"
    assert organiser.get("/curator/").status_code == 200
    assert audit(app) == [
        ("user.role", ids["admin"], ids["organiser"], {"before": "organiser", "after": "curator"})
    ]
    again = client.post(
        f"/staff/accounts/{ids['organiser']}/role", data={"role": "curator", "csrf_token": token}
    )
    assert again.status_code == 302 and len(audit(app)) == 1, "no change, no entry"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_bad_role_is_a_form_error_in_its_row(staff, admin, lang):
    app, ids = staff
    client, token = admin
    refused = client.post(
        f"/staff/accounts/{ids['organiser']}/role",
        data={"role": "king", "csrf_token": token},
        headers={"Accept-Language": lang},
    )
    assert refused.status_code == 422
    assert field_errors(refused) == {
        f"role-error-{ids['organiser']}": t("errors.account_role", lang)
    }
    assert account(app, "organiser").role is Role.ORGANISER
    assert audit(app) == []


def test_a_password_reset_ends_the_accounts_sessions(staff, admin):
    app, ids = staff
    client, token = admin
    cookie = captured(logged_in(app, "organiser"))
    done = client.post(
        f"/staff/accounts/{ids['organiser']}/password",
        data={"password": NEW_PASSWORD, "csrf_token": token},
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert t("auth.accounts.password_reset", "en", name="organiser") in done.get_data(as_text=True)
    assert_session_ended(app, cookie)
    assert login(app.test_client(), "organiser").status_code == 401
    assert login(app.test_client(), "organiser", NEW_PASSWORD).status_code == 302
    assert audit(app) == [("user.password_reset", ids["admin"], ids["organiser"], {})]
    assert client.get("/api/v1/session").status_code == 200, "the admin stays logged in"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_short_new_password_is_a_form_error_in_its_row(staff, admin, lang):
    app, ids = staff
    client, token = admin
    cookie = captured(logged_in(app, "organiser"))
    refused = client.post(
        f"/staff/accounts/{ids['organiser']}/password",
        data={"password": "short", "csrf_token": token},
        headers={"Accept-Language": lang},
    )
    assert refused.status_code == 422
    assert field_errors(refused) == {
        f"password-error-{ids['organiser']}": t("errors.password_too_short", lang, n=10)
    }
    assert '<details class="reset" open>' in refused.get_data(as_text=True)
    assert login(app.test_client(), "organiser").status_code == 302
    assert replay_ok(app, cookie)
    assert audit(app) == []


def replay_ok(app, cookie: str) -> bool:
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get("/api/v1/session").status_code == 200


@pytest.mark.parametrize(
    ("action", "data"),
    [("role", {"role": "curator"}), ("password", {"password": NEW_PASSWORD}), ("active", {})],
)
def test_not_for_your_own_account(staff, admin, action, data):
    app, ids = staff
    client, token = admin
    answer = client.post(
        f"/staff/accounts/{ids['admin']}/{action}",
        data={**data, "active": "0", "csrf_token": token},
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert t("auth.accounts.not_yourself", "en") in html.unescape(answer.get_data(as_text=True))
    me = account(app, "admin")
    assert (me.role, me.active) == (Role.ADMIN, True)
    assert auth.check_password(me, PASSWORD)
    assert client.get("/api/v1/session").status_code == 200
    assert audit(app) == []


FORMS = [
    ("/staff/accounts", {"username": "eve", "role": "admin", "password": NEW_PASSWORD}),
    ("/staff/accounts/{organiser}/role", {"role": "admin"}),
    ("/staff/accounts/{organiser}/password", {"password": NEW_PASSWORD}),
    ("/staff/accounts/{organiser}/active", {"active": "0"}),
]


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_every_form_checks_csrf_and_the_admin_role(staff, admin, path, data):
    app, ids = staff
    client, _ = admin
    url = path.format(**ids)
    assert client.post(url, data=data).status_code == 400
    assert client.post(url, data={**data, "csrf_token": "forged"}).status_code == 400
    organiser = logged_in(app, "organiser")
    assert (
        organiser.post(url, data={**data, "csrf_token": staff_csrf(organiser)}).status_code == 403
    )
    anonymous = app.test_client().post(url, data=data)
    assert anonymous.status_code in (302, 400)
    assert audit(app) == []
    assert account(app, "eve") is None
    assert account(app, "organiser").role is Role.ORGANISER


@pytest.mark.parametrize("user_id", ["999999", "99999999999"])
@pytest.mark.parametrize("action", ["role", "password", "active"])
def test_an_unknown_account_is_404(admin, action, user_id):
    client, token = admin
    answer = client.post(
        f"/staff/accounts/{user_id}/{action}",
        data={"role": "curator", "password": NEW_PASSWORD, "active": "0", "csrf_token": token},
    )
    assert answer.status_code == 404


def test_the_command_line_and_the_page_write_the_same_entries(staff):
    app, _ = staff
    runner = app.test_cli_runner()
    made = runner.invoke(
        users_cli, ["create", "Cleo", "--role", "curator", "--password", NEW_PASSWORD]
    )
    assert made.exit_code == 0, made.output
    reset = runner.invoke(users_cli, ["set-password", "cleo", "--password", "another password"])
    assert reset.exit_code == 0, reset.output
    cleo = account(app, "cleo")
    assert audit(app) == [
        ("user.create", None, cleo.id, {"username": "Cleo", "role": "curator"}),
        ("user.password_reset", None, cleo.id, {}),
    ]
    refused = runner.invoke(
        users_cli, ["create", "x\x01y", "--role", "curator", "--password", NEW_PASSWORD]
    )
    assert refused.exit_code == 1
    assert t("errors.account_name_characters", "en") in refused.output


def test_each_new_audit_action_has_words():
    """The audit log names each account action in German and English."""
    from server.i18n import catalogue

    for action in ("user.create", "user.role", "user.password_reset"):
        entry = catalogue()[f"curator.audit.action.{action}"]
        assert entry["de"] and entry["en"]
