"""Staff accounts: Argon2 hashes, login and logout, cookie flags, and role checks on routes."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from argon2 import PasswordHasher
from flask import Blueprint, Flask, jsonify

from server import auth
from server.auth import create_user, roles_required
from server.extensions import db
from server.i18n import t
from server.models import Role, User
from server.usererror import UserError

PASSWORD = "Barbarossa-1152"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ERROR = re.compile(r'<p class="error" role="alert">([^<]*)</p>')


def add_roles_blueprint(app: Flask) -> None:
    """A test-only area: one HTML page and one API path for organisers."""
    bp = Blueprint("roles_test", __name__)

    @bp.get("/organiser-only")
    @roles_required(Role.ORGANISER)
    def page():
        return "organiser page"

    @bp.get("/api/v1/organiser-only")
    @roles_required(Role.ORGANISER)
    def api():
        return jsonify(ok=True)

    app.register_blueprint(bp)


@pytest.fixture
def app(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    add_roles_blueprint(app)
    return app


@pytest.fixture(scope="module")
def password_hash() -> str:
    """One Argon2 hash of PASSWORD for all accounts (hashing is slow by design)."""
    return auth.hash_password(PASSWORD)


@pytest.fixture
def users(app, password_hash):
    """An account per role, and a disabled organiser, all with PASSWORD."""
    with app.app_context():
        for name, role in [*((r.value, r) for r in Role), ("disabled", Role.ORGANISER)]:
            db.session.add(
                User(
                    username=name, password_hash=password_hash, role=role, active=name != "disabled"
                )
            )
        db.session.commit()


def csrf_token(client, path: str = "/login") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


def login(client, username: str, password: str = PASSWORD, next_: str | None = None, **headers):
    url = "/login" if next_ is None else f"/login?next={next_}"
    return client.post(
        url,
        data={
            "csrf_token": csrf_token(client),
            "username": username,
            "password": password,
        },
        headers=headers,
    )


def home(app: Flask, username: str) -> str:
    """Where this user lands after logging in without ``next``."""
    with app.test_request_context():
        return auth.home_for(db.session.query(User).filter_by(username=username).one())


def session_cookie(response) -> str:
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


@pytest.mark.real_argon2
def test_create_user_stores_an_argon2_hash(app):
    with app.app_context():
        user = create_user("  kuratorin ", PASSWORD, Role.CURATOR, "en")
        assert user.username == "kuratorin"
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert auth.check_password(user, PASSWORD)
        assert not auth.check_password(user, PASSWORD + "x")
        assert not auth.check_password(user, "")
        other = create_user("zweite", PASSWORD, Role.CURATOR)
        assert other.password_hash != user.password_hash


@pytest.mark.parametrize(
    ("name", "password", "code", "field"),
    [
        ("kurz", "123456789", "password_too_short", "password"),
        ("lang", "x" * 501, "password_too_long", "password"),
        ("", PASSWORD, "account_name_length", "username"),
        ("   ", PASSWORD, "account_name_length", "username"),
        ("x" * 81, PASSWORD, "account_name_length", "username"),
        ("nul\x00byte", PASSWORD, "account_name_characters", "username"),
        ("tab\tname", PASSWORD, "account_name_characters", "username"),
        ("Curator", PASSWORD, "account_name_taken", "username"),
    ],
)
def test_create_user_refuses_bad_input(app, users, name, password, code, field):
    with app.app_context():
        with pytest.raises(UserError) as refused:
            create_user(name, password, Role.CURATOR)
        assert (refused.value.code, refused.value.field) == (code, field)
        assert db.session.query(User).count() == len(Role) + 1


@pytest.mark.real_argon2
def test_old_hash_parameters_are_upgraded_at_login(app):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with app.app_context():
        user = User(username="alt", password_hash=weak.hash(PASSWORD), role=Role.CURATOR)
        db.session.add(user)
        db.session.commit()
        old = user.password_hash
        assert auth.check_password(user, PASSWORD)
        assert user.password_hash != old
        assert not PasswordHasher().check_needs_rehash(user.password_hash)
        assert auth.check_password(db.session.get(User, user.id), PASSWORD)


def test_login_page_speaks_the_browser_language(client):
    assert t("auth.title", "en") in client.get(
        "/login", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert t("auth.title", "de") in client.get(
        "/login", headers={"Accept-Language": "de"}
    ).get_data(as_text=True)


def test_login_succeeds_and_opens_the_role_page(app, client, users):
    response = login(client, "organiser")
    assert response.status_code == 302
    assert response.headers["Location"] == home(app, "organiser")
    assert client.get("/organiser-only").get_data(as_text=True) == "organiser page"


def test_user_name_is_not_case_sensitive(client, users):
    assert login(client, " ORGANISER ").status_code == 302


@pytest.mark.parametrize("lang", ["de", "en"])
def test_failed_logins_look_the_same_whatever_was_wrong(client, users, lang):
    answers = []
    for username, password in [
        ("organiser", "wrong password!"),
        ("nobody", PASSWORD),
        ("disabled", PASSWORD),
        ("organiser", PASSWORD.upper()),
    ]:
        response = login(client, username, password, **{"Accept-Language": lang})
        assert response.status_code == 401
        assert client.get("/organiser-only").status_code == 302
        answers.append(ERROR.findall(html.unescape(response.get_data(as_text=True))))
    assert answers == [[t("auth.login_failed", lang)]] * 4


def test_incomplete_login_is_401_with_its_own_message(client, users):
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "username": "x"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 401
    assert t("auth.login_incomplete", "en") in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client, users):
    response = client.post("/login", data={"username": "organiser", "password": PASSWORD})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    assert client.get("/organiser-only").status_code == 302
    forged = client.post(
        "/login", data={"username": "organiser", "password": PASSWORD, "csrf_token": "made-up"}
    )
    assert forged.status_code == 400
    assert client.get("/organiser-only").status_code == 302


def test_logout_is_a_post(client, users):
    login(client, "organiser")
    assert client.get("/logout").status_code == 405
    assert client.get("/organiser-only").status_code == 200
    assert client.post("/logout").status_code == 400
    assert client.get("/organiser-only").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert client.get("/organiser-only").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "/\r\n/evil.example",
    ],
)
def test_next_never_leaves_the_site(app, client, users, target):
    response = login(client, "organiser", next_=quote(target, safe=""))
    if any(ord(c) < 32 for c in target):
        assert response.status_code == 400  # control characters are refused before the login
        assert "Location" not in response.headers
        return
    assert response.status_code == 302
    assert response.headers["Location"] == home(app, "organiser")


def test_next_on_the_site_is_followed(client, users):
    first = client.get("/organiser-only?x=1")
    assert first.status_code == 302
    login_url = urlsplit(first.headers["Location"])
    assert login_url.path == "/login"
    assert parse_qs(login_url.query)["next"] == ["/organiser-only?x=1"]
    response = client.post(
        f"/login?{login_url.query}",
        data={
            "csrf_token": csrf_token(client),
            "username": "organiser",
            "password": PASSWORD,
        },
    )
    assert response.headers["Location"] == "/organiser-only?x=1"


def test_role_checks_on_html_routes(app, users):
    anonymous = app.test_client().get("/organiser-only")
    assert anonymous.status_code == 302
    assert urlsplit(anonymous.headers["Location"]).path == "/login"
    expected = {"curator": 403, "organiser": 200, "admin": 200}
    for username, status in expected.items():
        client = app.test_client()
        assert login(client, username).status_code == 302
        response = client.get("/organiser-only", headers={"Accept-Language": "en"})
        assert response.status_code == status, username
        if status == 403:
            assert t("error.title_403", "en") in response.get_data(as_text=True)


def test_role_checks_on_api_routes(app, users):
    anonymous = app.test_client().get("/api/v1/organiser-only")
    assert anonymous.status_code == 401
    assert anonymous.get_json()["error"]["code"] == "login_required"
    expected = {"curator": 403, "organiser": 200, "admin": 200}
    for username, status in expected.items():
        client = app.test_client()
        login(client, username)
        response = client.get("/api/v1/organiser-only")
        assert response.status_code == status, username
        if status == 403:
            assert response.get_json()["error"]["code"] == "forbidden"
        else:
            assert response.get_json() == {"ok": True}


def test_disabled_user_loses_an_open_session(app, users):
    client = app.test_client()
    login(client, "organiser")
    assert client.get("/organiser-only").status_code == 200
    with app.app_context():
        db.session.query(User).filter_by(username="organiser").one().active = False
        db.session.commit()
    assert client.get("/organiser-only").status_code == 302


def test_session_cookie_flags_over_http(client, users):
    cookie = session_cookie(login(client, "organiser"))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


@pytest.mark.parametrize(
    "env",
    [
        {"PUBLIC_BASE_URL": "https://artcaching.example.org"},
        {"PUBLIC_BASE_URL": "http://127.0.0.1:5000", "SESSION_COOKIE_SECURE": "1"},
    ],
)
def test_session_cookie_is_secure_behind_https(make_app, monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        create_user("organiser", PASSWORD, Role.ORGANISER)
    client = app.test_client()
    cookie = session_cookie(login(client, "organiser"))
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    lang = client.get("/login?lang=en").headers.getlist("Set-Cookie")
    assert any(c.startswith("lang=en") and "Secure" in c for c in lang)


def test_login_is_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    client = app.test_client()
    statuses = [
        client.post("/login", data={"username": "a", "password": "b" * 10}).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    assert t("error.title_429", "de") in client.post(
        "/login", data={"username": "a", "password": "b"}
    ).get_data(as_text=True)
    assert client.get("/login").status_code == 200
