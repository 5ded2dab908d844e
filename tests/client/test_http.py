"""The app's one HTTP layer (client/http.py) against a local https server whose certificate a
test CA (trustme) signed, with the system's CA store switched off as on a phone: certifi's
bundle plus --ca-file are all the app trusts."""

from __future__ import annotations

import http.server
import json
import ssl
from pathlib import Path

import pytest
import trustme

from client import http as app_http
from client import i18n
from client.api import ApiClient, NetworkError, UntrustedServer
from client.options import parse_args
from client.pack import RallyPack
from client.session import GameSession
from client.settings import Settings
from client.widgets.tiles import PNG_SIGNATURE, TileCache
from tests.conftest import ROOT
from tests.live import Background

TILE = PNG_SIGNATURE + b"tile"


@pytest.fixture(autouse=True)
def no_system_cas(tmp_path, monkeypatch):
    """OpenSSL's default store empty (SSL_CERT_FILE/SSL_CERT_DIR name an empty file and folder),
    like python-for-android's; the app's context is rebuilt afterwards."""
    empty = tmp_path / "no-cas"
    empty.mkdir()
    (empty / "none.pem").write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty / "none.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(empty))
    app_http.set_ca_file(None)
    yield
    app_http.set_ca_file(None)


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def ca_file(ca, tmp_path) -> Path:
    path = tmp_path / "event-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def https_server(ca):
    """https://127.0.0.1:<port> answering the rally list, a tile and an image."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/api/v1/rallies"):
                body, kind = json.dumps({"rallies": [{"slug": "demo"}]}).encode(), "json"
            else:
                body, kind = TILE, "png"
            self.send_response(200)
            self.send_header("Content-Type", f"application/{kind}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    running = Background(httpd)
    yield f"https://127.0.0.1:{httpd.server_port}"
    running.stop()


def test_the_system_store_is_off_and_certifi_still_trusts_the_public_cas():
    assert ssl.create_default_context().cert_store_stats()["x509_ca"] == 0, "as on a phone"
    assert app_http.context().cert_store_stats()["x509_ca"] > 100, "certifi's bundle"
    assert app_http.context().verify_mode == ssl.CERT_REQUIRED
    assert app_http.context().check_hostname


def test_with_the_event_ca_as_ca_file_api_tiles_and_images_work(https_server, ca_file, tmp_path):
    app_http.set_ca_file(ca_file)
    assert ApiClient(https_server).rallies() == [{"slug": "demo"}]
    tiles = TileCache(tmp_path / "tiles", https_server + "/tiles/{z}/{x}/{y}.png")
    try:
        assert tiles.download(1, 0, 0) == TILE
    finally:
        tiles.close()
    pack = RallyPack(tmp_path, "demo")
    pack.save_team({"found": [{"marker_id": 1, "image_url": "/media/one.png"}]})
    assert pack.fetch_images(https_server) == 1


def test_without_it_the_certificate_is_not_trusted_and_the_app_says_so(https_server, tmp_path):
    with pytest.raises(UntrustedServer, match="certificate not trusted") as caught:
        ApiClient(https_server).rallies()
    assert isinstance(caught.value, NetworkError), "the sync treats it like no network"
    tiles = TileCache(tmp_path / "tiles", https_server + "/tiles/{z}/{x}/{y}.png")
    try:
        with pytest.raises(app_http.CertificateNotTrusted):
            tiles.download(1, 0, 0)
    finally:
        tiles.close()
    settings = Settings(server_url=https_server, language="en")
    with GameSession(tmp_path / "phone", settings) as session:
        with pytest.raises(UntrustedServer):
            session.list_rallies().result(10)
        assert session.snapshot.last_error == i18n.t("error.untrusted")
        assert "certificate is not trusted" in session.snapshot.last_error


def test_the_ca_file_setting_reaches_every_request(https_server, ca_file, tmp_path):
    settings = Settings(server_url=https_server, ca_file=str(ca_file))
    with GameSession(tmp_path / "phone", settings) as session:
        assert session.list_rallies().result(10) == [{"slug": "demo"}]
        assert app_http.ca_file() == str(ca_file)


def test_a_missing_ca_file_in_the_settings_is_said_not_a_crash(tmp_path):
    settings = Settings(ca_file=str(tmp_path / "gone.pem"), language="en")
    with GameSession(tmp_path / "phone", settings) as session:
        assert session.snapshot.last_error == i18n.t("error.ca_file", path=settings.ca_file)
        assert app_http.ca_file() is None


def test_ca_file_option_is_checked(ca_file, tmp_path, capsys):
    assert parse_args(["--ca-file", str(ca_file)]).ca_file == ca_file.resolve()
    (tmp_path / "junk.pem").write_text("not a certificate")
    for bad in (tmp_path / "junk.pem", tmp_path / "missing.pem"):
        with pytest.raises(SystemExit) as exit_:
            parse_args(["--ca-file", str(bad)])
        assert exit_.value.code == 2
        assert "--ca-file: no CA certificates" in capsys.readouterr().err


def test_nothing_but_client_http_opens_urls():
    """Every request goes through client/http.py's SSL context."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "client").rglob("*.py")
        if "urlopen(" in p.read_text(encoding="utf-8") and p.name != "http.py"
    ]
    assert offenders == []
