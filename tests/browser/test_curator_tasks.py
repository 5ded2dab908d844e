"""The rally editor's stop contents in a real browser: a choice task with hints and a clue in
Leichte Sprache written, refused where wrong, saved, seen again after a reload, shown in the
phone preview; and the rally copied."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import test_curator_editor as base
from tests.conftest import readme_image

pytestmark = pytest.mark.browser

curator_world, small_rally = base.curator_world, base.small_rally
"""The fixtures of the editor's browser tests: anna's markers, her short rally (ART)."""

HOSTILE = '<b>Which</b> colour? <img src=x onerror="window.hacked=1">'


def stop_row(app, rally_id: int, position: int):
    from server.extensions import db
    from server.models import Rally

    with app.app_context():
        s = db.session.get(Rally, rally_id).stops[position]
        return s.text("clue"), s.clue_from, s.task, s.hints


def test_a_choice_task_with_hints_is_written_saved_and_previewed(
    app, live_server, page: Page, curator_world, small_rally, artifacts
):
    ids = curator_world
    base.serve_tiles(page)
    base.log_in(page, live_server)
    base.open_rally(page, live_server, small_rally)
    page.click("#stop1-more > summary")
    expect(page.locator("#stop1-clue-de-x-ls")).to_be_visible()
    expect(page.locator("label[for=stop1-clue-de-x-ls]")).to_contain_text("Leichte Sprache")
    page.fill("#stop1-clue-de", "Geh zur Kirche mit den zwei Türmen.")
    page.fill("#stop1-clue-en", "Walk to the church with two towers.")
    page.fill("#stop1-clue-de-x-ls", "Geh zur Kirche. Die Kirche hat 2 Türme.")
    page.select_option("#stop1-type", "choice")
    page.fill("#stop1-q-de", "Welche Farbe hat das Dach?")
    page.fill("#stop1-q-en", HOSTILE)
    page.fill("#stop1-q-de-x-ls", "Welche Farbe hat das Dach?")
    for n, (de, en) in enumerate([("Rot", "Red"), ("Grün", "Green")]):
        page.fill(f"#stop1-opt{n}-de", de)
        page.fill(f"#stop1-opt{n}-en", en)
    page.click("#stop1-more button.add-option")
    expect(page.locator("#stop1-options > li")).to_have_count(3)

    # no right answer marked: the form says so before sending anything
    page.click("#stop1-more button.save-stop")
    expect(page.locator("#stop1-error")).to_have_text("Please mark the right answer.")
    page.check("#stop1-options > li:nth-child(2) input.right")
    # the third answer is still empty: the server refuses it and the field is marked
    page.click("#stop1-more button.save-stop")
    expect(page.locator("#stop1-error")).to_contain_text("stops.1.task.options.2")
    expect(page.locator("#stop1-opt2-de")).to_have_attribute("aria-invalid", "true")
    assert stop_row(app, small_rally, 1)[2] is None
    page.click("#stop1-options > li:nth-child(3) button.remove")
    expect(page.locator("#stop1-options > li")).to_have_count(2)

    page.fill("#stop1-points", "80")
    page.select_option("#stop1-letter", "answer")
    for _ in range(2):
        page.click("#stop1-more button.add-hint")
    expect(page.locator("#stop1-more button.add-hint")).to_be_enabled()
    page.click("#stop1-more button.add-hint")
    expect(page.locator("#stop1-more button.add-hint")).to_be_disabled()
    page.click("#stop1-hints > li:nth-child(3) button.remove")
    page.fill("#stop1-hint0-de", "Schau nach oben.")
    page.fill("#stop1-hint0-en", "Look up.")
    page.fill("#stop1-hint0-de-x-ls", "Schau nach oben zum Dach.")
    page.fill("#stop1-hint0-cost", "5")
    page.fill("#stop1-hint1-de", "Wie Gras.")
    page.fill("#stop1-hint1-en", "Like grass.")
    page.click("#stop1-more button.save-stop")
    expect(page.locator("#status")).to_contain_text("Stop 2 saved.")
    expect(page.locator("#stop1-more > summary")).to_contain_text("Task: Choice")

    clue, clue_from, task, hints = stop_row(app, small_rally, 1)
    assert clue["de-x-ls"] == "Geh zur Kirche. Die Kirche hat 2 Türme."
    assert clue_from == ids["Fruchthalle"]
    assert task["question"]["en"] == HOSTILE and task["answer"] == 1
    assert [o["en"] for o in task["options"]] == ["Red", "Green"]
    assert (task["points"], task["attempts"], task["letter"]) == (80, 3, "answer")
    assert hints == [
        {
            "text": {
                "de": "Schau nach oben.",
                "en": "Look up.",
                "de-x-ls": "Schau nach oben zum Dach.",
            },
            "cost": 5,
        },
        {"text": {"de": "Wie Gras.", "en": "Like grass."}, "cost": 10},
    ]

    page.reload()
    expect(page.locator("#rally-editor[data-ready=true]")).to_have_count(1)
    page.click("#stop1-more > summary")
    expect(page.locator("#stop1-type")).to_have_value("choice")
    expect(page.locator("#stop1-q-en")).to_have_value(HOSTILE)
    expect(page.locator("#stop1-options > li:nth-child(2) input.right")).to_be_checked()
    expect(page.locator("#stop1-opt1-de")).to_have_value("Grün")
    expect(page.locator("#stop1-hints > li")).to_have_count(2)
    expect(page.locator("#stop1-hint0-cost")).to_have_value("5")
    expect(page.locator("#stop1-letter")).to_have_value("answer")
    expect(page.locator("#stop1-clue-de-x-ls")).to_have_value(
        "Geh zur Kirche. Die Kirche hat 2 Türme."
    )
    page.locator("#stop1-more").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "curator-stop-task.png"))

    page.click("#stop1-more button.preview-stop")
    expect(page.locator("#preview")).to_be_visible()
    phone = page.locator("#phone")
    box = phone.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (360, 640)
    page.select_option("#preview-lang", "de-x-ls")
    expect(phone.locator(".phone-bar")).to_have_text("Station 2 von 3")
    expect(phone.locator(".phone-clue")).to_have_text("Geh zur Kirche. Die Kirche hat 2 Türme.")
    phone.locator(".phone-hint-button").click()
    expect(phone.locator("ol.phone-hints li")).to_have_text("Tipp 1: Schau nach oben zum Dach.")
    page.click("#preview-step-found")
    expect(phone.locator("h4")).to_have_text("Stiftskirche")
    expect(phone.locator(".phone-story")).to_have_text("Geschichte Stiftskirche")
    expect(phone.locator(".phone-letter")).to_contain_text("nach der Aufgabe")
    expect(phone.locator(".phone-question")).to_have_text("Welche Farbe hat das Dach?")
    expect(phone.locator(".phone-options button")).to_have_text(["Rot", "Grün"])
    expect(phone.locator(".phone-small")).to_contain_text("80 Punkte")
    page.screenshot(path=str(artifacts / "curator-preview.png"))

    page.select_option("#preview-lang", "en")
    expect(phone.locator(".phone-question")).to_have_text(HOSTILE)
    assert phone.locator("b, img[src=x]").count() == 0
    assert page.evaluate("window.hacked") is None
    page.click("#preview-close")
    expect(page.locator("#preview")).to_be_hidden()
    base.only_app_and_tiles(page, live_server)
    readme_image(artifacts / "curator-preview.png", "curator-preview.png")


def test_a_rally_is_copied_from_its_editor(app, live_server, page: Page, small_rally):
    base.serve_tiles(page)
    base.log_in(page, live_server)
    base.open_rally(page, live_server, small_rally)
    page.fill("#copy-slug", "kurz")
    page.click("#copy-submit")
    expect(page.locator("#copy-error")).to_contain_text("already")
    expect(page.locator("#copy-slug")).to_have_attribute("aria-invalid", "true")
    page.fill("#copy-slug", "kurz-zwei")
    page.click("#copy-submit")
    expect(page.locator("#rally-heading")).to_have_text("Short round (copy)")
    expect(page.locator("#rally-status")).to_have_text("Draft")
    assert base.stop_titles(page) == ["Fruchthalle", "Stiftskirche", "Rathaus"]
    assert base.rally_row(app, "kurz-zwei")[0] == "draft"
    base.only_app_and_tiles(page, live_server)
