"""Shared test settings: paths, and the CI rule that skips fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "assets" / "schemas"
ASSETS = ROOT / "assets"
ARTIFACTS = ROOT / "artifacts"


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (``CI`` set) a skipped test fails: every dependency must be installed there."""
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must have every dependency: {reason}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _database_urls() -> list[str]:
    urls = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        urls.append("postgresql")
    return urls


@pytest.fixture(params=_database_urls())
def database_url(request, tmp_path) -> str:
    """A SQLite file per test, and (when TEST_DATABASE_URL is set) the same on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    from server.config import database_url as normalise

    return normalise(os.environ["TEST_DATABASE_URL"], str(tmp_path))


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on the test database with extra settings; tables made and dropped."""
    from server import create_app
    from server.extensions import db

    made = []

    def make(**config):
        settings = {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PUBLIC_BASE_URL": "https://artcaching.example.org",
            "MEDIA_DIR": str(tmp_path / "media"),
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            **config,
        }
        app = create_app(settings)
        with app.app_context():
            db.drop_all()
            db.create_all()
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


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
def demo(app):
    """The Kaiserslautern demo rally, published, as the server keeps it: (slug, rally id)."""
    from routes import rallyfile
    from server import models, seed
    from server.extensions import db

    with app.app_context():
        seed.import_venues(rallyfile.load_venues())
        rf = rallyfile.read_rally_file(rallyfile.DEMO_RALLY_PATH, rallyfile.load_venues())
        row = seed.import_rally(rf, status=models.RallyStatus.PUBLISHED)
        db.session.commit()
        return row.slug, row.id


CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def live_server(app):
    """The app served by a real threaded HTTP server on 127.0.0.1; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


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


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page; every request it makes is in ``page.requests_seen``."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.requests_seen = []
    page.on("request", lambda r: page.requests_seen.append(r.url))
    page.set_default_timeout(15000)
    yield page
    context.close()
