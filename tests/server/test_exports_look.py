"""The event's look on printed matter: the organiser sets a colour and a logo on the rally page
(audited, through the media handling), posters, labels and the start poster wear them, bad
input is a 4xx with a message; and the pictures of the printed matter for docs/organiser.md."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

import assets
from server import exports, models
from server.exports import pdf
from server.extensions import db
from tests.conftest import readme_image
from tests.server.organiser_helpers import PASSWORD as STAFF_PASSWORD
from tests.server.organiser_helpers import (
    decode_all,
    login,
    make_user,
    pdf_pages,
    stop_order,
    verified_stops,
)

COLOUR = "#8a1538"


def logo_png(size: tuple[int, int] = (480, 160)) -> bytes:
    """An event logo: a sun and the event's name, white and yellow on transparent."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    h = size[1]
    draw.ellipse((8, 8, h - 8, h - 8), fill=(255, 196, 0, 255))
    with (assets.files() / "fonts" / "DejaVuSans-Bold.ttf").open("rb") as f:
        font = ImageFont.truetype(io.BytesIO(f.read()), int(h * 0.3))
    draw.text((h + 10, h * 0.12), "Kultur", font=font, fill=(255, 255, 255, 255))
    draw.text((h + 10, h * 0.5), "Nacht", font=font, fill=(255, 196, 0, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def post_look(client, slug: str, **form):
    data = {k: v for k, v in form.items() if k != "logo"}
    if "logo" in form:
        name, content = form["logo"]
        data["logo"] = (io.BytesIO(content), name)
    return client.post(
        f"/organiser/{slug}/poster",
        data=data,
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )


def rally_row(app, rally_id: int) -> tuple[str | None, str | None]:
    with app.app_context():
        row = db.session.get(models.Rally, rally_id)
        return row.poster_colour, row.poster_logo


def audit_entries(app) -> list[models.AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(select(models.AuditEntry).filter_by(action="rally.poster")).all()
        )


def test_organiser_sets_colour_and_logo_audited(app, client, demo, tmp_path):
    slug, rally_id = demo
    login(client, app)
    resp = post_look(client, slug, colour="#8A1538", logo=("logo.png", logo_png()))
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/organiser/{slug}/#poster")
    colour, logo = rally_row(app, rally_id)
    assert colour == COLOUR and logo and logo.endswith(".png")
    stored = Path(app.config["MEDIA_DIR"]) / logo
    assert stored.is_file()
    page = client.get(f"/organiser/{slug}/", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "The poster look is saved." in text
    assert f'value="{COLOUR}"' in text
    assert f'src="/media/{logo}"' in text
    (entry,) = audit_entries(app)
    assert entry.detail["colour"] == {"before": None, "after": COLOUR}
    assert entry.detail["logo"] == {"before": None, "after": logo}

    # Saving the same again writes no entry; a new logo replaces (and deletes) the old file.
    assert post_look(client, slug, colour=COLOUR).status_code == 302
    assert len(audit_entries(app)) == 1
    square = ("l.png", logo_png((300, 300)))
    assert post_look(client, slug, colour=COLOUR, logo=square).status_code == 302
    _, newer = rally_row(app, rally_id)
    assert newer != logo and not stored.exists()
    # No colour and no logo: black and white again, the file gone.
    resp = post_look(client, slug, colour="#000000", no_colour="1", remove_logo="1")
    assert resp.status_code == 302
    assert rally_row(app, rally_id) == (None, None)
    assert not (Path(app.config["MEDIA_DIR"]) / newer).exists()
    assert len(audit_entries(app)) == 3


@pytest.mark.parametrize(
    "colour", ["red;}", "#12345", "#1234567", "#GGGGGG", "<script>alert(1)</script>", "#" * 5000]
)
def test_a_bad_colour_is_a_422_with_a_message(app, client, demo, colour):
    slug, rally_id = demo
    login(client, app)
    resp = post_look(client, slug, colour=colour)
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    assert 'id="poster-error" role="alert">The colour must look like #rrggbb' in text
    assert 'aria-invalid="true"' in text
    assert "<script>alert" not in text
    assert rally_row(app, rally_id) == (None, None)
    assert audit_entries(app) == []


def test_a_nul_in_the_colour_is_a_4xx(app, client, demo):
    slug, rally_id = demo
    login(client, app)
    resp = post_look(client, slug, colour="#123456\x00")
    assert resp.status_code in (400, 422)
    assert rally_row(app, rally_id) == (None, None)


@pytest.mark.parametrize(
    ("name", "content", "status", "words"),
    [
        ("logo.png", b"<svg onload=alert(1)>", 415, "JPEG or PNG"),
        ("logo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, 415, "JPEG or PNG"),
        ("logo.png", b"", 422, "empty"),
    ],
)
def test_a_bad_logo_is_a_4xx_with_a_message(app, client, demo, name, content, status, words):
    slug, rally_id = demo
    login(client, app)
    resp = post_look(client, slug, colour=COLOUR, logo=(name, content))
    assert resp.status_code == status
    text = resp.get_data(as_text=True)
    assert 'id="poster-error" role="alert">' in text
    assert words in text
    assert rally_row(app, rally_id) == (None, None)
    media = Path(app.config["MEDIA_DIR"])
    assert not media.exists() or not list(media.iterdir())


def test_a_logo_over_the_limit_is_a_413(make_app, demo):
    app = make_app(MEDIA_MAX_BYTES=2000)
    slug, rally_id = demo
    client = login(app.test_client(), app)
    resp = post_look(client, slug, colour=COLOUR, logo=("big.png", logo_png((1600, 1600))))
    assert resp.status_code == 413
    assert "MB" in resp.get_data(as_text=True)
    assert rally_row(app, rally_id) == (None, None)


def test_only_organisers_set_the_look(app, client, demo):
    slug, rally_id = demo
    assert post_look(client, slug, colour=COLOUR).status_code == 302  # to the login
    make_user(app, "cora", "curator")
    client.post("/login", data={"username": "cora", "password": STAFF_PASSWORD})
    assert post_look(client, slug, colour=COLOUR).status_code == 403
    assert rally_row(app, rally_id) == (None, None)


def test_the_form_needs_its_csrf_token(make_app, demo):
    app = make_app(WTF_CSRF_ENABLED=True)
    slug, rally_id = demo
    client = app.test_client()
    make_user(app, "olga", "organiser")
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    form = {"username": "olga", "password": STAFF_PASSWORD, "csrf_token": token}
    client.post("/login", data=form)
    assert post_look(client, slug, colour=COLOUR).status_code == 400
    assert rally_row(app, rally_id) == (None, None)


def test_contrast_rules():
    assert pdf.on_colour((138, 21, 56)) == (255, 255, 255)
    assert pdf.on_colour((255, 230, 0)) == (0, 0, 0)
    assert pdf.accent(exports.Look("#8a1538")) == (138, 21, 56)
    assert pdf.accent(exports.Look("#ffe600")) == (0, 0, 0)
    assert pdf.accent(None) == (0, 0, 0)


def _set_look(app, rally_id: int, colour: str | None, logo: bytes | None) -> None:
    from server import media

    with app.app_context():
        row = db.session.get(models.Rally, rally_id)
        row.poster_colour = colour
        row.poster_logo = media.store(logo) if logo else None
        db.session.commit()


def _download(app, rally_id: int, fmt: str) -> bytes:
    with app.app_context():
        return exports.qr_download(db.session.get(models.Rally, rally_id), fmt).data


def test_the_printed_matter_wears_the_look_and_still_decodes(app, demo, artifacts):
    """Posters, labels and the start poster in the event colour with the logo; the codes stay
    black on white and decode; the pictures go to docs/images (make screenshots)."""
    slug, rally_id = demo
    _set_look(app, rally_id, COLOUR, logo_png())
    shots = {}
    for fmt, page_no, name in (
        ("pdf", 5, "organiser-poster.png"),
        ("labels", 0, "organiser-labels.png"),
        ("start", 0, "organiser-start-poster.png"),
    ):
        data = _download(app, rally_id, fmt)
        doc = pdfium.PdfDocument(data)
        page = doc[page_no]
        kinds = [o.type for o in page.get_objects()]
        images = kinds.count(pdfium_c.FPDF_PAGEOBJ_IMAGE)
        assert images == (0 if fmt == "labels" else 1), fmt
        picture = page.render(scale=1.2).to_pil().convert("RGB")
        shot = artifacts / name
        picture.save(shot)
        readme_image(shot, name)
        shots[fmt] = (data, picture)
    poster, picture = shots["pdf"]
    width = picture.width
    assert picture.getpixel((width // 2, 5)) == (138, 21, 56), "the band in the event colour"
    assert picture.getpixel((width // 2, picture.height - 3)) == (255, 255, 255)
    urls = [decode_all(p)[0][0] for p in pdf_pages(poster)]
    assert verified_stops(app, urls) == stop_order(app, rally_id)
    (labels,) = pdf_pages(shots["labels"][0])
    assert len(decode_all(labels)) == 10
    (start,) = pdf_pages(shots["start"][0])
    assert decode_all(start)[0][0] == f"https://artcaching.example.org/play/{slug}"


def test_a_logo_file_gone_from_the_media_folder_prints_none(app, demo):
    _, rally_id = demo
    _set_look(app, rally_id, "#ffe600", logo_png())
    _, logo = rally_row(app, rally_id)
    (Path(app.config["MEDIA_DIR"]) / logo).unlink()
    data = _download(app, rally_id, "pdf")
    page = pdfium.PdfDocument(data)[0]
    assert pdfium_c.FPDF_PAGEOBJ_IMAGE not in {o.type for o in page.get_objects()}
    picture = page.render(scale=1).to_pil().convert("RGB")
    assert picture.getpixel((picture.width // 2, 5)) == (255, 230, 0)
