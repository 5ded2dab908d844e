"""The address printed codes lead to: PUBLIC_BASE_URL wins, else what `artcaching run` recorded
for the instance (web and CLI exports agree), else the default; and the loud warnings when
phones cannot reach it (organiser page, CLI)."""

from __future__ import annotations

import ipaddress
import re
import socket
import subprocess

import flask.cli
import pytest

from server import address, cli, create_app, models
from server.extensions import db
from tests import databases
from tests.conftest import ROOT
from tests.server.organiser_helpers import decode_all, login, pdf_pages

LAN = "192.168.178.23"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:5301", ["loopback"]),
        ("http://127.8.9.10", ["loopback"]),
        ("http://localhost:5000", ["loopback"]),
        ("https://app.localhost", ["loopback"]),
        ("http://[::1]:5000", ["loopback"]),
        ("http://0.0.0.0:5399", ["unspecified"]),
        ("http://[::]:5399", ["unspecified"]),
        ("http://rally.example.org", ["not_https"]),
        ("http://8.8.8.8:8000", ["not_https"]),
        ("https://rally.example.org", []),
        ("https://rally.example.org:8443/sub", []),
        ("http://192.168.1.20:5000", []),
        ("http://10.0.0.5", []),
        ("http://172.20.1.1:8080", []),
        ("http://169.254.3.4", []),
        ("http://[fd00::7]:5000", []),
        ("http://eventbox:5000", []),
        ("http://kunstnacht.local", []),
        ("http://rally.home.arpa", []),
    ],
)
def test_problems(url, expected):
    assert address.problems(url) == expected


def test_served_url_uses_the_lan_address_for_every_interface(monkeypatch):
    monkeypatch.setattr(address, "lan_address", lambda: LAN)
    assert address.served_url("0.0.0.0", 5399) == f"http://{LAN}:5399"
    assert address.served_url("::", 5399) == f"http://{LAN}:5399"
    assert address.served_url("127.0.0.1", 5301) == "http://127.0.0.1:5301"
    assert address.served_url("fe80::1", 80, https=True) == "https://[fe80::1]:80"
    assert address.served_url("eventbox", 8000) == "http://eventbox:8000"


def test_lan_address_is_the_default_route_interface_and_needs_no_network():
    found = ipaddress.ip_address(address.lan_address())
    assert found.version == 4
    default = _default_route_source()
    if default is not None:
        assert str(found) == default


def _default_route_source() -> str | None:
    """The source address of the default route as `ip route` tells it, if that works here."""
    try:
        out = subprocess.run(
            ["ip", "route", "get", "192.0.2.1"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"\bsrc (\S+)", out)
    return match.group(1) if match else None


def test_lan_address_without_a_route_is_loopback(monkeypatch):
    class NoRoute(socket.socket):
        def connect(self, _address):
            raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(address.socket, "socket", NoRoute)
    assert address.lan_address() == "127.0.0.1"


def test_configured_prefers_the_environment_then_the_record(tmp_path):
    assert address.configured(None, tmp_path) == (address.DEFAULT, "default")
    address.record(tmp_path, "http://192.168.1.5:5301/")
    assert (tmp_path / "public_base_url").read_text() == "http://192.168.1.5:5301\n"
    assert address.configured(None, tmp_path) == ("http://192.168.1.5:5301", "recorded")
    assert address.configured("https://rally.example.org/", tmp_path) == (
        "https://rally.example.org",
        "environment",
    )
    assert not list(tmp_path.glob(".public_base_url*"))


@pytest.mark.parametrize("text", ["ftp://x", "0.0.0.0:5000", "http://\x00x"])
def test_a_broken_record_is_a_clear_stop(tmp_path, text):
    (tmp_path / "public_base_url").write_text(text)
    with pytest.raises(SystemExit, match="public_base_url must be an http"):
        address.recorded(tmp_path)


def _instance_app(url: str, instance, **config):
    """An app on the test database without PUBLIC_BASE_URL in its settings (as a process of
    the instance sees it), with the instance folder given."""
    settings = {k: v for k, v in databases.TEST_SETTINGS.items() if k != "PUBLIC_BASE_URL"}
    return create_app(
        {**settings, "SQLALCHEMY_DATABASE_URI": url, **config}, instance_path=str(instance)
    )


def _close(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_run_records_the_lan_address_and_web_and_cli_exports_agree(
    app, demo, tmp_path, monkeypatch
):
    """`artcaching run --host 0.0.0.0` records the LAN address; a later process of the instance
    (the web server, a CLI export) prints it, and the organiser page shows it."""
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setattr(address, "lan_address", lambda: LAN)
    served = []
    monkeypatch.setattr(flask.cli, "run_simple", lambda host, port, *a, **k: served.append(port))
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    instance = tmp_path / "instance"
    media = str(tmp_path / "media")
    server = _instance_app(database, instance, MEDIA_DIR=media)
    assert server.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    result = server.test_cli_runner().invoke(cli.run, ["--host", "0.0.0.0", "--port", "5399"])
    assert result.exit_code == 0, result.output
    assert served == [5399]
    expected = f"http://{LAN}:5399"
    assert f"printed codes point to {expected} (recorded in {instance}" in result.output
    assert "warning" not in result.output
    assert server.config["PUBLIC_BASE_URL"] == expected

    later = _instance_app(database, instance, MEDIA_DIR=media)
    try:
        assert later.config["PUBLIC_BASE_URL"] == expected
        assert later.config["PUBLIC_BASE_URL_SOURCE"] == "recorded"
        slug, _ = demo
        client = login(later.test_client(), later)
        page = client.get(f"/organiser/{slug}/", headers={"Accept-Language": "en"})
        page = page.get_data(as_text=True)
        assert f'<code id="print-url">{expected}</code>' in page
        assert "recorded by “artcaching run”" in page
        assert 'role="alert"' not in page
        web = client.get(f"/organiser/{slug}/export/qr?format=labels").data
        out = tmp_path / "labels.pdf"
        exported = later.test_cli_runner().invoke(
            cli.export_qr, [slug, "--format", "labels", "-o", str(out)]
        )
        assert exported.exit_code == 0, exported.output
        assert f"codes lead to {expected}" in exported.output
        for data in (web, out.read_bytes()):
            (image,) = pdf_pages(data)
            codes = [c[0] for c in decode_all(image)]
            assert len(codes) == 10
            assert all(c.startswith(f"{expected}/q/") for c in codes), codes
        start = client.get(f"/organiser/{slug}/export/qr?format=start").data
        assert decode_all(pdf_pages(start)[0])[0][0] == f"{expected}/play/{slug}"
    finally:
        _close(server)
        _close(later)


def test_the_environment_wins_over_the_record(app, tmp_path, monkeypatch):
    monkeypatch.setattr(flask.cli, "run_simple", lambda *a, **k: None)
    instance = tmp_path / "instance"
    address.record(instance, "http://192.168.1.5:5000")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://rally.example.org")
    server = _instance_app(app.config["SQLALCHEMY_DATABASE_URI"], instance)
    try:
        assert server.config["PUBLIC_BASE_URL_SOURCE"] == "environment"
        result = server.test_cli_runner().invoke(cli.run, ["--port", "5301"])
        assert result.exit_code == 0, result.output
        assert "printed codes point to https://rally.example.org (PUBLIC_BASE_URL)" in result.output
        assert address.recorded(instance) == "http://192.168.1.5:5000"
    finally:
        _close(server)


def test_run_on_loopback_warns_on_stderr(app, tmp_path, monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setattr(flask.cli, "run_simple", lambda *a, **k: None)
    server = _instance_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "instance")
    try:
        result = server.test_cli_runner().invoke(cli.run, ["--port", "5301"])
        assert result.exit_code == 0, result.output
        assert result.stderr.startswith("warning: http://127.0.0.1:5301 is this computer itself")
    finally:
        _close(server)


def test_make_run_passes_host_and_port_and_forces_no_address():
    out = subprocess.run(
        ["make", "-n", "run", "HOST=0.0.0.0", "PORT=5399", "STAMP=Makefile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "artcaching run --host 0.0.0.0 --port 5399" in out
    assert "PUBLIC_BASE_URL" not in out


WARNINGS = {
    "http://127.0.0.1:5301": ("loopback", "is this computer itself"),
    "http://0.0.0.0:5399": ("unspecified", "is no address a phone can open"),
    "http://rally.example.org": ("not_https", "is unencrypted (http)"),
}


@pytest.mark.parametrize("url", list(WARNINGS))
def test_the_organiser_page_warns_loudly(make_app, demo, url):
    app = make_app(PUBLIC_BASE_URL=url)
    slug, _ = demo
    client = login(app.test_client(), app)
    page = client.get(f"/organiser/{slug}/", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    code, words = WARNINGS[url]
    assert f'<code id="print-url">{url}</code>' in text
    assert 'id="print-address" class="print-address has-problems"' in text
    assert 'role="alert"' in text
    assert f'data-problem="{code}"' in text and f"{url} {words}" in text
    assert "Export anyway?" in text
    german = client.get(f"/organiser/{slug}/", headers={"Accept-Language": "de"})
    assert "Handys erreichen diese Adresse wahrscheinlich nicht" in german.get_data(as_text=True)


def test_no_warning_for_https(app, client, demo):
    slug, _ = demo
    login(client, app)
    text = client.get(f"/organiser/{slug}/").get_data(as_text=True)
    assert '<code id="print-url">https://artcaching.example.org</code>' in text
    assert "has-problems" not in text and "data-confirm" not in text


@pytest.mark.parametrize("url", list(WARNINGS))
def test_the_cli_export_warns_on_stderr_and_still_exports(make_app, demo, tmp_path, url):
    app = make_app(PUBLIC_BASE_URL=url)
    slug, _ = demo
    out = tmp_path / "p.pdf"
    result = app.test_cli_runner().invoke(
        cli.export_qr, [slug, "--format", "start", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1
    assert WARNINGS[url][1] in warnings[0]
    assert f"codes lead to {url}" in result.stderr
    assert "warning" not in result.stdout
    assert decode_all(pdf_pages(out.read_bytes())[0])[0][0] == f"{url}/play/{slug}"


def test_no_cli_warning_for_https(runner, demo, tmp_path):
    slug, _ = demo
    result = runner.invoke(cli.export_qr, [slug, "--format", "zip", "-o", str(tmp_path / "z")])
    assert result.exit_code == 0, result.output
    assert "warning:" not in result.output


def test_a_model_rally_keeps_its_address_through_the_sheet(app, demo):
    """The typing address on posters and in the ZIP follows the configured address."""
    from server import exports

    _, rally_id = demo
    with app.app_context():
        sheet = exports.qr_sheet(db.session.get(models.Rally, rally_id))
    assert sheet.typing_address == "artcaching.example.org/play/art-caching-kaiserslautern"
