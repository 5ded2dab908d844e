"""Every screen in a real Kivy window under Xvfb, against a live server with the demo rally.

Kivy opens one window per process, so one child process (this module run as a script: see the
bottom) plays a short game through the screens: the start screen's rally list and new team, a
GPS fix in the search area (clue), one near the marker (AR view, map), one inside its geofence
(reveal), a QR poster held into the camera (scan), the leaderboard (progress), then German and
large text, and after leaving, Leichte Sprache on the start screen. It saves a screenshot of each
screen and a JSON report of what each showed; the tests below check both, and the server's record
of the finds.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.client.conftest import (
    kivy_environment,
    kivy_log,
    pixel_spread,
    run_python,
    serving_demo,
)
from tests.conftest import ARTIFACTS, ROOT, readme_image

pytestmark = [pytest.mark.kivy, pytest.mark.slow]

TEAM = "Kivy Testers"
SCREENS = ("start", "clue", "arview", "map", "scan", "reveal", "progress")
DOCS_IMAGES = {
    "arview": "client-ar.png",
    "reveal": "client-reveal.png",
    "reveal-task": "client-task.png",
}
"""Screenshot -> the README's picture of it (docs/images/)."""
EXTRA_SHOTS = (
    "arview-aside",
    "arview-cardboard",
    "clue-de-large",
    "start-easy",
    "clue-hint-confirm",
    "clue-hint",
    "clue-hint-easy",
    "reveal-task",
    "reveal-task-easy",
    "reveal-solved",
    "reveal-queue-1",
    "reveal-queue-3",
    "reveal-journal",
    "settings-easy",
    "progress-leave-warning",
    "start-error",
)
"""Screenshots beside one per screen: variants and the task and hint parts."""
HEADING_OFFSET = 8.0
"""The child looks this many degrees left of the marker, so it appears right of the centre."""


# --- the camera frames: a street scene for the AR view, a QR poster for the scan ---------------


def street_scene(width: int = 720, height: int = 1280) -> Any:
    """A drawn street (sky, houses, a church tower): what the simulated camera sees."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(7)
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    horizon = int(height * 0.55)
    for y in range(horizon):
        f = y / horizon
        draw.line([(0, y), (width, y)], fill=(int(90 + 110 * f), int(150 + 80 * f), 235))
    tower_x = int(width * 0.62)
    draw.rectangle([tower_x, int(height * 0.18), tower_x + 70, horizon], fill=(150, 110, 90))
    draw.polygon(
        [
            (tower_x - 10, int(height * 0.18)),
            (tower_x + 80, int(height * 0.18)),
            (tower_x + 35, int(height * 0.04)),
        ],
        fill=(60, 90, 80),
    )
    x = -20
    while x < width:
        w = rng.randint(110, 190)
        top = horizon - rng.randint(160, 330)
        colour = rng.choice([(214, 196, 160), (190, 170, 140), (225, 215, 200), (170, 120, 100)])
        draw.rectangle([x, top, x + w, horizon + 40], fill=colour)
        for wy in range(top + 25, horizon, 60):
            for wx in range(x + 18, x + w - 30, 45):
                draw.rectangle([wx, wy, wx + 22, wy + 32], fill=(70, 80, 95))
        x += w + rng.randint(0, 12)
    draw.rectangle([0, horizon + 40, width, height], fill=(105, 105, 110))
    draw.polygon(
        [
            (width * 0.42, horizon + 40),
            (width * 0.58, horizon + 40),
            (width * 0.8, height),
            (width * 0.2, height),
        ],
        fill=(125, 125, 130),
    )
    for y in range(horizon + 80, height, 140):
        draw.rectangle([width * 0.49, y, width * 0.51, y + 60], fill=(235, 235, 235))
    return image


def poster_photo(url: str, title: str) -> Any:
    """A photo of a printed QR poster on a wall: the code, a title, some perspective."""
    import io

    from PIL import Image, ImageDraw

    from markers import qr

    code = Image.open(io.BytesIO(qr.png_bytes(url, box_size=12))).convert("RGB")
    page = Image.new("RGB", (620, 860), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle([0, 0, 619, 110], fill=(10, 50, 130))
    draw.text((30, 40), "Art Caching", fill="white")
    draw.text((30, 140), title, fill="black")
    page.paste(code.resize((520, 520)), (50, 220))
    photo = Image.new("RGB", (720, 1280), (120, 110, 100))
    photo.paste(page.rotate(4, expand=True, fillcolor=(120, 110, 100)), (40, 180))
    return photo


# --- the parent: run the child once, then check what it saw -----------------------------------


@dataclass
class Run:
    report: dict[str, Any]
    shots: Path
    stops: list[dict[str, Any]]
    discoveries: list[tuple[int, str]]
    leaderboard_team: str


@pytest.fixture(scope="module")
def run(xvfb_display, tmp_path_factory) -> Run:
    folder = tmp_path_factory.mktemp("ui-screens")
    shots = ARTIFACTS / "client-ui"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    # the outage's scans are stamped ahead of the clock (a walk between stops takes minutes)
    with serving_demo(folder, MAX_CLOCK_SKEW_S=7200) as demo:
        stops = demo.stops()
        (folder / "scene").mkdir()
        street_scene().save(folder / "scene" / "street.png")
        (folder / "poster").mkdir()
        poster_photo(demo.qr_url(stops[1]["marker_id"]), stops[1]["title"]["en"]).save(
            folder / "poster" / "poster.png"
        )
        spec = {
            "server": demo.url,
            "data_dir": str(folder / "data"),
            "shots": str(shots),
            "scene": str(folder / "scene"),
            "poster": str(folder / "poster"),
            "report": str(folder / "report.json"),
            "stops": stops,
            "qr": {str(s["marker_id"]): demo.qr_url(s["marker_id"]) for s in stops[2:6]},
            "team": TEAM,
        }
        spec_path = folder / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        env = kivy_environment(xvfb_display, folder / "kivy-home")
        result = run_python(
            env, ["-m", "tests.client.test_ui_screens", str(spec_path)], timeout_s=240
        )
        report_path = Path(spec["report"])
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        assert result.returncode == 0 and not report.get("error"), (
            f"the UI child failed ({result.returncode}): {report.get('error')}\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}\n{kivy_log(env)}"
        )
        discoveries = demo.discoveries(TEAM)
    _update_docs_images(shots)
    return Run(report, shots, stops, discoveries, TEAM)


def _update_docs_images(shots: Path) -> None:
    """The README's pictures: written when missing, or when ARTCACHING_UPDATE_IMAGES=1."""
    for name, image in DOCS_IMAGES.items():
        readme_image(shots / f"client-{name}.png", image)


def texts(run: Run, shot: str) -> str:
    return "\n".join(run.report["texts"][shot])


def test_every_screen_is_drawn_and_saved(run):
    for name in (*SCREENS, *EXTRA_SHOTS):
        path = run.shots / f"client-{name}.png"
        assert path.exists(), f"no screenshot of {name}"
        spread, mean = pixel_spread(path)
        assert spread > 12, f"{name}: the screenshot is nearly one colour (spread {spread:.1f})"
        assert mean > 25, f"{name}: the screenshot is nearly black (mean grey {mean:.1f})"
    from PIL import Image

    with Image.open(run.shots / "client-start.png") as image:
        assert image.size == (540, 960)


def test_start_lists_the_demo_rally_and_creates_a_team(run):
    shown = texts(run, "start")
    assert "Art Caching Kaiserslautern\n10 stops · 2.9 km" in shown
    assert "Create the team and start" in shown
    assert run.report["facts"]["team_name"] == TEAM


def test_clue_shows_the_clue_the_band_the_letters_and_the_time(run):
    shown = texts(run, "clue")
    assert run.stops[0]["clue"]["en"] in shown
    assert "Stop 1 of 10" in shown
    assert "0 of 10 found" in shown
    assert "WARM" in shown or "COLD" in shown
    assert "Search area: a circle of 250 m" in shown
    assert "_ _ _ _ _ _ _ _ _ _" in shown
    assert any(line.startswith("Time played: ") and ":" in line[13:] for line in shown.split("\n"))


def test_the_clue_is_read_aloud_in_its_language_and_a_second_press_stops(run):
    facts = run.report["facts"]["read_aloud_clue"]
    assert facts["said"] == [[run.stops[0]["clue"]["en"], "en", "en-GB"]]
    assert facts["label"] == facts["label_after"] == "Read aloud"
    assert facts["label_reading"] == "Stop reading"
    assert facts["stops"] == 1
    assert facts["size"][1] >= 48
    assert "Read aloud" in texts(run, "clue")


def test_the_story_is_read_aloud_on_the_reveal(run):
    facts = run.report["facts"]["read_aloud_reveal"]
    story = run.report["facts"]["reveal_story"]
    assert story and facts["said"] == [[story, "en", "en-GB"]]
    assert facts["label_reading"] == "Stop reading" and facts["stops"] == 1


def test_ar_view_draws_the_opened_marker_where_it_stands(run):
    facts = run.report["facts"]
    ahead = facts["ar_ahead"]
    assert [p["stop"] for p in ahead["placed"]] == [1]
    marker = ahead["placed"][0]
    assert marker["visible"]
    width = ahead["width"]
    # 8 degrees right of the view axis with a 60 degree field of view: x = w/2 + 8/60 * w
    assert marker["x"] == pytest.approx(width / 2 + HEADING_OFFSET / 60 * width, abs=0.02 * width)
    assert 40 < marker["distance_m"] < 110
    assert "Marker 1:" in texts(run, "arview")
    aside = facts["ar_aside"]["placed"][0]
    assert not aside["visible"] and aside["edge"] == "left"
    assert ahead["view_fov"] == 60.0 and ahead["window"][0] < ahead["window"][1]


def test_cardboard_is_landscape_full_screen_with_two_eyes_and_a_tap_leaves_it(run):
    """The window turns to landscape (the desktop's stand-in for setRequestedOrientation), the
    status and navigation bars go, each eye shows the marker in its own undistorted image (a
    wide one: the lens magnifies its middle), and a tap returns to portrait."""
    from PIL import Image

    facts = run.report["facts"]
    cardboard = facts["ar_cardboard"]
    w, h = cardboard["window"]
    assert w > h, "cardboard mode is landscape"
    assert (cardboard["width"], cardboard["height"]) == (w, h), "full screen: no bars"
    fov = cardboard["view_fov"]
    assert 90 < fov < 150
    eye = cardboard["width"] / 2
    assert cardboard["placed"][0]["x"] == pytest.approx(
        eye / 2 + HEADING_OFFSET / fov * eye, abs=0.02 * eye
    )
    shot = Image.open(run.shots / "client-arview-cardboard.png").convert("RGB")
    assert shot.width > shot.height
    # the divider between the eyes and the black outside the distorted images
    assert shot.getpixel((shot.width // 2, shot.height // 2)) == (0, 0, 0)
    assert shot.getpixel((2, 2)) == (0, 0, 0)
    # each eye shows the street: its middle is not black
    for x in (shot.width // 4, shot.width * 3 // 4):
        assert sum(shot.getpixel((x, shot.height // 2))) > 60
    after = facts["after_tap"]
    assert not after["cardboard"] and after["window"][0] < after["window"][1]


def test_map_draws_position_search_area_and_opened_marker(run):
    state = run.report["facts"]["map"]
    assert state["me"] is not None
    assert [a[0] for a in state["areas"]] == [1]
    assert [o[0] for o in state["opened"]] == [1]
    assert state["tiles_errors"] == 0 and state["tiles_fetched"] == 0, "tiles were switched off"


def test_reveal_shows_story_letter_and_next_clue(run):
    shown = texts(run, "reveal")
    assert f"Found: 1. {run.stops[0]['title']['en']}" in shown
    assert run.stops[0]["letter"] == "B" and "\nB\n" in f"\n{shown}\n"
    assert run.stops[1]["clue"]["en"] in shown
    assert "Your letter of the solution word" in shown


def test_a_hint_costs_points_after_a_confirmation(run):
    facts = run.report["facts"]["hint"]
    assert facts["button"] == "Hint (10 points)"
    assert "A hint costs 10 points. Take it?" in texts(run, "clue-hint-confirm")
    assert facts["hints_text"] == "Hint 1: The tower belongs to a Catholic church."
    assert facts["button_after"] == "Hint (20 points)"
    assert facts["score"] == 0, "never below 0"
    assert facts["hints_text_easy"] == "Tipp 1: Der Turm gehört zu einer katholischen Kirche."
    shown = texts(run, "clue-hint")
    assert facts["hints_text"] in shown and "Hint (20 points)" in shown
    assert "Tipp. Der Tipp kostet 20 Punkte." in texts(run, "clue-hint-easy")


def test_the_task_is_answered_wrong_then_right_on_the_reveal(run):
    facts = run.report["facts"]["task"]
    assert facts["question"] == (
        "The church took several years to build. In which year was it finished?"
    )
    assert facts["info"] == "Up to 50 points · 3 attempts left"
    assert facts["letter_before"] == "", "stop 1 shows its letter once the task is over"
    assert facts["typed"] == "1890"
    assert facts["wrong"] == "Not right. 2 attempts left."
    assert facts["info_after_wrong"] == "Up to 50 points · 2 attempts left"
    assert "Not right. 2 attempts left." in texts(run, "reveal-task")
    assert "Send the answer" in texts(run, "reveal-task")
    assert facts["question_easy"].startswith("Die Kirche wurde einige Jahre lang gebaut.")
    assert "Antwort senden" in texts(run, "reveal-task-easy")
    assert facts["correct"] == "Right! +33 points"
    assert facts["answer"] == "The right answer: 1892" and not facts["can_answer"]
    assert facts["letter_after"] == "B"
    solved = texts(run, "reveal-solved")
    assert "Task · Solved: 33 points" in solved and "Send the answer" not in solved


def test_scanning_the_poster_finds_stop_two_by_qr(run):
    assert run.discoveries[:2] == [(1, "gps"), (2, "qr")]
    assert run.report["facts"]["qr_reveal_title"] == run.stops[1]["title"]["en"]
    assert "Hold the stop's QR code inside the yellow frame." in texts(run, "scan")


def test_progress_shows_finds_and_the_leaderboard(run):
    shown = texts(run, "progress")
    assert "2 of 10 stops found" in shown
    assert f"1. {run.stops[0]['title']['en']}" in shown and "GPS" in shown
    assert f"2. {run.stops[1]['title']['en']}" in shown and "QR code" in shown
    assert f"1. {TEAM}" in shown
    assert "B A _ _ _ _ _ _ _ _" in shown
    assert "Task · Solved: 33 points" in shown
    assert "Join code for your team: " in shown


def test_german_and_large_text(run):
    shown = texts(run, "clue-de-large")
    assert "Station 3 von 10" in shown and "Lösungswort" in shown and "Karte" in shown
    facts = run.report["facts"]
    assert facts["font_scale_large"] > facts["font_scale_normal"] == 1.0
    assert facts["heading_font_large"] > facts["heading_font_normal"]


def test_the_start_screen_offers_leichte_sprache(run):
    from client.i18n import t

    assert run.report["facts"]["easy_language"] == ["de-x-ls", "de-x-ls", "down"]
    shown = texts(run, "start-easy")
    assert t("ui.start.intro", "de-x-ls") in shown
    assert "Art Caching Kaiserslautern\n10 Stationen · 2,9 Kilometer" in shown
    assert "Deutsch" in shown and "English" in shown and "Leichte Sprache" in shown


def test_leaving_with_waiting_events_warns_and_offers_to_wait(run):
    facts = run.report["facts"]
    assert facts["after_one_tap"] == ["progress", True]
    assert facts["leave_warning"] == "Events not sent yet: 1. Leaving now loses them."
    shown = texts(run, "progress-leave-warning")
    assert "Wait and send" in shown and "Leave anyway" in shown
    assert facts["after_two_taps"] == ["start", None]
    assert (6, "qr") in run.discoveries, "the waiting scan was sent before leaving"


def test_three_finds_at_once_are_revealed_one_after_the_other(run):
    facts = run.report["facts"]["reveal_queue"]
    titles = [s["title"]["en"] for s in run.stops[2:5]]
    assert [s[0] for s in facts["seen"]] == [
        f"Found: {n}. {title}" for n, title in zip((3, 4, 5), titles, strict=True)
    ]
    assert [s[1] for s in facts["seen"]] == ["Next (2 more)", "Next (1 more)", "Continue"]
    assert all(s[3] for s in facts["seen"]), "each shows its story"
    assert facts["left"] == 0 and facts["found"] == 5
    assert "Next (2 more)" in texts(run, "reveal-queue-1")
    assert "Continue" in texts(run, "reveal-queue-3")


def test_a_found_row_opens_its_story_again(run):
    facts = run.report["facts"]["journal"]
    assert facts["rows"] == 5
    assert facts["headline"] == f"Found: 1. {run.stops[0]['title']['en']}"
    assert facts["story"] == run.report["facts"]["reveal_story"]
    assert facts["letter"] == "B" and facts["button"] == "Back to the list"
    assert "Back to the list" in texts(run, "reveal-journal")


def test_settings_during_play_switch_to_leichte_sprache(run):
    from client.i18n import t

    facts = run.report["facts"]["settings"]
    assert facts == {"language": "de-x-ls", "joined": True, "nav": "Settings"}
    shown = texts(run, "settings-easy")
    assert t("ui.settings.title", "de-x-ls") in shown and "Leichte Sprache" in shown
    assert t("ui.nav.settings", "de-x-ls") in shown
    assert t("ui.clock.same", "de-x-ls") in shown, "the phone's clock is the server's here"
    assert t("ui.map_pack.none", "de-x-ls") in shown, "the demo server has no map package"


def test_start_errors_show_beside_the_button_and_fields_above_the_keyboard(run):
    from client.i18n import t

    facts = run.report["facts"]["start"]
    assert facts["text"] == t("ui.start.need_name", "de-x-ls") and facts["in_view"]
    assert facts["top_text"] == ""
    assert t("ui.start.need_name", "de-x-ls") in texts(run, "start-error")
    assert not facts["field_in_view_before"], "the join code field starts below the fold"
    assert facts["field_in_view_focused"] and facts["field_above_keyboard"]
    assert facts["softinput_mode"] == "below_target"


def test_the_readme_pictures_exist(run):
    from PIL import Image

    for name in DOCS_IMAGES.values():
        target = ROOT / "docs" / "images" / name
        with Image.open(target) as image:
            assert image.size == (540, 960)
        assert pixel_spread(target)[0] > 12


# --- the child: this module run as a script -------------------------------------------------------


class Driver:
    """Plays the game through the screens; a generator of steps run on Kivy's clock."""

    def __init__(self, app: Any, spec: dict[str, Any]) -> None:
        self.app = app
        self.spec = spec
        self.report: dict[str, Any] = {"texts": {}, "facts": {}, "error": None}
        self.steps: Any = None
        self.ahead: Any = None
        """How far the session's clock runs ahead (the outage's walk between stops)."""

    def begin(self, *_: Any) -> None:
        self.steps = self.script()
        self.advance()

    def advance(self, *_: Any) -> None:
        from kivy.clock import Clock

        try:
            step = next(self.steps)
        except StopIteration:
            self.finish()
            return
        except Exception as exc:
            import traceback

            self.fail(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            return
        kind = step[0]
        if kind == "wait":
            _, test, timeout_s, what = step
            self._wait(test, timeout_s, what, 0.0)
        elif kind == "shoot":
            _, name, settle_s = step
            self.tour.shoot([name], lambda: self._shot(name), settle_s=settle_s)
        else:
            Clock.schedule_once(self.advance, step[1])

    def _wait(self, test: Any, timeout_s: float, what: str, waited: float) -> None:
        from kivy.clock import Clock

        try:
            ok, problem = bool(test()), ""
        except (AttributeError, IndexError, KeyError, TypeError) as exc:
            ok, problem = False, f"{type(exc).__name__}: {exc}"
        if ok:
            Clock.schedule_once(self.advance, 0)
        elif waited > timeout_s:
            snap = self.app.snapshot
            self.fail(
                f"timed out after {timeout_s:g} s waiting for {what} ({problem}); last "
                f"error {getattr(snap, 'last_error', None)!r}, "
                f"pending {getattr(snap, 'pending', '?')}, screen {self.app.current}, "
                f"found {len(getattr(snap, 'found', ()))}, "
                f"reveals {[r.get('stop') for r in getattr(snap, 'reveals', ())]}"
            )
        else:
            Clock.schedule_once(lambda _dt: self._wait(test, timeout_s, what, waited + 0.1), 0.1)

    def _shot(self, name: str) -> None:
        self.report["texts"][name] = visible_texts(self.app.root)
        self.advance()

    def fail(self, message: str) -> None:
        self.report["error"] = message
        self.app.exit_code, self.app.exit_message = 2, message
        self.finish()

    def finish(self) -> None:
        Path(self.spec["report"]).write_text(json.dumps(self.report, indent=1, default=str))
        self.app.stop()

    def script(self) -> Any:
        from datetime import timedelta

        from client.i18n import t
        from client.screens.tour import Tour
        from client.session import utc_now
        from markers.geo import LatLon, bearing_deg, destination

        app, spec = self.app, self.spec
        self.ahead = timedelta(0)
        self.tour = Tour(app, Path(spec["shots"]))
        start = app.screen("start")
        yield ("wait", lambda: bool(start.rallies) and not start.busy, 30, "the rally list")
        yield ("shoot", "start", 0.5)
        start.ids.team_name.text = spec["team"]
        start.create_team()
        yield (
            "wait",
            lambda: app.joined and app.current == "clue" and app.snapshot.targets,
            30,
            "the new team",
        )
        self.report["facts"]["team_name"] = app.snapshot.team["name"]

        stop1 = spec["stops"][0]
        marker = LatLon(stop1["lat"], stop1["lon"])
        t0 = utc_now() - timedelta(seconds=60)  # the walk began a minute ago: time to walk on
        self.fix(destination(marker, 160.0, 200.0), t0)
        yield (
            "wait",
            lambda: self.answered() and app.snapshot.targets[0].distance_m,
            30,
            "the answer to the first fix",
        )
        yield ("shoot", "clue", 0.6)
        yield from self.read_aloud("clue")
        yield from self.take_hint()
        # the hint was stamped now, and a phone's times only move forward: the walk goes on now
        t0 = utc_now() - timedelta(seconds=10)

        near = destination(marker, 150.0, 70.0)
        self.fix(near, t0 + timedelta(seconds=10))
        yield (
            "wait",
            lambda: self.answered() and app.snapshot.targets[0].marker is not None,
            30,
            "the marker opened near it",
        )
        look = bearing_deg(app.snapshot.position.position, marker)
        self.look(look - HEADING_OFFSET)
        app.show_screen("arview")
        yield ("sleep", 0.5)
        self.report["facts"]["ar_ahead"] = self.ar_facts()
        yield ("shoot", "arview", 0.5)
        app.cardboard = True
        yield ("sleep", 0.8)
        self.report["facts"]["ar_cardboard"] = self.ar_facts()
        yield ("shoot", "arview-cardboard", 0.5)
        yield from self.tap_out_of_cardboard()
        self.look(look + 100.0)
        yield ("sleep", 0.5)
        self.report["facts"]["ar_aside"] = self.ar_facts()
        yield ("shoot", "arview-aside", 0.5)
        self.look(look - HEADING_OFFSET)

        app.show_screen("map")
        yield ("sleep", 1.0)
        layer = app.screen("map").map.layer.state
        self.report["facts"]["map"] = {
            "me": layer.me,
            "areas": layer.areas,
            "opened": layer.opened,
            "found": layer.found,
            "tiles_errors": app.tile_cache.errors,
            "tiles_fetched": app.tile_cache.fetched,
        }
        yield ("shoot", "map", 0.5)

        self.fix(destination(marker, 150.0, 3.0), t0 + timedelta(seconds=20), accuracy=4.0)
        yield (
            "wait",
            lambda: app.current == "reveal" and len(app.snapshot.found) == 1,
            30,
            "the reveal of stop 1",
        )
        yield from self.answer_task()
        app.screen("reveal").children[0].scroll_y = 1
        yield ("shoot", "reveal", 1.5)
        self.report["facts"]["reveal_story"] = app.screen("reveal").story
        yield from self.read_aloud("reveal")

        assert "camera" not in app._running, "the camera runs only on the AR and scan screens"
        app.cli.frames = Path(spec["poster"])  # the camera sees the poster from now on
        app.show_screen("scan")
        yield (
            "wait",
            lambda: len(app.snapshot.found) == 2 and app.current == "reveal",
            40,
            "stop 2 found by scanning the poster",
        )
        self.report["facts"]["qr_reveal_title"] = app.snapshot.last_reveal["title"]
        app.show_screen("scan")
        yield (
            "wait",
            lambda: (
                app.snapshot.last_result == t("result.already_found") and app.snapshot.pending == 0
            ),
            30,
            "the answer to the second scan",
        )
        yield ("shoot", "scan", 0.6)

        app.show_screen("progress")
        progress = app.screen("progress")
        yield (
            "wait",
            lambda: progress._board is not None and len(progress.ids.board.children),
            30,
            "the leaderboard",
        )
        yield ("shoot", "progress", 0.6)

        self.report["facts"]["font_scale_normal"] = app.font_scale
        self.report["facts"]["heading_font_normal"] = heading_font(app)
        app.set_language("de")
        app.set_large_text(True)
        app.show_screen("clue")
        yield (
            "wait",
            lambda: app.snapshot.language == "de" and app.font_scale > 1,
            10,
            "German and large text",
        )
        yield ("sleep", 0.5)
        self.report["facts"]["font_scale_large"] = app.font_scale
        self.report["facts"]["heading_font_large"] = heading_font(app)
        yield ("shoot", "clue-de-large", 0.5)
        app.set_language("en")
        app.set_large_text(False)
        yield ("wait", lambda: app.snapshot.language == "en", 10, "English again")

        yield from self.reveal_queue()
        yield from self.journal()
        yield from self.settings_in_play()
        yield from self.leave_with_waiting_events()

        start = app.screen("start")
        easy = next(w for w in start.walk() if getattr(w, "text", None) == "Leichte Sprache")
        easy.state = "down"
        easy.dispatch("on_release")
        yield (
            "wait",
            lambda: app.lang == "de-x-ls" and app.snapshot.language == "de-x-ls",
            10,
            "Leichte Sprache",
        )
        self.report["facts"]["easy_language"] = [
            app.session.settings.language,
            app.snapshot.language,
            easy.state,
        ]
        yield ("shoot", "start-easy", 0.5)
        yield from self.start_error_and_keyboard()

    def offline(self) -> str:
        """The server cannot be reached (an outage): returns its address, to come back."""
        api = self.app.session.api
        url, api.base_url = api.base_url, "http://127.0.0.1:9"
        return url

    def scan_offline(self, stops: list[dict[str, Any]]) -> Any:
        from datetime import timedelta

        from client.session import utc_now

        app = self.app
        for stop in stops:
            # each scan ten minutes of walking after the one before
            self.ahead += timedelta(minutes=10)
            app.session.clock = lambda ahead=self.ahead: utc_now() + ahead
            assert app.session.handle_qr_text(self.spec["qr"][str(stop["marker_id"])])
        count = len(stops)
        yield ("wait", lambda: app.snapshot.pending == count, 10, "the scans waiting")

    def press(self, screen: str, text: str) -> None:
        from kivy.factory import Factory

        button = next(
            w
            for w in self.app.screen(screen).walk(restrict=True)
            if isinstance(w, Factory.Action) and w.text == text and w.opacity > 0
        )
        button.trigger_action(duration=0)

    def reveal_queue(self) -> Any:
        """Stops 3 to 5 found by scans during an outage: after the catch-up, three reveals one
        after the other, each once."""
        app, spec = self.app, self.spec
        server = self.offline()
        yield from self.scan_offline(spec["stops"][2:5])
        app.session.api.base_url = server
        app.session.sync_now()
        yield (
            "wait",
            lambda: app.current == "reveal" and len(app.snapshot.reveals) == 3 and self.answered(),
            30,
            "three reveals after the catch-up",
        )
        reveal = app.screen("reveal")
        seen = []
        for i in range(3):
            yield ("sleep", 0.3)
            label = reveal.button_text(reveal.chosen, reveal.more, app.lang)
            seen.append([reveal.headline, label, reveal.letter, bool(reveal.story)])
            if i in (0, 2):
                reveal.children[0].scroll_y = 0
                yield ("shoot", f"reveal-queue-{i + 1}", 0.6)
            self.press("reveal", label)
        yield ("wait", lambda: app.current == "clue", 5, "the clue after the last reveal")
        self.report["facts"]["reveal_queue"] = {
            "seen": seen,
            "left": len(app.session.snapshot.reveals),
            "found": len(app.session.snapshot.found),
        }

    def journal(self) -> Any:
        """The progress screen's first found row opens stop 1's story again."""
        from kivy.factory import Factory

        app = self.app
        app.show_screen("progress")
        yield ("sleep", 0.5)
        progress = app.screen("progress")
        rows = [w for w in progress.ids.found.children if isinstance(w, Factory.FoundRow)]
        row = next(r for r in rows if r.left_text.startswith("1. "))
        row.dispatch("on_release")
        yield ("wait", lambda: app.current == "reveal", 5, "stop 1's reveal again")
        yield ("sleep", 0.3)
        reveal = app.screen("reveal")
        self.report["facts"]["journal"] = {
            "rows": len(rows),
            "headline": reveal.headline,
            "story": reveal.story,
            "letter": reveal.letter,
            "button": reveal.button_text(reveal.chosen, reveal.more, app.lang),
        }
        yield ("shoot", "reveal-journal", 0.6)
        self.press("reveal", "Back to the list")
        yield ("wait", lambda: app.current == "progress", 5, "back to the list")

    def settings_in_play(self) -> Any:
        """The navigation's settings switch to Leichte Sprache without leaving the rally."""
        from kivy.factory import Factory

        app = self.app
        nav = next(
            w
            for w in app.root.walk(restrict=True)
            if isinstance(w, Factory.NavButton) and w.text == "Settings"
        )
        label = nav.text
        nav.trigger_action(duration=0)
        yield ("wait", lambda: app.current == "settings", 5, "the settings screen")
        screen = app.screen("settings")
        easy = next(w for w in screen.walk() if getattr(w, "text", None) == "Leichte Sprache")
        easy.state = "down"
        easy.dispatch("on_release")
        yield ("wait", lambda: app.snapshot.language == "de-x-ls", 10, "Leichte Sprache")
        self.report["facts"]["settings"] = {
            "language": app.session.settings.language,
            "joined": app.joined,
            "nav": label,
        }
        yield ("shoot", "settings-easy", 0.5)
        app.set_language("en")
        yield ("wait", lambda: app.snapshot.language == "en", 10, "English again")

    def leave_with_waiting_events(self) -> Any:
        """A scan waits in the outbox: leaving warns and offers to wait; waiting sends it and
        then leaves."""
        app, spec = self.app, self.spec
        server = self.offline()
        yield from self.scan_offline(spec["stops"][5:6])
        app.show_screen("progress")
        progress = app.screen("progress")
        yield ("sleep", 0.3)
        progress.leave()
        yield ("sleep", 0.5)
        self.report["facts"]["after_one_tap"] = [app.current, app.joined]
        self.report["facts"]["leave_warning"] = progress.leave_warning
        yield ("shoot", "progress-leave-warning", 0.6)
        app.session.api.base_url = server
        self.press("progress", "Wait and send")
        yield ("wait", lambda: app.current == "start" and not app.joined, 30, "leaving")
        self.report["facts"]["after_two_taps"] = [app.current, app.session.settings.team_token]
        self.report["facts"]["sent_before_leaving"] = spec["stops"][5]["marker_id"]

    def start_error_and_keyboard(self) -> Any:
        """An error shows beside the button that failed; a focused field at the bottom is
        scrolled into view, and above a soft keyboard."""
        from kivy.core.window import Window

        from client.screens.base import keep_in_view

        start = self.app.screen("start")
        scroll = start.children[0]

        def in_view(widget: Any, covered: float = 0.0) -> bool:
            low = max(scroll.to_window(scroll.x, scroll.y)[1], covered)
            high = scroll.to_window(scroll.x, scroll.top)[1]
            y = widget.to_window(widget.x, widget.y)[1]
            return low <= y and y + widget.height <= high

        scroll.scroll_y = 1
        start.ids.team_name.text = ""
        yield ("sleep", 0.3)
        start.create_team()
        yield ("sleep", 0.5)
        label = start.ids.message_team
        facts: dict[str, Any] = {
            "text": label.text,
            "in_view": in_view(label),
            "top_text": start.ids.message_top.text,
        }
        yield ("shoot", "start-error", 0.5)
        scroll.scroll_y = 1
        yield ("sleep", 0.3)
        field = start.ids.join_code
        facts["field_in_view_before"] = in_view(field)
        field.focus = True
        yield ("sleep", 0.8)
        facts["field_in_view_focused"] = in_view(field)
        keyboard = Window.height * 0.4
        keep_in_view(field, covered=keyboard)
        yield ("sleep", 0.3)
        # as high as scrolling allows; the rest is the window's pan (softinput_mode)
        facts["field_above_keyboard"] = in_view(field, keyboard) or scroll.scroll_y == 0.0
        facts["scroll_y_keyboard"] = scroll.scroll_y
        facts["softinput_mode"] = Window.softinput_mode
        field.focus = False
        self.report["facts"]["start"] = facts

    def read_aloud(self, screen: str) -> Any:
        """Press the screen's first read-aloud button, then again: what the speaker was asked to
        say, and the button's text while it reads and after."""
        from kivy.factory import Factory

        app = self.app
        speaker = app.reader.speaker
        button = next(
            w
            for w in app.screen(screen).walk(restrict=True)
            if isinstance(w, Factory.SpeakButton) and w.speak_text
        )
        facts: dict[str, Any] = {"label": button.text, "size": list(button.size)}
        button.trigger_action(duration=0)
        yield ("wait", lambda: app.reading == button.key, 5, f"reading on the {screen} screen")
        facts["said"] = [[u.text, u.lang, u.locale] for u in speaker.said]
        facts["label_reading"] = button.text
        button.trigger_action(duration=0)
        yield ("wait", lambda: app.reading == "", 5, f"stop reading on the {screen} screen")
        facts["stops"] = speaker.stops
        facts["label_after"] = button.text
        speaker.said.clear()
        speaker.stops = 0
        self.report["facts"][f"read_aloud_{screen}"] = facts

    def take_hint(self) -> Any:
        """Stop 1's first hint on the clue screen: the button, its confirmation, the hint (also
        in Leichte Sprache)."""
        from kivy.factory import Factory

        app = self.app
        card = next(w for w in app.screen("clue").walk() if isinstance(w, Factory.TargetCard))
        facts: dict[str, Any] = {"button": card.hint_button}
        button = next(
            w for w in card.walk() if isinstance(w, Factory.Action) and w.text == card.hint_button
        )
        button.trigger_action(duration=0)
        yield ("wait", lambda: card.confirming, 5, "the hint's confirmation")
        yield ("shoot", "clue-hint-confirm", 0.5)
        yes = next(w for w in card.walk() if getattr(w, "text", "") == "Yes, show the hint")
        yes.trigger_action(duration=0)
        yield ("wait", lambda: card.hints_text and self.answered(), 30, "the hint")
        facts["hints_text"] = card.hints_text
        facts["button_after"] = card.hint_button
        facts["score"] = app.snapshot.team["score"]
        yield ("shoot", "clue-hint", 0.6)
        hint = card.hints_text
        app.set_language("de-x-ls")
        yield (
            "wait",
            lambda: "Der Turm" in card.hints_text and self.answered(),
            30,
            "the hint in Leichte Sprache",
        )
        facts["hints_text_easy"] = card.hints_text
        yield ("shoot", "clue-hint-easy", 0.6)
        app.set_language("en")
        yield ("wait", lambda: card.hints_text == hint and self.answered(), 30, "English again")
        self.report["facts"]["hint"] = facts

    def answer_task(self) -> Any:
        """Stop 1's task on the reveal screen: a wrong year, then the right one."""
        app = self.app
        reveal = app.screen("reveal")
        card = reveal.ids.task
        scroll = reveal.children[0]
        facts: dict[str, Any] = {"question": card.question, "info": card.info}
        facts["letter_before"] = reveal.letter
        scroll.scroll_to(card, padding=10, animate=False)
        card.ids.entry.text = ""
        card.ids.entry.insert_text("18x90")  # the numeric input drops the x
        facts["typed"] = card.ids.entry.text
        card.submit()
        yield ("wait", lambda: card.tone == "wrong", 30, "the wrong answer's verdict")
        facts["wrong"] = card.verdict
        facts["info_after_wrong"] = card.info
        yield ("shoot", "reveal-task", 0.6)
        question = card.question
        app.set_language("de-x-ls")
        yield ("wait", lambda: card.question != question and self.answered(), 30, "LS task")
        scroll.scroll_to(card, padding=10, animate=False)
        facts["question_easy"] = card.question
        yield ("shoot", "reveal-task-easy", 0.6)
        app.set_language("en")
        yield ("wait", lambda: card.question == question and self.answered(), 30, "English")
        card.ids.entry.text = "1892"
        card.submit()
        yield ("wait", lambda: card.tone == "correct", 30, "the right answer's verdict")
        facts["correct"] = card.verdict
        facts["answer"] = card.answer
        facts["can_answer"] = card.can_answer
        facts["letter_after"] = reveal.letter
        scroll.scroll_to(card, padding=10, animate=False)
        yield ("shoot", "reveal-solved", 0.6)
        self.report["facts"]["task"] = facts

    def answered(self) -> bool:
        snap = self.app.snapshot
        return snap is not None and snap.pending == 0 and snap.online

    def fix(self, where: Any, at: Any, accuracy: float = 6.0) -> None:
        from client.sensors import Fix

        self.app.session.handle_fix(Fix(where.lat, where.lon, accuracy, at))

    def look(self, heading: float) -> None:
        for _ in range(3):
            self.app.session.handle_heading(heading % 360.0)

    def tap_out_of_cardboard(self) -> Any:
        """A tap on the screen (through the window, as a finger's) leaves Cardboard mode."""
        from kivy.core.window import Window
        from kivy.tests.common import UnitTestTouch

        touch = UnitTestTouch(Window.width * 0.3, Window.height * 0.5)
        touch.touch_down()
        touch.touch_up()
        yield ("sleep", 0.8)
        self.report["facts"]["after_tap"] = {
            "cardboard": self.app.cardboard,
            "window": list(Window.size),
        }

    def ar_facts(self) -> dict[str, Any]:
        from kivy.core.window import Window

        view = self.app.screen("arview").ids.ar
        view.redraw()
        return {
            "window": list(Window.size),
            "view_fov": view.view_fov,
            "width": view.width,
            "height": view.height,
            "placed": [
                {
                    "stop": p.stop,
                    "x": p.point.x,
                    "y": p.point.y,
                    "size": p.point.size,
                    "visible": p.point.visible,
                    "edge": p.point.edge and p.point.edge.value,
                    "distance_m": p.point.distance_m,
                }
                for p in view.placed
            ],
        }


def visible_texts(root: Any) -> list[str]:
    """The text of every label drawn on screen, top to bottom."""
    from kivy.uix.label import Label

    found = []
    for widget in root.walk(restrict=True):
        if (
            isinstance(widget, Label)
            and widget.text
            and widget.opacity > 0
            and widget.height > 0
            and widget.get_root_window() is not None
        ):
            hidden = any(p.opacity == 0 for p in _parents(widget))
            if not hidden:
                found.append((-widget.to_window(*widget.pos)[1], widget.text))
    return [text for _, text in sorted(found, key=lambda f: f[0])]


def _parents(widget: Any) -> list[Any]:
    out = []
    while widget.parent is not None and widget.parent is not widget:
        widget = widget.parent
        out.append(widget)
    return out


def heading_font(app: Any) -> float:
    """The font size of the clue screen's heading."""
    from kivy.uix.label import Label

    labels = [w for w in app.screen("clue").walk() if isinstance(w, Label) and w.bold]
    return max(w.font_size for w in labels)


if __name__ == "__main__":
    from kivy.clock import Clock

    from client.app import ArtCachingApp
    from client.options import parse_args
    from client.window import prepare_window

    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    options = parse_args(
        [
            "--server",
            spec["server"],
            "--data-dir",
            spec["data_dir"],
            "--lang",
            "en",
            "--tile-url",
            "",
            "--heading",
            "off",
            "--frames",
            spec["scene"],
        ]
    )
    prepare_window()
    app = ArtCachingApp(options)
    from client.speech import RecordingSpeaker

    app.reader.speaker = RecordingSpeaker()
    driver = Driver(app, spec)
    Clock.schedule_once(driver.begin, 0.5)
    app.run()
    sys.exit(app.exit_code)
