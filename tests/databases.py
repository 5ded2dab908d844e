"""Test databases: the schema and the demo rally built once per process, copied for every test.

SQLite: two template files (the schema; the schema with the demo), copied per test with
``shutil.copyfile``. PostgreSQL: one database per process, named after the pid so that parallel
runs on one server never meet; between tests its rows are deleted, the demo's rows inserted
again from a snapshot and the sequences set, which is ten times faster than dropping and creating
the schema (or a database). A database whose tables are no longer the models' (a test dropped
one, ran the migrations, or asked for an empty database) is made again from a template database.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Template = Literal["empty", "schema", "demo"]
"""What a test database holds: nothing, the tables, or the tables and the published demo."""

TEST_SETTINGS: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "PUBLIC_BASE_URL": "https://artcaching.example.org",
    "RATELIMIT_ENABLED": False,
    "WTF_CSRF_ENABLED": False,
}
"""The settings of every test app (tests add SQLALCHEMY_DATABASE_URI, MEDIA_DIR and theirs)."""


@dataclass(frozen=True)
class DemoRally:
    """Where the demo rally is in a database copied from the demo template."""

    slug: str
    rally_id: int


def _template_app(url: str, folder: Path) -> Any:
    from server import create_app

    return create_app(
        {**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url, "MEDIA_DIR": str(folder / "media")}
    )


def _build(url: str, folder: Path, demo: bool) -> DemoRally | None:
    """Create the tables (and seed the demo) in the database at url; all connections closed."""
    from server import seed
    from server.extensions import db

    app = _template_app(url, folder)
    with app.app_context():
        try:
            db.create_all()
            if not demo:
                return None
            rally = seed.demo()
            db.session.commit()
            return DemoRally(rally.slug, rally.id)
        finally:
            db.session.remove()
            db.engine.dispose()


class SqliteTemplates:
    """The schema and the demo as two SQLite files, copied into each test's own file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.files = {"schema": folder / "schema.sqlite3", "demo": folder / "demo.sqlite3"}
        _build(f"sqlite:///{self.files['schema']}", folder, demo=False)
        shutil.copyfile(self.files["schema"], self.files["demo"])
        demo = _build(f"sqlite:///{self.files['demo']}", folder, demo=True)
        assert demo is not None
        self.demo = demo

    def copy(self, target: Path, template: Template) -> None:
        """Make the file at target hold the template (no engine may have it open)."""
        for stale in (
            target,
            target.with_name(target.name + "-wal"),
            target.with_name(target.name + "-shm"),
        ):
            stale.unlink(missing_ok=True)
        if template != "empty":
            shutil.copyfile(self.files[template], target)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class PostgresDatabase:
    """This process's PostgreSQL test database and a template of the schema beside it."""

    def __init__(self, url: str, folder: Path) -> None:
        import psycopg
        from sqlalchemy import create_engine

        from server.config import database_url
        from server.extensions import db

        self.admin = psycopg.connect(url, autocommit=True)
        prefix = f"t_{os.getpid()}"
        self.name, self.template = f"{prefix}_test", f"{prefix}_schema"
        server = database_url(url, str(folder)).rsplit("/", 1)[0]
        self.url = f"{server}/{self.name}"
        self._drop(self.template)
        self._execute(f'CREATE DATABASE "{self.template}"')
        _build(f"{server}/{self.template}", folder, demo=False)
        self.tables = list(db.metadata.sorted_tables)
        self._recreate(self.name, self.template)
        demo = _build(self.url, folder, demo=True)
        assert demo is not None
        self.demo = demo
        self.engine = create_engine(self.url, pool_size=1, pool_pre_ping=True)
        with self.engine.connect() as conn:
            self.demo_rows = {
                t.name: [dict(r._mapping) for r in conn.execute(t.select())] for t in self.tables
            }
        self._sequences = self._sequence_sql()
        self.dirty = False

    def _execute(self, sql: str) -> None:
        self.admin.execute(sql)  # type: ignore[arg-type]

    def _drop(self, name: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _recreate(self, name: str, template: str) -> None:
        self._drop(name)
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def _sequence_sql(self) -> str:
        """One statement that sets every serial sequence just past its table's largest id."""
        from sqlalchemy import Integer

        parts = []
        for table in self.tables:
            key = list(table.primary_key.columns)
            if (
                len(key) == 1
                and key[0].autoincrement is not False
                and isinstance(key[0].type, Integer)
            ):
                column = key[0]
                parts.append(
                    f"setval(pg_get_serial_sequence('\"{table.name}\"', '{column.name}'), "
                    f'(SELECT COALESCE(MAX("{column.name}"), 0) + 1 FROM "{table.name}"), '
                    "false)"
                )
        return "SELECT " + ", ".join(parts)

    def reset(self, template: Template) -> None:
        """Make the database hold the template; the tests' engines on it must be disposed."""
        from sqlalchemy.exc import DBAPIError

        if template == "empty":
            self.engine.dispose()
            self._drop(self.name)
            self._execute(f'CREATE DATABASE "{self.name}"')
            self.dirty = True
            return
        if not self.dirty:
            try:
                if self._refill(template):
                    return
            except DBAPIError:  # a lock held by a connection a test left behind
                pass
        self.engine.dispose()
        self._recreate(self.name, self.template)
        self.dirty = False
        if not self._refill(template):
            raise RuntimeError(f"{self.template} does not hold the models' tables")

    def _refill(self, template: Template) -> bool:
        """Delete every row, insert the demo's if asked, set the sequences; False (and nothing
        done) when the tables are not the models' ones."""
        from sqlalchemy import text

        with self.engine.connect() as conn, conn.begin() as transaction:
            present = set(
                conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            )
            if present != {t.name for t in self.tables}:
                transaction.rollback()
                return False
            conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            for table in reversed(self.tables):
                conn.execute(table.delete())
            if template == "demo":
                for table in self.tables:
                    if rows := self.demo_rows[table.name]:
                        conn.execute(table.insert(), rows)
            conn.execute(text(self._sequences))
        return True

    def close(self) -> None:
        self.engine.dispose()
        self._drop(self.name)
        self._drop(self.template)
        self.admin.close()


class Templates:
    """This process's templates, built on first use: SQLite always, PostgreSQL when configured."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="artcaching-templates-"))
        self._sqlite: SqliteTemplates | None = None
        self._postgres: PostgresDatabase | None = None

    @property
    def sqlite(self) -> SqliteTemplates:
        if self._sqlite is None:
            self._sqlite = SqliteTemplates(self.folder / "sqlite")
        return self._sqlite

    @property
    def postgres(self) -> PostgresDatabase:
        if self._postgres is None:
            (self.folder / "postgres").mkdir(exist_ok=True)
            self._postgres = PostgresDatabase(
                os.environ["TEST_DATABASE_URL"], self.folder / "postgres"
            )
        return self._postgres

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.close()
        shutil.rmtree(self.folder, ignore_errors=True)


_templates: Templates | None = None


def templates() -> Templates:
    """The templates of this process (each xdist worker is a process of its own)."""
    global _templates
    if _templates is None:
        _templates = Templates()
    return _templates


def close_templates() -> None:
    """Drop what templates() made (the end of the session)."""
    global _templates
    if _templates is not None:
        _templates.close()
        _templates = None


class TestDatabase:
    """The database of one test: a SQLite file of its own, or this process's PostgreSQL one."""

    __test__ = False

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.file = folder / "test.sqlite3"
        if backend == "sqlite":
            self.url = f"sqlite:///{self.file}"
            self.demo = templates().sqlite.demo
        else:
            self._postgres = templates().postgres
            self.url = self._postgres.url
            self.demo = self._postgres.demo

    def fill(self, template: Template) -> None:
        """Make the database hold the template; no engine may be connected to it."""
        if self.backend == "sqlite":
            templates().sqlite.copy(self.file, template)
        else:
            self._postgres.reset(template)


def sqlite_copy(target: Path, template: Template = "demo") -> str:
    """A SQLite file at target holding the template; its SQLAlchemy URL."""
    templates().sqlite.copy(target, template)
    return f"sqlite:///{target}"
