"""The short code under a QR code, typed in the app (issue 11): the session stores it as a scan
event (the outbox sends it, once, also in a batch after an outage), a wrong code is the scan's
result; and the scan screen's field and button in a real Kivy window under Xvfb."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from client import i18n
from client.session import GameSession
from markers import shortcodes
from tests.client.conftest import kivy_environment, kivy_log, run_python, serving_demo
from tests.conftest import ARTIFACTS

TEAM = "Code Typers"


def stop_codes(app, rally_id: int) -> list[str]:
    from server import models
    from server.extensions import db

    with app.app_context():
        return [s.code for s in db.session.get(models.Rally, rally_id).stops]


def discoveries(app) -> list[str]:
    from sqlalchemy import select

    from server import models
    from server.extensions import db

    with app.app_context():
        return list(db.session.scalars(select(models.Discovery.method)))


def test_a_typed_code_is_sent_as_a_scan_and_finds_the_stop(live_server, demo, app, tmp_path):
    slug, rally_id = demo
    code = stop_codes(app, rally_id)[0]
    with GameSession(tmp_path / "phone") as session:
        session.set_server(live_server)
        session.set_language("en")
        session.start_rally(slug, "Tipper", "en").result(10)
        assert session.handle_typed_code(shortcodes.display(code).lower())
        pending = session.outbox.pending()
        assert [e.kind for e in pending] == ["scan"]
        assert pending[0].payload["code"] == shortcodes.display(code)
        assert "token" not in pending[0].payload
        assert session.snapshot.last_result == i18n.t("qr.stored", "en")
        session.sync_now().result(10)
        snap = session.snapshot
        assert snap.progress == (1, 10) and snap.found[0]["method"] == "qr"
        assert snap.last_result == i18n.t("result.found", "en")
        assert session.handle_typed_code(code), "a typed code is sent each time it is typed"
        session.sync_now().result(10)
        assert session.snapshot.last_result == i18n.t("result.already_found", "en")
    assert discoveries(app) == ["qr"]


def test_not_a_code_stays_on_the_phone_and_a_wrong_one_is_the_scans_result(
    live_server, demo, app, tmp_path
):
    slug, _ = demo
    with GameSession(tmp_path / "phone") as session:
        session.set_server(live_server)
        session.set_language("de")
        session.start_rally(slug, "Vertipper", "de").result(10)
        for typed in ("", "KM7", "<b>KM74QX</b>", "x" * 100, "KM7\x004QX"):
            assert not session.handle_typed_code(typed)
            assert session.snapshot.last_result == i18n.t("qr.code_invalid", "de")
        assert session.outbox.pending() == []
        assert session.handle_typed_code("ZZZ-ZZZ")
        session.sync_now().result(10)
        assert session.outbox.pending() == []
        result = session.snapshot.last_result
        assert "Diesen Stationscode gibt es nicht" in result, result


def test_codes_typed_offline_go_out_in_one_batch(restartable_server, demo, app, tmp_path):
    slug, rally_id = demo
    codes = stop_codes(app, rally_id)
    with GameSession(tmp_path / "phone") as session:
        session.set_server(restartable_server.url)
        session.start_rally(slug, "Offline", "en").result(10)
        restartable_server.stop()
        assert session.handle_typed_code(codes[0])
        assert session.handle_typed_code(codes[0])
        assert session.sync_now().exception(10) is not None
        assert session.snapshot.pending == 2
        restartable_server.start()
        session.sync_now().result(10)
        assert session.snapshot.pending == 0
        assert session.snapshot.progress == (1, 10)
    assert discoveries(app) == ["qr"]


def test_without_a_team_a_code_is_not_stored(tmp_path):
    with GameSession(tmp_path / "phone") as session:
        session.set_language("en")
        assert not session.handle_typed_code("KM7-4QX")
        assert session.snapshot.last_result == i18n.t("error.no_team", "en")


# --- the scan screen in a Kivy window ---------------------------------------------------------


@pytest.fixture(scope="module")
def ui(xvfb_display, tmp_path_factory) -> dict[str, Any]:
    from tests.client.test_ui_screens import street_scene

    folder = tmp_path_factory.mktemp("ui-codes")
    shots = ARTIFACTS / "client-ui-codes"
    shots.mkdir(parents=True, exist_ok=True)
    with serving_demo(folder) as demo:
        (folder / "scene").mkdir()
        street_scene().save(folder / "scene" / "street.png")
        spec = {
            "server": demo.url,
            "rally": demo.slug,
            "data_dir": str(folder / "data"),
            "shots": str(shots),
            "scene": str(folder / "scene"),
            "report": str(folder / "report.json"),
            "code": stop_codes(demo.app, demo.rally_id)[0],
        }
        spec_path = folder / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        env = kivy_environment(xvfb_display, folder / "kivy-home")
        result = run_python(
            env, ["-m", "tests.client.test_typed_codes", str(spec_path)], timeout_s=180
        )
        report_path = Path(spec["report"])
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        assert result.returncode == 0 and not report.get("error"), (
            f"the UI child failed ({result.returncode}): {report.get('error')}\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}\n{kivy_log(env)}"
        )
        report["discoveries"] = demo.discoveries(TEAM)
    report["shots"] = shots
    return report


def shown(ui: dict[str, Any], shot: str) -> str:
    return "\n".join(ui["texts"][shot])


@pytest.mark.kivy
@pytest.mark.slow
def test_the_scan_screen_offers_a_field_for_the_code(ui):
    text = shown(ui, "scan-code")
    assert "No scan? Type the code under the QR code:" in text and "Send code" in text
    assert (ui["shots"] / "client-scan-code.png").exists()


@pytest.mark.kivy
@pytest.mark.slow
def test_a_wrong_code_says_so_and_stays_in_the_field(ui):
    facts = ui["facts"]
    assert facts["wrong"]["field"] == "KM7", "not sent: the player can correct it"
    assert "That is not a stop's code" in facts["wrong"]["result"]


@pytest.mark.kivy
@pytest.mark.slow
def test_the_typed_code_finds_the_stop(ui):
    facts = ui["facts"]
    assert facts["typed"]["field"] == "", "sent: the field is empty again"
    assert facts["typed"]["visible_field"], "the field shows above the bottom edge"
    assert ui["discoveries"] == [(1, "qr")]


@pytest.mark.kivy
@pytest.mark.slow
def test_the_field_and_button_in_german_with_large_text(ui):
    text = shown(ui, "scan-code-de-large")
    assert "Kein Scan? Tippe den Code unter dem QR-Code:" in text and "Code senden" in text
    assert ui["facts"]["large"]["inside"], "field and button fit on the screen"


# --- the child: this module run as a script -------------------------------------------------------


def script(driver: Any) -> Any:
    from client.screens.tour import Tour

    app, spec, facts = driver.app, driver.spec, driver.report["facts"]
    driver.tour = Tour(app, Path(spec["shots"]))
    yield ("wait", lambda: app.joined and app.snapshot and app.snapshot.team, 30, "the team")
    app.show_screen("scan")
    yield ("sleep", 0.5)
    screen = app.screen("scan")
    field = screen.ids.code
    field.focus = True
    field.insert_text("km7")
    yield ("sleep", 0.2)
    screen.ids.send_code.trigger_action(duration=0)
    yield ("sleep", 0.3)
    facts["wrong"] = {"field": field.text, "result": screen.result}
    field.text = ""
    field.insert_text(shortcodes.display(spec["code"]).lower())
    yield ("shoot", "scan-code", 0.5)
    field.dispatch("on_text_validate")
    yield ("wait", lambda: app.snapshot.progress[0] == 1, 30, "the find")
    facts["typed"] = {
        "field": field.text,
        "visible_field": field.y >= 0 and field.top <= app.root.height,
    }
    app.set_language("de")
    app.set_large_text(True)
    yield ("sleep", 0.5)
    box = screen.ids.code_box
    button = screen.ids.send_code
    facts["large"] = {
        "inside": box.y >= 0 and box.top <= app.root.height and button.width <= app.root.width
    }
    yield ("shoot", "scan-code-de-large", 0.5)


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
        ]
    )
    prepare_window()
    app = ArtCachingApp(options)

    class CodeDriver(Driver):
        def script(self) -> Any:
            return script(self)

    driver = CodeDriver(app, spec)
    Clock.schedule_once(driver.begin, 0.5)
    app.run()
    sys.exit(app.exit_code)
