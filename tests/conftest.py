"""Shared test settings and fixtures: paths, the CI rule that skips fail, the test databases
(copied from templates, see tests/databases.py), apps, a live server and a browser."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import databases
from tests.live import serve

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "assets" / "schemas"
ASSETS = ROOT / "assets"
ARTIFACTS = ROOT / "artifacts"


UPDATE_IMAGES = "ARTCACHING_UPDATE_IMAGES"
"""Set to 1 to let the UI tests refresh the README's pictures in docs/images (make screenshots)."""


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def console_script(name: str) -> Path:
    """An installed command of this environment (beside the running Python), e.g. artcaching."""
    beside = Path(sys.executable).parent / name
    return beside if beside.exists() else Path(shutil.which(name) or beside)


def readme_image(shot: Path, name: str) -> None:
    """Copy a screenshot to docs/images/<name> when ARTCACHING_UPDATE_IMAGES=1 or it is missing;
    otherwise the tracked picture stays as it is."""
    target = ROOT / "docs" / "images" / name
    if os.environ.get(UPDATE_IMAGES) == "1" or not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (``CI`` set) a skipped test fails: every dependency must be installed there."""
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must have every dependency: {reason}"


KIVY_FILES = ("tests/client/test_ui_", "tests/e2e/")
"""The files whose tests open Kivy windows: they share the artifacts/client-ui folder and costly
module-scoped runs, and their timed walks should not compete with each other for the cores."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` (each file in one worker), except that the Kivy files all go to one
    worker, one after another."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class KivyTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "kivy" if nodeid.startswith(KIVY_FILES) else super()._split_scope(nodeid)

    return KivyTogether(config, log)


@pytest.fixture(autouse=True)
def _light_password_hashing(request, monkeypatch) -> None:
    """Argon2 with light parameters (about 1 ms, not 0.2 s a hash), as Django's tests use a fast
    hasher; tests marked ``real_argon2`` keep the production parameters."""
    if "real_argon2" in request.keywords or "server" not in sys.modules:
        return
    from argon2 import PasswordHasher

    from server import auth

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


@pytest.fixture(scope="session", autouse=True)
def _database_templates() -> Iterator[None]:
    """The schema and demo templates (built on first use) are dropped when the session ends."""
    yield
    databases.close_templates()


@pytest.fixture(params=_backends())
def test_database(request, tmp_path) -> databases.TestDatabase:
    return databases.TestDatabase(request.param, tmp_path)


@pytest.fixture
def database_url(request, test_database) -> str:
    """A SQLite file per test, and (when TEST_DATABASE_URL is set) the same on PostgreSQL; empty
    unless the test makes apps (make_app fills it)."""
    if "make_app" not in request.fixturenames:
        test_database.fill("empty")
    return test_database.url


@pytest.fixture
def make_app(request, test_database, tmp_path):
    """Build an app with extra settings on the test database, freshly copied from the schema
    template (or from the demo template when the test uses ``demo``)."""
    from server import create_app
    from server.extensions import db

    template = "demo" if "demo" in request.fixturenames else "schema"
    made = []

    def close(app) -> None:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    def make(**config):
        for earlier in made:
            close(earlier)
        test_database.fill(template)
        app = create_app(
            {
                **databases.TEST_SETTINGS,
                "SQLALCHEMY_DATABASE_URI": test_database.url,
                "MEDIA_DIR": str(tmp_path / "media"),
                **config,
            }
        )
        made.append(app)
        return app

    yield make
    for app in made:
        close(app)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(make_app, test_database) -> tuple[str, int]:
    """The Kaiserslautern demo rally, published, as the server keeps it: (slug, rally id). The
    apps of a test that uses it start on a copy of the demo template."""
    return test_database.demo.slug, test_database.demo.rally_id


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served by a real threaded HTTP server on 127.0.0.1; yields its base URL."""
    with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (no browser download)."""
    import shutil

    sync_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (make test installs it as root)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def browser_page(browser) -> Iterator:
    """A fresh page in a context of its own, closed when the block ends; every request it makes
    is in ``page.requests_seen``, every script error in ``page.script_errors``."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.requests_seen = []
    page.on("request", lambda r: page.requests_seen.append(r.url))
    page.script_errors = []
    page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))
    page.set_default_timeout(15000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page on the live server's app (see browser_page)."""
    with browser_page(browser) as page:
        yield page
