"""The `artcaching` command: seeding, accounts, signing keys, rally import, purging old fixes."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from markers import tokens
from routes import rallyfile
from server import auth, game, models
from server.cli import (
    import_rally,
    keys,
    purge_fixes,
    seed_demo,
    users,
)
from server.extensions import db
from tests.conftest import ROOT, console_script

ARTCACHING = console_script("artcaching")
LOGIN = re.compile(r"user 'curator', password '([^']+)'")


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            cls.__name__: db.session.scalar(select(func.count()).select_from(cls))
            for cls in (
                models.Rally,
                models.RallyStop,
                models.Marker,
                models.Venue,
                models.User,
                models.SigningKey,
            )
        }


def assert_clean_failure(result, *expected: str, exit_code: int = 1) -> None:
    """A click error: a message, the exit code, no traceback."""
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output


def test_seed_demo_loads_the_published_demo_rally(app, runner):
    result = runner.invoke(seed_demo)
    assert result.exit_code == 0, result.output
    assert "10 stops" in result.output
    with app.app_context():
        rally = db.session.scalars(select(models.Rally)).one()
        assert rally.slug == "art-caching-kaiserslautern"
        assert rally.status is models.RallyStatus.PUBLISHED
        assert rally.published_at is not None
        assert len(rally.stops) == 10
        assert rally.solution_word == "BARBAROSSA"
        demo = rallyfile.demo_rally()
        assert [s.marker.text("title") for s in rally.stops] == [
            dict(s.marker.title) for s in demo.stops
        ]
        gallery = db.session.scalars(
            select(models.Venue).filter_by(name="Museum Pfalzgalerie")
        ).one()
        assert gallery.lat is None and gallery.lon is None
        assert len(game.keyring().keys) == 1


def test_seed_demo_prints_a_working_login_once(app, runner):
    first = runner.invoke(seed_demo)
    match = LOGIN.search(first.output)
    assert match, first.output
    password = match.group(1)
    assert len(password) >= auth.MIN_PASSWORD_LENGTH
    with app.app_context():
        user = db.session.scalars(select(models.User)).one()
        assert user.has_role(models.Role.CURATOR)
        assert auth.check_password(user, password)
    second = runner.invoke(seed_demo)
    assert second.exit_code == 0
    assert password not in second.output
    assert "password '" not in second.output
    assert "exists already" in second.output
    client = app.test_client()
    response = client.post("/login", data={"username": "curator", "password": password})
    assert response.status_code == 302


def test_seed_demo_is_idempotent(app, runner):
    runner.invoke(seed_demo)
    before = counts(app)
    assert before["Rally"] == 1 and before["RallyStop"] == 10 and before["Marker"] == 10
    assert before["Venue"] == len(rallyfile.load_venues()) + 1
    again = runner.invoke(seed_demo)
    assert again.exit_code == 0, again.output
    assert "there already" in again.output
    assert "venues added" not in again.output
    assert counts(app) == before


@pytest.mark.parametrize("role", [r.value for r in models.Role])
def test_users_create_with_each_role(app, runner, role):
    result = runner.invoke(
        users,
        ["create", "Anna", "--role", role, "--password", "a long password", "--language", "en"],
    )
    assert result.exit_code == 0, result.output
    assert f"created with role {role}" in result.output
    with app.app_context():
        user = db.session.scalars(select(models.User)).one()
        assert (user.username, user.role.value, user.language) == ("Anna", role, "en")
        assert user.password_hash.startswith("$argon2")
    listing = runner.invoke(users, ["list"])
    assert listing.output == f"Anna\t{role}\tactive\n"


def test_users_create_reads_the_password_from_a_prompt(app, runner):
    result = runner.invoke(
        users,
        ["create", "bert", "--role", "organiser"],
        input="ein geheimes Wort\nein geheimes Wort\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(select(models.User)).one()
        assert auth.check_password(user, "ein geheimes Wort")


@pytest.mark.parametrize(
    ("args", "message", "exit_code"),
    [
        (
            ["create", "kurz", "--role", "curator", "--password", "123456789"],
            "Error: The password must have at least 10 characters.",
            1,
        ),
        (
            ["create", "ANNA", "--role", "curator", "--password", "another password"],
            "Error: An account called “ANNA” exists already.",
            1,
        ),
        (
            ["create", "x" * 81, "--role", "curator", "--password", "another password"],
            "Error: The user name must have 1 to 80 characters.",
            1,
        ),
        (
            ["create", "neu", "--role", "king", "--password", "another password"],
            "'king' is not one of 'curator', 'organiser', 'admin'",
            2,
        ),
        (["create", "neu", "--password", "another password"], "Missing option '--role'", 2),
        (
            ["set-password", "niemand", "--password", "another password"],
            "Error: There is no account called “niemand”.",
            1,
        ),
        (
            ["set-password", "anna", "--password", "short"],
            "Error: The password must have at least 10 characters.",
            1,
        ),
    ],
)
def test_users_errors_are_clear(app, runner, args, message, exit_code):
    runner.invoke(users, ["create", "anna", "--role", "admin", "--password", "first password"])
    before = counts(app)
    result = runner.invoke(users, args)
    assert_clean_failure(result, message, exit_code=exit_code)
    assert counts(app) == before
    with app.app_context():
        user = db.session.scalars(select(models.User)).one()
        assert auth.check_password(user, "first password")


def test_users_set_password(app, runner):
    runner.invoke(users, ["create", "Anna", "--role", "curator", "--password", "first password"])
    result = runner.invoke(users, ["set-password", "anna", "--password", "second password"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(select(models.User)).one()
        assert auth.check_password(user, "second password")
        assert not auth.check_password(user, "first password")


def test_keys_rotate_keeps_printed_codes_valid(app, runner, demo):
    _slug, rally_id = demo
    with app.app_context():
        marker_id = db.session.get(models.Rally, rally_id).stops[0].marker_id
        old = game.keyring().sign(rally_id, marker_id)
    result = runner.invoke(keys, ["rotate"])
    assert result.exit_code == 0, result.output
    assert "key 2 is now active" in result.output
    with app.app_context():
        ring = game.keyring()
        assert ring.verify(old) == tokens.TokenClaims(rally_id, marker_id, 1)
        new = ring.sign(rally_id, marker_id)
        assert ring.verify(new).key_id == 2
        assert game.qr_url_for(rally_id, marker_id).endswith(f"/q/{new}")
    assert runner.invoke(keys, ["list"]).output == "1\tvalid\n2\tactive\n"
    assert app.test_client().get(f"/q/{old}").status_code == 200


def test_keys_retire_invalidates_old_codes(app, runner, demo):
    _slug, rally_id = demo
    with app.app_context():
        marker_id = db.session.get(models.Rally, rally_id).stops[0].marker_id
        old = game.keyring().sign(rally_id, marker_id)
    runner.invoke(keys, ["rotate"])
    with app.app_context():
        new = game.keyring().sign(rally_id, marker_id)
    refused = runner.invoke(keys, ["retire", "2"])
    assert_clean_failure(refused, "key 2 is the active key; rotate before retiring it")
    unknown = runner.invoke(keys, ["retire", "9"])
    assert_clean_failure(unknown, "no key with id 9")
    result = runner.invoke(keys, ["retire", "1"])
    assert result.exit_code == 0, result.output
    assert "key 1 retired" in result.output
    with app.app_context():
        ring = game.keyring()
        with pytest.raises(tokens.TokenError) as excinfo:
            ring.verify(old)
        assert excinfo.value.code is tokens.TokenErrorCode.RETIRED_KEY
        assert ring.verify(new).key_id == 2
    page = app.test_client().get(f"/q/{old}", headers={"Accept-Language": "en"})
    assert page.status_code == 404
    assert "replaced" in page.get_data(as_text=True)
    assert runner.invoke(keys, ["list"]).output == "1\tretired\n2\tactive\n"


def test_keys_retire_needs_a_number(runner):
    assert_clean_failure(
        runner.invoke(keys, ["retire", "eins"]), "'eins' is not a valid integer", exit_code=2
    )


def test_import_rally_as_draft_and_published(app, runner, tmp_path):
    result = runner.invoke(import_rally, [str(rallyfile.DEMO_RALLY_PATH)])
    assert result.exit_code == 0, result.output
    assert "with 10 stops (draft)" in result.output
    data = json.loads(rallyfile.DEMO_RALLY_PATH.read_text(encoding="utf-8"))
    data["slug"] = "zweite-runde"
    other = tmp_path / "zweite.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    published = runner.invoke(import_rally, [str(other), "--publish"])
    assert published.exit_code == 0, published.output
    with app.app_context():
        rows = {r.slug: r.status for r in db.session.scalars(select(models.Rally))}
    assert rows == {
        "art-caching-kaiserslautern": models.RallyStatus.DRAFT,
        "zweite-runde": models.RallyStatus.PUBLISHED,
    }


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "invalid JSON"),
        ("{", "line 1"),
        ("[]", "a rally file must hold a JSON object"),
        ("{}", "format"),
        ('{"format": "art-caching-rally/1"}', "is required"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_import_rally_bad_file_gives_a_clear_message(app, runner, tmp_path, content, problem):
    path = tmp_path / "kaputt.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    before = counts(app)
    result = runner.invoke(import_rally, [str(path)])
    assert_clean_failure(result, str(path), problem)
    assert counts(app) == before


def test_import_rally_bad_stop_names_the_field(app, runner, tmp_path):
    data = json.loads(rallyfile.DEMO_RALLY_PATH.read_text(encoding="utf-8"))
    data["markers"][0]["lat"] = 91.5
    path = tmp_path / "breite.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(import_rally, [str(path)])
    assert_clean_failure(result, "markers[0]", "91.5")
    assert counts(app)["Rally"] == 0


def test_import_rally_refuses_a_taken_slug_and_missing_files(app, runner, tmp_path):
    runner.invoke(import_rally, [str(rallyfile.DEMO_RALLY_PATH)])
    before = counts(app)
    again = runner.invoke(import_rally, [str(rallyfile.DEMO_RALLY_PATH)])
    assert_clean_failure(again, "'art-caching-kaiserslautern' exists already")
    assert counts(app) == before
    missing = runner.invoke(import_rally, [str(tmp_path / "fehlt.json")])
    assert_clean_failure(missing, "does not exist", exit_code=2)


def test_purge_fixes_forgets_only_old_fixes(app, runner, demo):
    _slug, rally_id = demo
    now = datetime.now(UTC)
    with app.app_context():
        for name, age in (
            ("alt", timedelta(hours=30)),
            ("frisch", timedelta(hours=1)),
            ("ohne", None),
        ):
            team = models.Team(rally_id=rally_id, name=name, join_code=models.Team.new_join_code())
            if age is not None:
                team.last_lat, team.last_lon = 49.4447, 7.7690
                team.last_accuracy_m, team.last_fix_at = 8.0, now - age
            db.session.add(team)
        db.session.commit()
    result = runner.invoke(purge_fixes)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 teams' fixes older than 24 h forgotten")
    with app.app_context():
        rows = {t.name: t for t in db.session.scalars(select(models.Team))}
        old, fresh, none = rows["alt"], rows["frisch"], rows["ohne"]
        assert (old.last_lat, old.last_lon, old.last_accuracy_m, old.last_fix_at) == (
            None,
            None,
            None,
            None,
        )
        assert (fresh.last_lat, fresh.last_lon, fresh.last_accuracy_m) == (49.4447, 7.7690, 8.0)
        assert fresh.last_fix_at == now - timedelta(hours=1)
        assert none.last_fix_at is None
    assert runner.invoke(purge_fixes).output.startswith("0 teams'")


def test_commands_without_tables_say_what_to_do(runner):
    app = runner.app
    with app.app_context():
        db.drop_all()
    for command, args in (
        (seed_demo, []),
        (users, ["list"]),
        (keys, ["rotate"]),
        (purge_fixes, []),
    ):
        result = runner.invoke(command, args)
        assert_clean_failure(result, "artcaching db upgrade")
    with app.app_context():
        db.create_all()


def _environment(tmp_path, database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "RULES_", "SESSION_"))
        and k not in ("DATABASE_URL", "PUBLIC_BASE_URL", "MEDIA_DIR")
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="subprocess-secret-key",
        PUBLIC_BASE_URL="https://artcaching.example.org",
        MEDIA_DIR=str(tmp_path / "media"),
    )
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ARTCACHING), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_console_script_help_lists_the_commands():
    result = subprocess.run(
        [str(ARTCACHING), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    for command in ("seed-demo", "import-rally", "users", "keys", "purge-fixes", "db", "run"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command


def test_console_script_upgrades_and_seeds_end_to_end(tmp_path):
    database = tmp_path / "x.db"
    env = _environment(tmp_path, f"sqlite:///{database}")
    upgrade = _run(env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    seeded = _run(env, "seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    assert "10 stops" in seeded.stdout
    assert LOGIN.search(seeded.stdout)
    assert "Traceback" not in seeded.stderr
    again = _run(env, "seed-demo")
    assert again.returncode == 0, again.stderr
    assert "there already" in again.stdout
    with sqlite3.connect(database) as con:
        assert con.execute("select count(*) from rally_stop").fetchone() == (10,)
        assert con.execute("select status from rally").fetchall() == [("published",)]
        assert con.execute("select version_num from alembic_version").fetchone()[0]
    failed = _run(
        env, "users", "create", "curator", "--role", "admin", "--password", "long enough password"
    )
    assert failed.returncode == 1
    assert "Error: An account called “curator” exists already." in failed.stderr
    assert "Traceback" not in failed.stderr


MIGRATION_MODULES = """
import sys
from server import create_app
from server.cli import main
from server.extensions import db

def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in ("alembic", "flask_migrate"))

app = create_app()
with app.app_context():
    db.create_all()
for args in (["seed-demo"], ["export-qr", "art-caching-kaiserslautern", "-o", sys.argv[1]]):
    main(args, standalone_mode=False)
print("before db:", loaded())
main(["db", "heads"], standalone_mode=False)
print("after db:", bool(loaded()))
"""


def test_only_the_db_commands_import_alembic(tmp_path):
    """Flask-Migrate (and alembic with it) waits for a `db` command: the app and every other
    command start without it."""
    env = _environment(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    result = subprocess.run(
        [str(ARTCACHING.parent / "python"), "-c", MIGRATION_MODULES, str(tmp_path / "qr.pdf")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "before db: []" in result.stdout
    assert "after db: True" in result.stdout
    assert "(head)" in result.stdout  # the db commands still work
    assert (tmp_path / "qr.pdf").stat().st_size > 0
