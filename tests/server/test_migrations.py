"""The migrations: they build on an empty database exactly the schema the models describe."""

from __future__ import annotations

import logging

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from server import create_app, models
from server.cli import seed_demo
from server.extensions import db, migrations


def _wipe() -> None:
    """Every table of ours and alembic's bookkeeping, gone."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def keep_logging():
    """Alembic's env.py reconfigures logging; give the other tests theirs back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    disabled = {
        name: lg.disabled
        for name, lg in logging.root.manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, was in disabled.items():
        logging.getLogger(name).disabled = was


@pytest.fixture
def empty_app(database_url, tmp_path, keep_logging):
    """An app on a database with no tables at all."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MEDIA_DIR": str(tmp_path / "media"),
            "RATELIMIT_ENABLED": False,
        }
    )
    migrations(app)
    with app.app_context():
        _wipe()
        assert inspect(db.engine).get_table_names() == []
    yield app
    with app.app_context():
        db.session.remove()
        _wipe()
        db.engine.dispose()


def _differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        return compare_metadata(context, db.metadata)


def test_upgrade_builds_the_models_schema(empty_app):
    with empty_app.app_context():
        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert tables == set(db.metadata.tables) | {"alembic_version"}
        assert _differences() == []


def test_upgrade_reaches_the_single_head(empty_app):
    with empty_app.app_context():
        flask_migrate.upgrade()
        script = ScriptDirectory.from_config(
            empty_app.extensions["migrate"].migrate.get_config(
                empty_app.extensions["migrate"].directory
            )
        )
        heads = script.get_heads()
        assert len(heads) == 1, f"several migration heads: {heads}"
        with db.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_heads() == tuple(heads)


def test_comparison_notices_a_missing_column(empty_app):
    """The check above can fail: a schema one column short is reported."""
    with empty_app.app_context():
        flask_migrate.upgrade()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE audit_entry"))
        differences = _differences()
        assert any(d[0] == "add_table" and d[1].name == "audit_entry" for d in differences)


def test_downgrade_to_base_removes_everything(empty_app):
    with empty_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        assert _differences() == []


def test_migrated_schema_takes_the_demo(empty_app):
    with empty_app.app_context():
        flask_migrate.upgrade()
    result = empty_app.test_cli_runner().invoke(seed_demo)
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        rally = db.session.query(models.Rally).one()
        assert len(rally.stops) == 10
        assert rally.published_at.tzinfo is not None


def test_texts_become_language_maps_and_back(empty_app):
    """8c4f2b1d6e07 keeps every text: per-language columns become maps, and back on downgrade."""
    with empty_app.app_context():
        flask_migrate.upgrade(revision="5d1c0a7e9b21")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO marker (id, lat, lon, radius_m, title_de, title_en, clue_de,"
                    " clue_en, story_de, story_en, source, created_at, updated_at) VALUES"
                    " (7, 49.4, 7.7, 25, 'Brunnen', 'Fountain', 'Wasser', 'Water', 'Alt',"
                    " 'Old', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        flask_migrate.upgrade()
        marker = db.session.get(models.Marker, 7)
        assert marker.text("title") == {"de": "Brunnen", "en": "Fountain"}
        assert marker.text("story") == {"de": "Alt", "en": "Old"}
        marker.set_text("clue", {"de-x-ls": "Wasser. Sucht das Wasser."})
        db.session.commit()
        db.session.remove()
        flask_migrate.downgrade(revision="5d1c0a7e9b21")
        with db.engine.connect() as connection:
            row = connection.execute(
                text("SELECT title_de, title_en, clue_de FROM marker WHERE id = 7")
            ).one()
        assert tuple(row) == ("Brunnen", "Fountain", "Wasser")
