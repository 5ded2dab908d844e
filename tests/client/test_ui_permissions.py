"""The permissions as a player meets them, in a real Kivy window under Xvfb: the note before
Android's dialog, location refused (the clue says so and offers the QR codes), then in the
phone's settings only approximate location, then the camera taken back (each read again on
resume), and pause/resume stopping and restarting the sensors.

The desktop stands in for Android through --deny (client/permissions.py's SimulatedBackend, which
answers after returning, from another thread, as Android does); the request's Android-side
behaviour is in tests/client/test_permissions.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.client.conftest import kivy_environment, kivy_log, run_python, serving_demo
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.kivy, pytest.mark.slow]

TEAM = "Refusers"


@pytest.fixture(scope="module")
def run(xvfb_display, tmp_path_factory) -> dict[str, Any]:
    from tests.client.test_ui_screens import street_scene

    folder = tmp_path_factory.mktemp("ui-permissions")
    shots = ARTIFACTS / "client-ui-permissions"
    shots.mkdir(parents=True, exist_ok=True)
    with serving_demo(folder) as demo:
        (folder / "scene").mkdir()
        street_scene().save(folder / "scene" / "street.png")
        stop1 = demo.stops()[0]
        (folder / "walk.gpx").write_text(walk_gpx(stop1["lat"], stop1["lon"]), encoding="utf-8")
        spec = {
            "walk": str(folder / "walk.gpx"),
            "server": demo.url,
            "rally": demo.slug,
            "data_dir": str(folder / "data"),
            "shots": str(shots),
            "scene": str(folder / "scene"),
            "report": str(folder / "report.json"),
        }
        spec_path = folder / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        env = kivy_environment(xvfb_display, folder / "kivy-home")
        result = run_python(
            env, ["-m", "tests.client.test_ui_permissions", str(spec_path)], timeout_s=180
        )
        report_path = Path(spec["report"])
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        assert result.returncode == 0 and not report.get("error"), (
            f"the UI child failed ({result.returncode}): {report.get('error')}\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}\n{kivy_log(env)}"
        )
    report["shots"] = shots
    return report


def walk_gpx(lat: float, lon: float) -> str:
    """A short walk 300 m south of a stop: what the GPS would report."""
    points = "".join(
        f'<trkpt lat="{lat - 0.0027 + i * 0.0001:.6f}" lon="{lon:.6f}"/>' for i in range(3)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
        f"{points}</trkseg></trk></gpx>"
    )


def shown(run: dict[str, Any], shot: str) -> str:
    return "\n".join(run["texts"][shot])


def test_a_note_comes_before_one_request_for_everything(run):
    facts = run["facts"]
    assert facts["note"]["open"] and facts["note"]["asked_before"] == []
    assert "Android will now ask you for both." in facts["note"]["text"]
    assert facts["asked"] == [
        [
            "android.permission.ACCESS_FINE_LOCATION",
            "android.permission.ACCESS_COARSE_LOCATION",
            "android.permission.CAMERA",
        ]
    ]
    assert (run["shots"] / "client-clue-note.png").exists()


def test_refused_location_says_so_and_offers_the_qr_codes(run):
    text = shown(run, "clue-no-location")
    assert "Location is not allowed, so the app cannot tell where you are." in text
    assert "Scan a QR code" in text
    assert "No location: use the QR code at the stop." in text
    assert "Waiting for GPS" not in text
    facts = run["facts"]
    assert facts["denied_running"] == [], "no GPS without the permission, no camera on the clue"
    assert facts["offer_leads_to"] == ["scan", ["camera"]]


def test_approximate_location_says_so_on_the_map(run):
    text = shown(run, "map-approximate")
    assert "Only your approximate location is allowed" in text and "Scan a QR code" in text
    assert run["facts"]["paused_running"] == []
    assert run["facts"]["approximate_running"] == ["location"]


def test_a_refused_camera_says_so_and_gps_play_goes_on(run):
    assert "The camera is not allowed" in shown(run, "scan-no-camera")
    assert "The camera is not allowed" in shown(run, "arview-no-camera")
    assert "Location is not allowed" not in shown(run, "arview-no-camera")
    assert run["facts"]["no_camera_running"] == ["compass", "location"]
    assert run["facts"]["no_camera_picture"], "no old camera picture behind the note"


def test_the_screen_is_kept_on_while_playing(run):
    assert run["facts"]["screen_on"] == [True, False]


# --- the child: this module run as a script -------------------------------------------------------


def script(driver: Any) -> Any:
    from client import permissions as perms
    from client.screens.tour import Tour

    app, spec, facts = driver.app, driver.spec, driver.report["facts"]
    driver.tour = Tour(app, Path(spec["shots"]))
    backend = app.permissions.backend
    yield ("wait", lambda: app.joined and app.current == "clue" and app._note, 30, "the note")
    note = app._note
    facts["note"] = {
        "open": note.parent is not None,
        "asked_before": list(backend.asked),
        "text": "\n".join(w.text for w in note.walk() if getattr(w, "text", "")),
    }
    yield ("shoot", "clue-note", 0.5)
    go = next(w for w in note.walk() if getattr(w, "text", "") == "Continue")
    go.trigger_action(duration=0)
    yield ("wait", lambda: app.grants is not None, 10, "the answer")
    facts["asked"] = backend.asked
    yield ("wait", lambda: app.snapshot and app.snapshot.targets, 30, "the clue")
    facts["denied_running"] = sorted(app._running)
    yield ("shoot", "clue-no-location", 0.6)
    offer = next(
        w
        for w in app.screen("clue").walk()
        if getattr(w, "text", "") == "Scan a QR code" and w.opacity > 0
    )
    offer.trigger_action(duration=0)
    yield ("sleep", 0.3)
    facts["offer_leads_to"] = [app.current, sorted(app._running)]

    # In the phone's settings the player allows approximate location only
    app.show_screen("map")
    yield ("sleep", 0.3)
    app.on_pause()
    facts["paused_running"] = sorted(app._running)
    backend.denied = {perms.FINE_LOCATION}
    app.on_resume()
    facts["approximate_running"] = sorted(app._running)
    yield ("shoot", "map-approximate", 0.8)

    # ...then precise location, but takes the camera back
    app.on_pause()
    backend.denied = {perms.CAMERA}
    app.on_resume()
    app.show_screen("scan")
    yield ("shoot", "scan-no-camera", 0.6)
    app.show_screen("arview")
    yield ("sleep", 0.3)
    facts["no_camera_running"] = sorted(app._running)
    facts["no_camera_picture"] = app.frame_texture is None
    yield ("shoot", "arview-no-camera", 0.6)

    facts["screen_on"] = [app.screen_kept_on]
    app.leave_rally()
    yield ("sleep", 0.3)
    facts["screen_on"].append(app.screen_kept_on)


if __name__ == "__main__":
    from kivy.clock import Clock

    from client.app import ArtCachingApp
    from client.options import parse_args
    from client.window import prepare_window
    from tests.client.test_ui_screens import Driver

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
            "0",
            "--frames",
            spec["scene"],
            "--rally",
            spec["rally"],
            "--team",
            TEAM,
            "--deny",
            "location",
            "--simulate-gpx",
            spec["walk"],
        ]
    )
    prepare_window()
    app = ArtCachingApp(options)

    class PermissionDriver(Driver):
        def script(self) -> Any:
            return script(self)

    driver = PermissionDriver(app, spec)
    Clock.schedule_once(driver.begin, 0.5)
    app.run()
    sys.exit(app.exit_code)
