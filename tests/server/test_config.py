"""Settings from the environment: safe defaults, a secret key made once, clear stops."""

from __future__ import annotations

import stat
import threading

import pytest

from server import config, create_app

VARIABLES = (
    "SECRET_KEY",
    "DATABASE_URL",
    "PUBLIC_BASE_URL",
    "SESSION_COOKIE_SECURE",
    "TRUSTED_PROXIES",
    "RULES_AR_RADIUS_M",
    "RULES_SEARCH_RADIUS_M",
    "RULES_MAX_SPEED_MPS",
    "RULES_ACCURACY_CAP_M",
    "FIX_RETENTION_HOURS",
    "RATELIMIT_ENABLED",
    "MAX_CLOCK_SKEW_S",
    "DEFAULT_LANGUAGE",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_secret_key_is_generated_once_with_mode_0600(tmp_path):
    instance = tmp_path / "instance"
    key = config.secret_key(str(instance))
    path = instance / "secret_key"
    assert len(key) >= 64
    assert path.read_text() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.secret_key(str(instance)) == key
    assert config.from_environment(str(instance))["SECRET_KEY"] == key
    assert sorted(p.name for p in instance.iterdir()) == ["secret_key"]
    assert config.secret_key(str(tmp_path / "other")) != key


def test_secret_key_from_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert config.secret_key(str(tmp_path)) == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_workers_starting_together_share_one_key(tmp_path):
    """Several gunicorn workers may make the key at the same moment: all must read the same."""
    for attempt in range(10):
        instance = str(tmp_path / str(attempt))
        barrier = threading.Barrier(8)
        keys: list[str] = []
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_start, args=(instance, barrier, keys, errors))
            for _ in range(8)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        assert len(set(keys)) == 1 and keys[0]
        assert [p.name for p in (tmp_path / str(attempt)).iterdir()] == ["secret_key"]


def _start(instance: str, barrier: threading.Barrier, keys: list, errors: list) -> None:
    barrier.wait()
    try:
        keys.append(config.secret_key(instance))
    except BaseException as exc:
        errors.append(exc)


def test_an_empty_key_file_is_a_clear_stop(tmp_path):
    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(SystemExit, match="secret_key is empty"):
        config.secret_key(str(tmp_path))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgres://u:p@db.example.org:5432/art",
            "postgresql+psycopg://u:p@db.example.org:5432/art",
        ),
        ("postgresql://postgres@127.0.0.1/test", "postgresql+psycopg://postgres@127.0.0.1/test"),
        ("postgresql+psycopg://h/db", "postgresql+psycopg://h/db"),
        ("sqlite:////var/lib/art.db", "sqlite:////var/lib/art.db"),
    ],
)
def test_database_url_is_normalised(tmp_path, monkeypatch, url, expected):
    assert config.database_url(url, str(tmp_path)) == expected
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "k")
    assert config.from_environment(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == expected


def test_database_defaults_to_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k")
    expected = f"sqlite:///{tmp_path / 'artcaching.sqlite3'}"
    assert config.from_environment(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == expected
    monkeypatch.setenv("DATABASE_URL", "")
    assert config.from_environment(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == expected


@pytest.mark.parametrize(
    "name",
    [
        "RULES_AR_RADIUS_M",
        "RULES_SEARCH_RADIUS_M",
        "RULES_MAX_SPEED_MPS",
        "RULES_ACCURACY_CAP_M",
        "FIX_RETENTION_HOURS",
        "TRUSTED_PROXIES",
        "MAX_CLOCK_SKEW_S",
    ],
)
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("abc", "must be a number, got 'abc'"),
        ("12 m", "must be a number, got '12 m'"),
        ("nan", "must be a finite number of 0 or more, got 'nan'"),
        ("inf", "must be a finite number of 0 or more, got 'inf'"),
        ("-5", "must be a finite number of 0 or more, got '-5'"),
    ],
)
def test_bad_numbers_stop_with_a_clear_message(tmp_path, monkeypatch, name, value, problem):
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as excinfo:
        config.from_environment(str(tmp_path))
    assert str(excinfo.value) == f"{name} {problem}"


def test_create_app_stops_on_a_bad_number(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("RULES_AR_RADIUS_M", "abc")
    with pytest.raises(SystemExit, match="RULES_AR_RADIUS_M must be a number, got 'abc'"):
        create_app({"TESTING": True})


def test_numbers_are_read(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("RULES_AR_RADIUS_M", " 80.5 ")
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    monkeypatch.setenv("FIX_RETENTION_HOURS", "")
    settings = config.from_environment(str(tmp_path))
    assert settings["RULES_AR_RADIUS_M"] == 80.5
    assert settings["TRUSTED_PROXIES"] == 1
    assert settings["FIX_RETENTION_HOURS"] == 24.0
    assert settings["RULES_SEARCH_RADIUS_M"] == 250.0


@pytest.mark.parametrize("value", ["artcaching.example.org", "ftp://example.org", "https://"])
def test_public_base_url_must_be_http(tmp_path, monkeypatch, value):
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("PUBLIC_BASE_URL", value)
    with pytest.raises(SystemExit, match="PUBLIC_BASE_URL must be an http"):
        config.from_environment(str(tmp_path))


@pytest.mark.parametrize(
    ("env", "secure"),
    [
        ({}, False),
        ({"PUBLIC_BASE_URL": "http://127.0.0.1:5000"}, False),
        ({"PUBLIC_BASE_URL": "https://artcaching.example.org/"}, True),
        (
            {"PUBLIC_BASE_URL": "https://artcaching.example.org", "SESSION_COOKIE_SECURE": "0"},
            False,
        ),
        ({"PUBLIC_BASE_URL": "http://intern:8000", "SESSION_COOKIE_SECURE": "1"}, True),
    ],
)
def test_cookie_security_follows_the_public_url(tmp_path, monkeypatch, env, secure):
    monkeypatch.setenv("SECRET_KEY", "k")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = config.from_environment(str(tmp_path))
    assert settings["SESSION_COOKIE_SECURE"] is secure
    assert settings["REMEMBER_COOKIE_SECURE"] is secure
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not settings["PUBLIC_BASE_URL"].endswith("/")


def test_safe_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k")
    settings = config.from_environment(str(tmp_path))
    assert settings["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert settings["RATELIMIT_ENABLED"] is True
    assert settings["TRUSTED_PROXIES"] == 0
    assert settings["DEFAULT_LANGUAGE"] == "de"
    assert settings["MEDIA_DIR"] == str(tmp_path / "media")
    assert settings["TILE_URL"].startswith("https://")


def test_trusted_proxies_make_forwarded_https_count(make_app, monkeypatch):
    plain = make_app()
    with plain.test_request_context(headers={"X-Forwarded-Proto": "https"}):
        from flask import request

        assert request.scheme == "http"
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    proxied = make_app()
    seen = {}

    @proxied.get("/scheme-probe")
    def probe():
        from flask import request

        seen["scheme"] = request.scheme
        seen["remote"] = request.remote_addr
        return ""

    proxied.test_client().get(
        "/scheme-probe", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    )
    assert seen == {"scheme": "https", "remote": "203.0.113.9"}


def test_an_app_given_a_secret_key_makes_none_in_its_instance_folder(monkeypatch):
    def refuse(instance_path: str) -> str:
        raise AssertionError(f"a key was made in {instance_path} although one was given")

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(config, "secret_key", refuse)
    app = create_app({"SECRET_KEY": "given", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == "given"
