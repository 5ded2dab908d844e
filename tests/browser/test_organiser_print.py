"""The organiser prints in Chromium: the rally page shows the address the codes will lead to and
warns loudly (with a confirmation before each export) when phones cannot reach it; the poster
look is set with a colour and a logo, and the start poster wears them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import readme_image
from tests.server.organiser_helpers import decode_all, pdf_pages
from tests.server.test_exports_look import logo_png

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
LOOPBACK = "http://127.0.0.1:5301"


@pytest.fixture
def app(make_app):
    return make_app(PUBLIC_BASE_URL=LOOPBACK)


@pytest.fixture
def slug(app, demo) -> str:
    from server import models
    from server.auth import create_user

    with app.app_context():
        create_user("olga", PASSWORD, models.Role.ORGANISER, language="en")
    return demo[0]


def log_in(page: Page, base: str, slug: str) -> None:
    page.goto(f"{base}/login?lang=en&next=/organiser/{slug}/")
    page.fill("#username", "olga")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/organiser/{slug}/$"))


def test_the_rally_page_warns_and_asks_before_exporting(page, live_server, slug, artifacts):
    log_in(page, live_server, slug)
    box = page.locator("#print-address")
    expect(box).to_have_attribute("role", "alert")
    expect(page.locator("#print-url")).to_have_text(LOOPBACK)
    expect(box).to_contain_text("is this computer itself: phones cannot reach it")
    box.screenshot(path=str(artifacts / "organiser-address-warning.png"))
    readme_image(artifacts / "organiser-address-warning.png", "organiser-address-warning.png")

    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    downloads: list = []
    page.on("download", lambda download: downloads.append(download))
    page.click("a.qr-export >> nth=0")
    page.wait_for_timeout(500)
    assert asked == [
        f"The codes will lead to {LOOPBACK}; phones will probably not reach it. Export anyway?"
    ]
    assert downloads == []

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_download() as info:
        page.click("a.qr-export >> text=Start poster (PDF)")
    data = info.value.path().read_bytes()
    (image,) = pdf_pages(data)
    assert decode_all(image)[0][0] == f"{LOOPBACK}/play/{slug}"
    assert page.script_errors == []


def test_the_poster_look_is_set_on_the_rally_page(page, live_server, slug, artifacts, tmp_path):
    log_in(page, live_server, slug)
    logo = tmp_path / "logo.png"
    logo.write_bytes(logo_png())
    page.fill("#poster-colour", "#8a1538")
    page.uncheck("input[name=no_colour]")
    page.set_input_files("#poster-logo", str(logo))
    with page.expect_navigation():
        page.click("#poster button[type=submit]")
    expect(page.locator("p.flash:not([hidden])")).to_contain_text("The poster look is saved.")
    expect(page.locator("img.poster-logo")).to_be_visible()
    expect(page.locator("#poster-colour")).to_have_value("#8a1538")
    page.locator("#poster").screenshot(path=str(artifacts / "organiser-poster-look.png"))

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"<svg onload=alert(1)>")
    page.set_input_files("#poster-logo", str(bad))
    page.click("#poster button[type=submit]")
    expect(page.locator("#poster-error")).to_have_text("This is not a JPEG or PNG image.")
    expect(page.locator("#poster-logo")).to_have_attribute("aria-invalid", "true")
    assert page.script_errors == []
