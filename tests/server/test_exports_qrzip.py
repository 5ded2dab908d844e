"""The ZIP of QR images: one PNG and one SVG per stop, both decode to the right stop."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from server import exports, models
from server.cli import export_qr
from server.exports import slugify
from server.extensions import db
from tests.server.organiser_helpers import decode_all, login, stop_order, verified_stops

SVG = "{http://www.w3.org/2000/svg}"
NAMES = [
    "01-marienkirche",
    "02-apostelkirche",
    "03-kaiserpfalz-und-casimirsaal",
    "04-stiftskirche",
    "05-central-kino-geschlossen",
    "06-fruchthalle",
    "07-unionskirche",
    "08-st-martinskirche",
    "09-stadtmuseum-im-wadgasserhof",
    "10-kaiserbrunnen",
]


def zip_of(app, rally_id: int) -> zipfile.ZipFile:
    with app.app_context():
        d = exports.qr_download(db.session.get(models.Rally, rally_id), "zip")
    assert d.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(d.data))


def svg_image(text: str, scale: int = 8) -> Image.Image:
    """The SVG's white background and its path of dark runs, drawn with PIL."""
    root = ElementTree.fromstring(text)
    assert root.tag == f"{SVG}svg"
    x0, y0, width, height = (int(v) for v in root.get("viewBox").split())
    assert (x0, y0) == (0, 0) and width == height
    background = root.find(f"{SVG}rect")
    assert background.get("fill") == "#fff" and int(background.get("width")) == width
    image = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    path = root.find(f"{SVG}path")
    assert path.get("fill") == "#000"
    runs = re.findall(r"M(\d+) (\d+)h(\d+)v(\d+)h-\3z", path.get("d"))
    assert "".join(f"M{x} {y}h{w}v{h}h-{w}z" for x, y, w, h in runs) == path.get("d")
    for x, y, w, h in runs:
        x, y, w, h = int(x), int(y), int(w), int(h)
        draw.rectangle([x * scale, y * scale, (x + w) * scale - 1, (y + h) * scale - 1], fill=0)
    return image, width, runs


def test_zip_holds_a_png_and_an_svg_per_stop(app, demo):
    _slug, rally_id = demo
    z = zip_of(app, rally_id)
    names = z.namelist()
    assert names == [f"{n}.{ext}" for n in NAMES for ext in ("png", "svg")] + [
        "README.txt",
        "codes.csv",
    ]
    png_urls, svg_urls = [], []
    for name in NAMES:
        png = Image.open(io.BytesIO(z.read(f"{name}.png")))
        assert png.format == "PNG"
        ((text, *_),) = decode_all(png.convert("L"))
        png_urls.append(text)
        image, size, runs = svg_image(z.read(f"{name}.svg").decode("utf-8"))
        ((text, *_),) = decode_all(image)
        svg_urls.append(text)
        # The quiet zone: four empty modules on every side.
        assert min(int(x) for x, *_ in runs) == 4 and min(int(y) for _, y, *_ in runs) == 4
        assert max(int(x) + int(w) for x, _, w, _ in runs) == size - 4
        assert png.size[0] == png.size[1] == 20 * size
    expected = stop_order(app, rally_id)
    assert verified_stops(app, png_urls) == expected
    assert svg_urls == png_urls
    readme = z.read("README.txt").decode("utf-8")
    assert readme.startswith("Art Caching Kaiserslautern\r\n\r\nSchlüssel/key 1, ")
    code = short_codes(app, rally_id)[0]
    assert f"01-marienkirche.png/.svg\t1. Marienkirche\t{code}\t{png_urls[0]}" in readme
    typing = "artcaching.example.org/play/art-caching-kaiserslautern"
    assert f"Type the short codes at {typing}" in readme


def short_codes(app, rally_id: int) -> list[str]:
    """The rally's short codes as printed (KM7-4QX), in stop order."""
    from markers import shortcodes

    with app.app_context():
        row = db.session.get(models.Rally, rally_id)
        return [shortcodes.display(s.code) for s in row.stops]


def test_zip_lists_the_short_codes_in_a_csv(app, demo):
    _slug, rally_id = demo
    with app.app_context():
        row = db.session.get(models.Rally, rally_id)
        row.stops[0].marker.set_text("title", {"de": "=HYPERLINK(1)"})
        db.session.commit()
    z = zip_of(app, rally_id)
    text = z.read("codes.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["stop", "name", "code", "url", "png", "svg"]
    assert [r[2] for r in rows[1:]] == short_codes(app, rally_id)
    assert all(re.fullmatch(r"[0-9A-Z]{3}-[0-9A-Z]{3}", r[2]) for r in rows[1:])
    assert rows[1][1] == "'=HYPERLINK(1)"
    assert verified_stops(app, [r[3] for r in rows[1:]]) == stop_order(app, rally_id)
    assert rows[2][4:] == ["02-apostelkirche.png", "02-apostelkirche.svg"]


def test_web_and_cli_downloads(app, client, runner, demo, tmp_path):
    slug, _rally_id = demo
    login(client, app)
    resp = client.get(f"/organiser/{slug}/export/qr?format=zip")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert f"filename={slug}-qr-codes.zip" in resp.headers["Content-Disposition"]
    assert len(zipfile.ZipFile(io.BytesIO(resp.data)).namelist()) == 22
    out = tmp_path / "codes.zip"
    result = runner.invoke(export_qr, [slug, "--format", "zip", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert zipfile.ZipFile(out).namelist()[0] == "01-marienkirche.png"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Marienkirche", "marienkirche"),
        ("Straße der Ölmühle – „Ärger“", "strasse-der-oelmuehle-aerger"),
        ("Café Crème à la carte", "cafe-creme-a-la-carte"),
        (
            "Kaiserpfalz ruins (Barbarossaburg) and Casimirsaal",
            "kaiserpfalz-ruins-barbarossaburg-and",
        ),
        ("!!!", "stop"),
    ],
)
def test_slugify(name, slug):
    assert slugify(name) == slug


@given(st.text(max_size=80))
def test_slugify_is_always_a_safe_file_name(name):
    slug = slugify(name)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert len(slug) <= 40
