"""Read aloud on the player's pages in a real browser: each clue, story and the rally intro has a
button that speaks it with the Web Speech API in the text's language; a second press stops; one
text at a time; no button where the browser cannot speak.

Headless Chromium has no voices, so a fake speechSynthesis that behaves like the real one (a
queue, speak/cancel, the speaking flag, end and error events) records what the page says.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

FAKE_SPEECH = """() => {
  const log = [];
  const queue = [];
  const voices = [
    { name: "Anna", lang: "de-DE", voiceURI: "anna", localService: true, default: false },
    { name: "Samantha", lang: "en-US", voiceURI: "samantha", localService: true, default: true },
    { name: "Daniel", lang: "en_GB", voiceURI: "daniel", localService: true, default: false },
  ];
  class Utterance {
    constructor(text) {
      this.text = text || "";
      this.lang = "";
      this.voice = null;
      this.onend = null;
      this.onerror = null;
    }
  }
  const synth = {
    speaking: false,
    pending: false,
    paused: false,
    getVoices() { return voices.slice(); },
    speak(u) {
      if (!(u instanceof Utterance)) { throw new TypeError("not an utterance"); }
      queue.push(u);
      this.pending = queue.length > 1;
      if (!this.speaking) { start(); }
    },
    cancel() {
      log.push({ cancel: true });
      const dropped = queue.splice(0);
      this.speaking = this.pending = false;
      dropped.forEach((u, i) => later(u, "onerror", { error: i ? "canceled" : "interrupted" }));
    },
    pause() { this.paused = true; },
    resume() { this.paused = false; },
  };
  function later(u, name, event) {
    setTimeout(() => { if (u[name]) { u[name](Object.assign({ utterance: u }, event)); } }, 0);
  }
  function start() {
    const u = queue[0];
    if (!u) { return; }
    synth.speaking = true;
    synth.pending = queue.length > 1;
    log.push({ text: u.text, lang: u.lang, voice: u.voice && u.voice.name, queued: queue.length });
  }
  /* The current utterance has been said to its end. */
  window.__finishSpeaking = () => {
    const u = queue.shift();
    synth.speaking = false;
    if (u) { later(u, "onend", {}); }
    start();
  };
  window.__speech = log;
  Object.defineProperty(window, "speechSynthesis", { value: synth, configurable: true });
  Object.defineProperty(window, "SpeechSynthesisUtterance", {
    value: Utterance, configurable: true,
  });
}"""

NO_SPEECH = """() => {
  Object.defineProperty(window, "speechSynthesis", { value: undefined, configurable: true });
}"""


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def rally(app, demo):
    """Slug, the demo rally as the domain sees it, and the QR path of each stop."""
    from server import game, models
    from server.extensions import db

    slug, rally_id = demo
    with app.app_context():
        domain = game.domain_rally(db.session.get(models.Rally, rally_id))
        paths = [
            "/" + game.qr_url_for(rally_id, s.marker.id).split("/", 3)[3] for s in domain.stops
        ]
    return slug, domain, paths


def speech(page: Page) -> list[dict]:
    return page.evaluate("() => window.__speech.slice()")


def join_and_find_the_first_stop(page: Page, base: str, slug: str, path: str, lang: str) -> None:
    """Open the first stop's QR page, join as a new team: the story and the next clue show."""
    page.goto(f"{base}{path}?lang={lang}")
    page.fill("#name", "Lautsprecher")
    page.click("form[action$='/join'] button[type=submit]")
    expect(page.locator(".reveal .story")).to_be_visible()


def test_read_aloud_speaks_story_and_clue_in_english_and_stops_on_a_second_press(
    page, live_server, rally
):
    slug, domain, paths = rally
    page.add_init_script(script=f"({FAKE_SPEECH})()")
    join_and_find_the_first_stop(page, live_server, slug, paths[0], "en")
    story = page.locator(".reveal .speakable").first
    clue = page.locator(".clue .speakable").first
    story_button, clue_button = story.locator("button.speak"), clue.locator("button.speak")
    expect(story_button).to_be_visible()
    expect(story_button).to_have_text("Read aloud")
    expect(story_button).to_have_attribute("aria-pressed", "false")

    story_button.click()
    assert speech(page) == [
        {"cancel": True},
        {
            "text": domain.stops[0].marker.story["en"],
            "lang": "en-GB",
            "voice": "Daniel",
            "queued": 1,
        },
    ]
    assert page.evaluate("() => speechSynthesis.speaking")
    expect(story_button).to_have_text("Stop reading")
    expect(story_button).to_have_attribute("aria-pressed", "true")
    page.screenshot(path="/tmp/speak_web.png", full_page=True)

    story_button.click()
    assert speech(page)[2:] == [{"cancel": True}]
    assert not page.evaluate("() => speechSynthesis.speaking")
    expect(story_button).to_have_text("Read aloud")
    expect(story_button).to_have_attribute("aria-pressed", "false")

    # One text at a time: the clue's button stops the story before it speaks
    story_button.click()
    clue_button.click()
    said = speech(page)[3:]
    assert said[-2:] == [
        {"cancel": True},
        {
            "text": domain.stops[1].effective_clue["en"],
            "lang": "en-GB",
            "voice": "Daniel",
            "queued": 1,
        },
    ]
    expect(story_button).to_have_text("Read aloud")
    expect(clue_button).to_have_text("Stop reading")
    # the story's interrupted utterance ends later: it must not reset the clue's button
    page.wait_for_timeout(50)
    expect(clue_button).to_have_text("Stop reading")

    # Spoken to its end: the button is ready again, and a press speaks the clue once more
    page.evaluate("() => window.__finishSpeaking()")
    expect(clue_button).to_have_text("Read aloud")
    clue_button.click()
    assert speech(page)[-1]["text"] == domain.stops[1].effective_clue["en"]
    assert not page.script_errors


def test_german_pages_speak_with_a_german_voice_and_the_intro_too(page, live_server, rally):
    slug, domain, paths = rally
    page.add_init_script(script=f"({FAKE_SPEECH})()")
    page.goto(f"{live_server}/play/{slug}?lang=de")
    intro = page.locator(".speakable")
    expect(intro.locator("p")).to_have_attribute("lang", "de")
    intro.get_by_role("button", name="Vorlesen").click()
    assert speech(page)[-1] == {
        "text": domain.intro["de"],
        "lang": "de-DE",
        "voice": "Anna",
        "queued": 1,
    }
    expect(intro.locator("button.speak")).to_have_text("Vorlesen beenden")

    join_and_find_the_first_stop(page, live_server, slug, paths[0], "de")
    page.locator(".clue button.speak").first.click()
    assert speech(page)[-1] == {
        "text": domain.stops[1].effective_clue["de"],
        "lang": "de-DE",
        "voice": "Anna",
        "queued": 1,
    }
    page.goto(f"{live_server}/play/{slug}/team")
    found = page.locator("details.found")
    expect(found).to_have_attribute("open", "")  # its question is open: shown unfolded
    found.get_by_role("button", name="Vorlesen").first.click()
    assert speech(page)[-1]["text"] == domain.stops[0].marker.story["de"]
    assert speech(page)[-1]["lang"] == "de-DE"
    assert not page.script_errors


def test_without_speech_synthesis_there_is_no_button(page, live_server, rally):
    slug, domain, paths = rally
    page.add_init_script(script=f"({NO_SPEECH})()")
    join_and_find_the_first_stop(page, live_server, slug, paths[0], "en")
    assert page.locator("button.speak").count() >= 2
    for button in page.locator("button.speak").all():
        expect(button).to_be_hidden()
    expect(page.locator(".reveal .story")).to_have_text(domain.stops[0].marker.story["en"])
    assert not page.script_errors
