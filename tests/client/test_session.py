"""The game session: scans, offline play, restart, nothing twice; settings and the rally pack."""

from __future__ import annotations

import contextlib
import io
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest

from client import i18n
from client.api import ApiError, NetworkError
from client.sensors import Fix
from client.session import GameSession, Snapshot
from client.settings import Settings
from client.settings import load as load_settings
from markers.geo import LatLon, destination
from tests.client.test_targets import TEAM
from tests.live import StubServer


@pytest.fixture
def app(make_app):
    """The walks below carry walking-pace times from now on; the server allows them."""
    return make_app(MAX_CLOCK_SKEW_S=86400)


# --- snapshots --------------------------------------------------------------------------------


def test_snapshot_properties():
    snap = Snapshot(team={**TEAM, "join_code": "ABCD12"})
    assert snap.joined and not snap.finished
    assert snap.progress == (0, 3) and snap.solution == "_ _ _" and snap.join_code == "ABCD12"
    assert Snapshot(rally={"stops": 10}).progress == (0, 10)
    assert not Snapshot().joined


# --- against the real server ------------------------------------------------------------------


def demo_stops(app, rally_id: int) -> list[LatLon]:
    from server import models
    from server.extensions import db

    with app.app_context():
        return [
            LatLon(s.marker.lat, s.marker.lon) for s in db.session.get(models.Rally, rally_id).stops
        ]


def server_events(app, team_id: int) -> list[str]:
    from sqlalchemy import select

    from server import models
    from server.extensions import db

    with app.app_context():
        return list(
            db.session.scalars(
                select(models.ClientEvent.client_event_id).filter_by(team_id=team_id)
            )
        )


def server_found(app, team_id: int) -> tuple[int, int]:
    from server import models
    from server.extensions import db

    with app.app_context():
        team = db.session.get(models.Team, team_id)
        return team.found_count, len(team.discoveries)


def walk_to(
    session: GameSession, target: LatLon, start: datetime, seconds: float = 60.0, steps: int = 13
) -> datetime:
    """Fixes closing in on target (from 60 m south) at walking pace; returns the last time."""
    for i in range(steps):
        left = 60.0 * (1 - i / (steps - 1))
        when = start + timedelta(seconds=seconds * i / (steps - 1))
        p = destination(target, 180, left)
        session.handle_fix(Fix(p.lat, p.lon, 5.0, when))
    return when


def test_start_rally_keeps_token_settings_and_pack(restartable_server, demo, tmp_path):
    slug, _ = demo
    with GameSession(tmp_path / "phone") as session:
        session.set_server(restartable_server.url)
        team = session.start_rally(slug, "Lautrer", "en").result(10)
        assert team["name"] == "Lautrer"
        snap = session.snapshot
        assert snap.joined and snap.rally["slug"] == slug and snap.online
        assert len(snap.targets) == 1 and snap.targets[0].stop == 1
    settings = load_settings(tmp_path / "phone")
    assert settings.rally_slug == slug and settings.team_token and settings.join_code
    assert settings.server_url == restartable_server.url
    restartable_server.stop()
    with GameSession(tmp_path / "phone") as session:
        assert session.resume()
        snap = session.snapshot
        assert snap.rally["slug"] == slug, "the rally pack works without network"
        assert snap.team["name"] == "Lautrer"
        assert session.pack.clues()[0]["stop"] == 1
        with pytest.raises(NetworkError):
            session.sync_now().result(10)
        assert not session.snapshot.online
        assert session.snapshot.last_error == i18n.t("error.network")


def test_offline_finds_wait_and_are_sent_once(restartable_server, demo, app, tmp_path):
    """Stop 1 found by GPS while the server is down: the check-ins wait in the outbox; the
    phone restarts; the server comes back: everything arrives once and counts once."""
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    start = datetime.now(UTC) + timedelta(seconds=5)
    with GameSession(tmp_path / "phone") as session:
        session.set_server(restartable_server.url)
        team_id = session.start_rally(slug, "Offline", "en").result(10)["id"]
        restartable_server.stop()
        walk_to(session, stops[0], start)
        with pytest.raises(NetworkError):
            session.sync_now().result(10)
        snap = session.snapshot
        waiting = snap.pending
        assert waiting >= 10, "offline, every 5 s a check-in is kept"
        assert not snap.online and snap.progress == (0, 10)
        ids = [e.id for e in session.outbox.pending()]
    restartable_server.start()
    with GameSession(tmp_path / "phone") as session:
        assert session.resume()
        assert session.snapshot.pending == waiting
        session.sync_now().result(10)
        snap = session.snapshot
        assert snap.pending == 0 and snap.online
        assert snap.progress == (1, 10)
        assert snap.last_reveal["stop"] == 1 and snap.last_reveal["story"]
        assert [t.stop for t in snap.targets] == [2]
        session.sync_now().result(10)
    assert sorted(server_events(app, team_id)) == sorted(ids)
    assert server_found(app, team_id) == (1, 1)


def test_an_event_sent_again_after_a_lost_answer_counts_once(
    restartable_server, demo, app, tmp_path
):
    """The server got the find but the phone died before noting the answer: the outbox sends
    it again with the same client_event_id; the server answers as before, counts nothing new."""
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    with GameSession(tmp_path / "phone") as session:
        session.set_server(restartable_server.url)
        team_id = session.start_rally(slug, "Twice", "en").result(10)["id"]
        walk_to(session, stops[0], datetime.now(UTC) + timedelta(seconds=5))
        session.sync_now().result(10)
        assert session.snapshot.progress == (1, 10)
        answered = [e.id for e in session.outbox.answered(100)]
    db = sqlite3.connect(tmp_path / "phone" / "outbox.sqlite3")
    db.execute("UPDATE events SET state = 'pending', response = NULL")
    db.commit()
    db.close()
    with GameSession(tmp_path / "phone") as session:
        session.resume()
        assert session.snapshot.pending == len(answered)
        session.sync_now().result(10)
        assert session.snapshot.pending == 0
        assert session.snapshot.progress == (1, 10)
    assert server_found(app, team_id) == (1, 1)
    assert len(server_events(app, team_id)) == len(answered)


def test_background_sync_sends_without_being_asked(live_server, demo, app, tmp_path):
    slug, rally_id = demo
    stops = demo_stops(app, rally_id)
    with GameSession(tmp_path / "phone", sync_interval_s=0.2) as session:
        session.set_server(live_server)
        session.start_rally(slug, "Background", "de").result(10)
        walk_to(session, stops[0], datetime.now(UTC) + timedelta(seconds=5))
        deadline = time.monotonic() + 60
        while session.snapshot.progress[0] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert session.snapshot.progress == (1, 10)
        assert session.snapshot.last_result == i18n.t("result.found", "de")


def test_a_phone_in_leichte_sprache(live_server, demo, tmp_path):
    """The app's texts, the team's language and the server's messages in Leichte Sprache (the
    team row holds "de-x-ls": String(10), which needs the migration on PostgreSQL)."""
    from server.i18n import CATALOGUE as SERVER_TEXTS

    slug, _ = demo
    easy = "de-x-ls"
    with GameSession(tmp_path / "phone") as session:
        session.set_server(live_server)
        session.set_language(easy)
        assert load_settings(tmp_path / "phone").language == easy
        wrong = session.join_team(slug, "ZZZZ2222").exception(10)
        server_says = SERVER_TEXTS.t("errors.join_code_unknown", easy)
        assert server_says != SERVER_TEXTS.t("errors.join_code_unknown", "de")
        assert session.describe_error(wrong) == i18n.t("error.rejected", message=server_says)
        team = session.start_rally(slug, "Einfach").result(10)
        assert team["language"] == easy
        assert not session.handle_qr_text("https://example.org/menu")
        assert session.snapshot.last_result == i18n.t("qr.not_ours", easy)


def test_scans_from_text_and_frames(live_server, demo, app, tmp_path):
    from markers import qr
    from server import game, models
    from server.extensions import db

    slug, rally_id = demo
    with app.app_context():
        markers = [s.marker.id for s in db.session.get(models.Rally, rally_id).stops]
        first, third = (game.qr_url_for(rally_id, m) for m in (markers[0], markers[2]))
    seen: list[Snapshot] = []
    with GameSession(tmp_path / "phone") as session:
        unsubscribe = session.subscribe(seen.append)
        session.set_server(live_server)
        session.set_language("en")
        session.start_rally(slug, "Scanners", "en").result(10)
        assert not session.handle_qr_text("https://example.org/menu")
        assert session.snapshot.last_result == i18n.t("qr.not_ours", "en")
        assert session.handle_qr_text(third)
        assert not session.handle_qr_text(third), "the same code, nothing changed: not again"
        session.sync_now().result(10)
        assert session.snapshot.last_result == i18n.t("result.not_open", "en")
        from PIL import Image

        frame = Image.open(io.BytesIO(qr.png_bytes(first, 8))).convert("RGB")
        assert session.handle_frame(frame).result(10) == [first]
        session.sync_now().result(10)
        snap = session.snapshot
        assert snap.progress == (1, 10)
        assert snap.found[0]["method"] == "qr"
        assert snap.last_result == i18n.t("result.found", "en")
        assert session.handle_qr_text(third), "stop 2 is open now: worth another try"
        unsubscribe()
        count = len(seen)
        session.handle_heading(90)
        assert len(seen) == count
    assert any(s.pending for s in seen) and seen[-1].progress == (1, 10)


def test_a_failing_listener_does_not_stop_the_others(tmp_path):
    got = []

    def broken(snapshot):
        raise RuntimeError("a screen has a bug")

    with GameSession(tmp_path / "phone") as session:
        session.subscribe(broken)
        session.subscribe(got.append)
        session.handle_heading(10, pitch_deg=5)
        session.handle_heading(20)
    assert got[-1].heading_deg is not None and got[-1].pitch_deg > 0


def test_leave_forgets_team_and_waiting_events(live_server, demo, tmp_path):
    slug, _ = demo
    with GameSession(tmp_path / "phone") as session:
        session.set_server(live_server)
        session.start_rally(slug, "Leavers", "en").result(10)
        session.handle_fix(Fix(49.4, 7.7, 5, datetime.now(UTC)))
        assert session.snapshot.pending == 1
        session.leave()
        snap = session.snapshot
        assert not snap.joined and snap.pending == 0
        assert not session.handle_qr_text("https://artcaching.example.org/q/AQEBAQxyzxyzxyzxyzxyz")
    settings = load_settings(tmp_path / "phone")
    assert settings.team_token is None and settings.rally_slug is None


def test_describe_error_in_both_languages(tmp_path):
    from client.api import ApiError

    with GameSession(tmp_path / "phone") as session:
        session.set_language("de")
        assert session.describe_error(NetworkError("x")) == i18n.t("error.network", "de")
        assert "503" in session.describe_error(ApiError(503, "busy"))
        session.set_language("en")
        assert session.describe_error(ApiError(429, "rate_limited")) == i18n.t(
            "error.rate_limited", "en"
        )
        assert "Name taken" in session.describe_error(ApiError(409, "x", "Name taken"))


# --- settings and the rally pack --------------------------------------------------------------


def test_settings_round_trip_and_clear_errors(tmp_path):
    from client.settings import Settings, SettingsError, save

    assert load_settings(tmp_path) == Settings()
    chosen = Settings(
        server_url="https://play.example.org",
        language="en",
        large_text=True,
        rally_slug="demo",
        team_token="t0k3n",
        join_code="ABCD12",
        team_server="https://play.example.org",
        ca_file="/etc/artcaching/ca.pem",
    )
    save(tmp_path, chosen)
    assert load_settings(tmp_path) == chosen
    (tmp_path / "settings.json").write_text('{"language": "fr"}')
    with pytest.raises(SettingsError, match=r"settings\.json.*language"):
        load_settings(tmp_path)
    (tmp_path / "settings.json").write_text("{not json")
    with pytest.raises(SettingsError, match=r"settings\.json: cannot read"):
        load_settings(tmp_path)
    with pytest.raises(SettingsError, match="server_url"):
        Settings(server_url="play.example.org")


def test_pack_keeps_every_clue_and_find(tmp_path):
    from client.pack import RallyPack

    pack = RallyPack(tmp_path, "demo")
    assert pack.team() is None and pack.clues() == [] and pack.found() == []
    pack.save_rally({"slug": "demo", "title": "Demo"})
    pack.save_team(TEAM)
    found = {
        "marker_id": 7,
        "stop": 2,
        "title": "Fruchthalle",
        "story": "Built 1846",
        "letter": "K",
        "found_at": "2026-09-12T18:20:00Z",
        "image_url": None,
    }
    later = {**TEAM, "open": [TEAM["open"][1]], "found": [found], "letters": [None, "K", None]}
    pack.save_team(later)
    assert [c["stop"] for c in pack.clues()] == [2, 3], "clue 2 stays after it was found"
    assert pack.found() == [found]
    assert pack.letters() == [None, "K", None]
    assert RallyPack(tmp_path, "demo").rally()["title"] == "Demo"
    pack.clear()
    assert not (tmp_path / "packs" / "demo").exists()
    with pytest.raises(ValueError, match="slug"):
        RallyPack(tmp_path, "../etc")


def test_pack_fetches_images_once_with_our_user_agent(tmp_path):
    from client import USER_AGENT
    from client.pack import RallyPack

    with StubServer(lambda path: (200, {}, b"\x89PNG fake")) as server:
        pack = RallyPack(tmp_path, "demo")
        found = {"marker_id": 7, "stop": 2, "found_at": "x", "image_url": "/media/ab12.jpg"}
        pack.save_team({**TEAM, "found": [found]})
        assert pack.fetch_images(server.url) == 1
        assert pack.fetch_images(server.url) == 0
        assert pack.image_path(found).read_bytes() == b"\x89PNG fake"
        assert [(path, headers["User-Agent"]) for path, headers in server.requests] == [
            ("/media/ab12.jpg", USER_AGENT)
        ]


PHONE_CORE = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"shapely", "pyproj", "numpy", "kivy", "flask", "server"}:
            raise ImportError(f"{name} is not on the phone")
sys.meta_path.insert(0, Block())
import tempfile
from datetime import UTC, datetime
import client.api, client.ar, client.autoplay, client.i18n, client.outbox, client.pack
import client.qrscan, client.session, client.settings, client.sync, client.targets
import client.cli, client.options  # the options are checked before Kivy is imported
import client.sensors.camera, client.sensors.heading, client.sensors.location
from client.sensors import Fix
with client.session.GameSession(tempfile.mkdtemp()) as s:
    s.handle_fix(Fix(49.44398, 7.76938, 5.0, datetime.now(UTC)))
    s.handle_heading(350)
    assert s.snapshot.position is not None and s.snapshot.heading_deg == 350
print("ok")
"""


def test_the_core_runs_without_shapely_pyproj_numpy_kivy():
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = subprocess.run(
        [sys.executable, "-c", PHONE_CORE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


# --- saved teams belong to a server and a rally -----------------------------------------------


def test_normalise_server_and_team_for():
    from client.settings import normalise_server

    assert normalise_server("HTTPS://Play.Example.org:443/") == "https://play.example.org"
    assert normalise_server("http://127.0.0.1:5000/") == "http://127.0.0.1:5000"
    assert normalise_server("http://[::1]:80/x/") == "http://[::1]/x"
    for bad in ("play.example.org", "ftp://x", "http://", "http://x:port"):
        with pytest.raises(ValueError):
            normalise_server(bad)
    s = Settings(rally_slug="demo", team_token="t", team_server="https://a.example")
    assert s.team_for("https://A.example/") == "t" and s.team_for("https://a.example", "demo")
    assert s.team_for("https://b.example") is None and s.team_for("https://a.example", "x") is None


def test_old_settings_file_keeps_its_team_for_its_server(tmp_path):
    (tmp_path / "settings.json").write_text(
        '{"server_url": "https://a.example", "rally_slug": "demo", "team_token": "t"}'
    )
    assert load_settings(tmp_path).team_for("https://a.example", "demo") == "t"


def test_another_server_never_gets_the_saved_token(restartable_server, demo, tmp_path):
    slug, _ = demo
    with GameSession(tmp_path / "phone") as session:
        session.set_server(restartable_server.url)
        session.start_rally(slug, "First", "en").result(10)
    other = restartable_server.url.replace("127.0.0.1", "localhost")
    with GameSession(tmp_path / "phone") as session:
        session.set_server(other)
        assert not session.resume(), "a team of another server is not resumed"
        assert session.api.token is None
        session.set_server(restartable_server.url + "/")
        assert session.resume(), "back on its own server, the team is there again"
    settings = load_settings(tmp_path / "phone")
    with GameSession(tmp_path / "phone", settings.with_(server_url=other)) as session:
        assert session.api.token is None, "not even for the first request"
        session.start_rally(slug, "Second", "en").result(10)
        assert session.api.token != settings.team_token
        assert session.pack.team()["name"] == "Second", "the pack is the new team's"
        assert [f["name"] for f in [session.pack.team()]] == ["Second"]
    assert load_settings(tmp_path / "phone").team_server == other


def test_an_unknown_token_forgets_the_team_and_says_so(restartable_server, demo, tmp_path):
    """The server's database is new (or the token was revoked): 401 token_unknown."""
    slug, _ = demo
    with GameSession(tmp_path / "phone") as session:
        session.set_server(restartable_server.url)
        session.start_rally(slug, "Vanished", "en").result(10)
    settings = load_settings(tmp_path / "phone")
    from client.settings import save

    save(tmp_path / "phone", settings.with_(team_token="not-a-token-the-server-knows"))
    with GameSession(tmp_path / "phone") as session:
        assert session.resume()
        session.handle_qr_text("https://example.org/not-ours")
        session.outbox.put("hint", {"stop": 1, "recorded_at": "2026-01-01T00:00:00Z"})
        with contextlib.suppress(ApiError):  # or the background sync met it first
            session.sync_now().result(10)
        snap = session.snapshot
        assert snap.team_lost == "Vanished" and not snap.joined
        assert snap.pending == 0 and snap.last_error is None
        assert session.api.token is None and session.pack is None
    after = load_settings(tmp_path / "phone")
    assert after.team_token is None and after.rally_slug is None and after.team_server is None
    with GameSession(tmp_path / "phone") as session:
        assert not session.resume()
        session.start_rally(slug, "Vanished again", "en").result(10)
        assert session.snapshot.team_lost is None and session.snapshot.joined


def test_the_session_cleans_the_outbox_up_at_start(tmp_path):
    from client.outbox import Outbox

    with Outbox(tmp_path / "phone" / "outbox.sqlite3") as box:
        old = box.put("checkin", {"lat": 1.0})
        box.mark_done(old, {"result": "none"})
        fresh = box.put("checkin", {"lat": 2.0})
        box.mark_done(fresh, {"result": "none"})
        box._db.execute("UPDATE events SET answered_at = answered_at - 7200 WHERE id = ?", (old,))
    with GameSession(tmp_path / "phone") as session:
        assert session.outbox.get(old) is None and session.outbox.get(fresh) is not None


def test_the_default_server_is_set_at_build_time(tmp_path):
    from client import build_config

    built = tmp_path / "build_config.json"
    desktop: dict[str, str] = {}
    phone = {"ANDROID_ARGUMENT": "/data/app"}
    assert build_config.default_server(built, desktop) == "http://127.0.0.1:5000"
    assert build_config.default_server(built, phone) == "", "a phone asks for the address"
    env = {build_config.ENV_VAR: "https://env.example/"}
    assert build_config.default_server(built, env) == "https://env.example"
    built.write_text('{"default_server": "https://rally.example.org/"}')
    for environ in (desktop, phone, env):
        assert build_config.default_server(built, environ) == "https://rally.example.org"
    built.write_text('{"default_server": "http://127.0.0.1:5000"}')
    assert build_config.default_server(built, phone) == "", "never the phone itself"


def test_a_phone_never_keeps_a_loopback_server(tmp_path, monkeypatch):
    monkeypatch.setenv("ANDROID_ARGUMENT", "/data/app")
    monkeypatch.delenv("ARTCACHING_DEFAULT_SERVER", raising=False)
    (tmp_path / "settings.json").write_text('{"server_url": "http://127.0.0.1:5000"}')
    assert load_settings(tmp_path).server_url == ""
    assert Settings().server_url == ""
    with (
        GameSession(tmp_path, Settings(language="en")) as session,
        pytest.raises(NetworkError, match="no server address"),
    ):
        session.list_rallies().result(10)
