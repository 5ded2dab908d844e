"""The event's Wi-Fi on the start poster: the standard WIFI: code beside the join code, both
explained in German and English, from the command line and the organiser page."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from server import config, exports, models, wifi
from server.cli import export_qr
from server.extensions import db
from tests.server.organiser_helpers import decode_all, login, pdf_pages

BASE = "https://artcaching.example.org"
SSID = 'Kultur;nacht "Fruchthalle" Ä,ö:\\'
PASSWORD = 'kunst:2026;"ü",\\x'


def parse_wifi(payload: str) -> dict[str, str]:
    """A WIFI: payload read back as a phone reads it: fields split at unescaped ';', with the
    backslash escapes undone."""
    assert payload.startswith("WIFI:") and payload.endswith(";;")
    fields: dict[str, str] = {}
    key, value, escaped = "", "", False
    body = payload[len("WIFI:") : -1]
    for c in body:
        if escaped:
            value += c
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == ";":
            name, _, rest = (key + value).partition(":")
            fields[name] = rest
            key, value = "", ""
        else:
            value += c
    return fields


def poster(app, rally_id: int) -> bytes:
    with app.app_context():
        return exports.qr_download(db.session.get(models.Rally, rally_id), "start").data


def flat_text(data: bytes) -> str:
    return " ".join(pdfium.PdfDocument(data)[0].get_textpage().get_text_range().split())


@pytest.mark.parametrize(
    ("network", "payload"),
    [
        (wifi.Wifi("Kulturnacht", "kunst2026"), "WIFI:T:WPA;S:Kulturnacht;P:kunst2026;;"),
        (
            wifi.Wifi("a;b", 'p\\"q,r:s', "WPA", hidden=True),
            'WIFI:T:WPA;S:a\\;b;P:p\\\\\\"q\\,r\\:s;H:true;;',
        ),
        (wifi.Wifi("Offen", "", "nopass"), "WIFI:T:nopass;S:Offen;;"),
        (wifi.Wifi("Alt", "abcde", "WEP"), "WIFI:T:WEP;S:Alt;P:abcde;;"),
        (wifi.Wifi("Neu", "kunst2026", "SAE"), "WIFI:T:SAE;S:Neu;P:kunst2026;;"),
    ],
)
def test_the_payload_follows_the_wifi_format(network, payload):
    assert network.payload() == payload
    read = parse_wifi(payload)
    assert read["S"] == network.ssid and read["T"] == network.security
    assert read.get("P", "") == network.password


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, None),
        ({"EVENT_WIFI_SSID": "X", "EVENT_WIFI_PASSWORD": "kunst2026"}, wifi.Wifi("X", "kunst2026")),
        ({"EVENT_WIFI_SSID": "X"}, wifi.Wifi("X", "", "nopass")),
        (
            {"EVENT_WIFI_SSID": "X", "EVENT_WIFI_SECURITY": "WEP", "EVENT_WIFI_PASSWORD": "abcde"},
            wifi.Wifi("X", "abcde", "WEP"),
        ),
        ({"EVENT_WIFI_SSID": "X", "EVENT_WIFI_HIDDEN": True}, wifi.Wifi("X", "", "nopass", True)),
    ],
)
def test_settings_make_the_network(settings, expected):
    assert wifi.from_settings(settings) == expected


def test_the_environment_names_the_network(monkeypatch, tmp_path):
    monkeypatch.setenv("EVENT_WIFI_SSID", "Kulturnacht")
    monkeypatch.setenv("EVENT_WIFI_PASSWORD", "kunst2026")
    monkeypatch.setenv("EVENT_WIFI_SECURITY", "wpa")
    monkeypatch.setenv("EVENT_WIFI_HIDDEN", "true")
    settings = config.from_environment(str(tmp_path), {"SECRET_KEY": "x" * 40})
    assert wifi.from_settings(settings) == wifi.Wifi("Kulturnacht", "kunst2026", "WPA", True)
    monkeypatch.setenv("EVENT_WIFI_SECURITY", "WPA2-Enterprise")
    with pytest.raises(SystemExit, match="EVENT_WIFI_SECURITY must be one of WPA, WEP, SAE"):
        config.from_environment(str(tmp_path), {"SECRET_KEY": "x" * 40})


@pytest.mark.parametrize(
    ("network", "problems"),
    [
        (wifi.Wifi("Kulturnacht", "kunst2026"), []),
        (wifi.Wifi("Kulturnacht", "kurz"), ["wpa_password_length"]),
        (wifi.Wifi("Kulturnacht", "x" * 64), ["wpa_password_length"]),
        (wifi.Wifi("Ä" * 17, "kunst2026"), ["ssid_too_long"]),
        (wifi.Wifi("Kultur\nnacht", "kunst\x002026"), ["control_characters"]),
        (wifi.Wifi("Alt", "abcdef", "WEP"), ["wep_password_length"]),
        (wifi.Wifi("Offen", "geheim", "nopass"), ["password_unused"]),
    ],
)
def test_what_keeps_phones_from_joining(network, problems):
    assert network.problems() == problems


def test_the_start_poster_carries_the_wifi_code_beside_the_join_code(make_app, demo):
    slug, rally_id = demo
    app = make_app(EVENT_WIFI_SSID=SSID, EVENT_WIFI_PASSWORD=PASSWORD)
    data = poster(app, rally_id)
    (image,) = pdf_pages(data)
    codes = sorted(decode_all(image), key=lambda c: c[1])
    assert [c[0] for c in codes] == [wifi.Wifi(SSID, PASSWORD).payload(), f"{BASE}/play/{slug}"]
    wifi_code = codes[0][0]
    read = parse_wifi(wifi_code)
    assert read == {"T": "WPA", "S": SSID, "P": PASSWORD}
    flat = flat_text(data)
    assert "1. Ins WLAN · Join the Wi-Fi" in flat
    assert "2. Mitspielen · Join the game" in flat
    assert SSID in flat and f"Passwort · Password: {PASSWORD}" in flat
    assert "Zuerst den WLAN-Code scannen" in flat and "First scan the Wi-Fi code" in flat
    assert "Internet braucht ihr nicht." in flat and "No internet needed." in flat


def test_an_open_hidden_network(make_app, demo):
    _, rally_id = demo
    app = make_app(EVENT_WIFI_SSID="Kulturnacht", EVENT_WIFI_HIDDEN=True)
    data = poster(app, rally_id)
    (image,) = pdf_pages(data)
    assert decode_all(image)[0][0] == "WIFI:T:nopass;S:Kulturnacht;H:true;;"
    assert "Password" not in flat_text(data)


def test_long_names_and_control_characters_still_print(make_app, demo):
    """The longest WPA password and a 32-byte name fit; a control character prints as �."""
    _, rally_id = demo
    app = make_app(EVENT_WIFI_SSID="Ü" * 16, EVENT_WIFI_PASSWORD="p" * 63)
    (image,) = pdf_pages(poster(app, rally_id))
    assert decode_all(image)[0][0] == f"WIFI:T:WPA;S:{'Ü' * 16};P:{'p' * 63};;"
    app = make_app(EVENT_WIFI_SSID="Kultur\nnacht", EVENT_WIFI_PASSWORD="kunst2026")
    data = poster(app, rally_id)
    assert "Kultur\ufffdnacht" in flat_text(data)
    (image,) = pdf_pages(data)
    assert len(decode_all(image)) == 2


def test_without_wifi_the_poster_is_as_before(app, demo):
    _, rally_id = demo
    data = poster(app, rally_id)
    (image,) = pdf_pages(data)
    assert len(decode_all(image)) == 1
    flat = flat_text(data)
    assert "WLAN" not in flat and "1. Mitspielen" not in flat and "2. Mitspielen" not in flat


def test_the_command_line_prints_the_wifi_code(make_app, demo, tmp_path):
    slug, _ = demo
    app = make_app(EVENT_WIFI_SSID="Kulturnacht", EVENT_WIFI_PASSWORD="kunst2026")
    out = tmp_path / "start.pdf"
    result = app.test_cli_runner().invoke(export_qr, [slug, "--format", "start", "-o", str(out)])
    assert result.exit_code == 0, result.output
    (image,) = pdf_pages(out.read_bytes())
    assert [c[0] for c in decode_all(image)] == [
        "WIFI:T:WPA;S:Kulturnacht;P:kunst2026;;",
        f"{BASE}/play/{slug}",
    ]


def test_the_organiser_page_says_the_wifi_is_on_the_poster(make_app, demo):
    slug, _ = demo
    ssid = '<b id="x">Netz</b>'
    app = make_app(EVENT_WIFI_SSID=ssid, EVENT_WIFI_PASSWORD="kunst2026")
    client = login(app.test_client(), app)
    page = client.get(f"/organiser/{slug}/?lang=en").get_data(as_text=True)
    assert "the start poster carries the code of the Wi-Fi" in page
    assert '<b id="x">' not in page and "&lt;b id=&#34;x&#34;&gt;Netz&lt;/b&gt;" in page
    resp = client.get(f"/organiser/{slug}/export/qr?format=start")
    assert resp.status_code == 200
    (image,) = pdf_pages(resp.data)
    assert [c[0] for c in decode_all(image)] == [
        wifi.Wifi(ssid, "kunst2026").payload(),
        f"{BASE}/play/{slug}",
    ]


@pytest.mark.parametrize(
    ("lang", "words"), [("en", "Beside the code"), ("de", "neben dem Code zum Mitspielen")]
)
def test_the_organiser_page_note_in_both_languages(make_app, demo, lang, words):
    slug, _ = demo
    app = make_app(EVENT_WIFI_SSID="Kulturnacht")
    client = login(app.test_client(), app)
    page = client.get(f"/organiser/{slug}/?lang={lang}").get_data(as_text=True)
    assert words in page and "Kulturnacht" in page


def test_the_organiser_page_without_wifi_names_the_settings(app, client, demo):
    slug, _ = demo
    login(client, app)
    page = client.get(f"/organiser/{slug}/?lang=en").get_data(as_text=True)
    assert "EVENT_WIFI_SSID" in page


def test_the_wifi_start_poster_picture(make_app, demo, artifacts):
    """The start poster with the Wi-Fi code, into docs/images for the event box's recipe."""
    from tests.conftest import readme_image

    slug, rally_id = demo
    app = make_app(
        EVENT_WIFI_SSID="Kulturnacht",
        EVENT_WIFI_PASSWORD="kunst2026",
        PUBLIC_BASE_URL="http://192.168.8.2:8000",
    )
    with app.app_context():
        db.session.get(models.Rally, rally_id).poster_colour = "#8a1538"
        db.session.commit()
    data = poster(app, rally_id)
    picture = pdfium.PdfDocument(data)[0].render(scale=1.2).to_pil().convert("RGB")
    shot = artifacts / "organiser-start-poster-wifi.png"
    picture.save(shot)
    readme_image(shot, shot.name)
    left_to_right = sorted(decode_all(picture), key=lambda c: c[1])
    assert [c[0] for c in left_to_right] == [
        "WIFI:T:WPA;S:Kulturnacht;P:kunst2026;;",
        f"http://192.168.8.2:8000/play/{slug}",
    ]
