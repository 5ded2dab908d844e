"""Marker images: JPEG/PNG told by their bytes, size-capped, bomb-safe, re-encoded without EXIF or
GPS, stored under a random name outside the static folder, replaced and removed cleanly."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin
from PIL.ExifTags import GPS, IFD, Base

from tests.server.helpers import assert_error, count_rows, staff_client

API = "/api/v1/curator"
PASSWORD_HASH = "not a usable hash: these tests log in through the session"
MEDIA_NAME = r"[A-Za-z0-9_-]{32}\.(jpg|png)"


def jpeg_with_gps(size: tuple[int, int] = (2400, 1800), orientation: int = 1) -> bytes:
    """A camera-like JPEG: EXIF with maker, orientation and a GPS position in Kaiserslautern."""
    image = Image.new("RGB", size, (180, 40, 30))
    for x in range(0, size[0], 50):
        image.paste((20, 20, 160), (x, 0, x + 10, size[1]))
    exif = Image.Exif()
    exif[Base.Make] = "Canon"
    exif[Base.Model] = "EOS Secret"
    exif[Base.Orientation] = orientation
    exif[IFD.GPSInfo] = {
        GPS.GPSLatitudeRef: "N",
        GPS.GPSLatitude: (49.0, 26.0, 40.8),
        GPS.GPSLongitudeRef: "E",
        GPS.GPSLongitude: (7.0, 46.0, 13.3),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def png_with_metadata(mode: str = "RGBA", size: tuple[int, int] = (300, 200)) -> bytes:
    image = Image.new(mode, size, (10, 120, 30, 128) if mode == "RGBA" else 90)
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Anna Example")
    info.add_text("GPS", "49.4447,7.7690")
    exif = Image.Exif()
    exif[IFD.GPSInfo] = {GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: (49.0, 26.0, 40.8)}
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A small, valid PNG of enormous size: a 1-bit image of zeros, compressed row by row."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def curators_with_markers(app, *names: str) -> tuple[Any, list[int]]:
    """One curator per name, each with one marker: a test client logged in as the first, and the
    marker ids in the order of the names."""
    from server.extensions import db
    from server.models import Marker, Role, User

    with app.app_context():
        users = [
            User(username=name, password_hash=PASSWORD_HASH, role=Role.CURATOR) for name in names
        ]
        db.session.add_all(users)
        db.session.flush()
        markers = [
            Marker(lat=49.4447 + 0.0003 * k, lon=7.7690 + 0.001 * k, owner_id=user.id)
            for k, user in enumerate(users)
        ]
        db.session.add_all(markers)
        db.session.commit()
        user_id, marker_ids = users[0].id, [m.id for m in markers]
    return staff_client(app, user_id), marker_ids


@pytest.fixture
def marker(app):
    """A curator (anna, logged in on the returned client), her marker, and another curator's."""
    client, (mine, theirs) = curators_with_markers(app, "anna", "ben")
    return client, mine, theirs


def upload(client, marker_id: int, data: bytes, filename: str = "photo.jpg", **headers):
    return client.put(
        f"{API}/markers/{marker_id}/image",
        data={"image": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en", **headers},
    )


def media_files(app) -> list[str]:
    folder = Path(app.config["MEDIA_DIR"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_jpeg_loses_exif_and_gps_is_scaled_and_served_from_media(app, marker):
    client, mid, _ = marker
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(IFD.GPSInfo)
    resp = upload(client, mid, original, filename="IMG_0001.JPG")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert re.fullmatch(MEDIA_NAME, body["image"]) and body["image"].endswith(".jpg")
    assert body["image_url"] == f"/media/{body['image']}"
    assert media_files(app) == [body["image"]]
    static = Path(app.static_folder).resolve()
    assert static not in (Path(app.config["MEDIA_DIR"]) / body["image"]).resolve().parents

    served = client.get(body["image_url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(served.data))
    assert image.format == "JPEG" and image.size == (1600, 1200)
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info and b"Canon" not in served.data
    assert b"EOS Secret" not in served.data and b"GPS" not in served.data
    assert count_rows(app, "AuditEntry", action="marker.image") == 1


def test_the_orientation_is_applied_before_exif_is_dropped(app, marker):
    client, mid, _ = marker
    resp = upload(client, mid, jpeg_with_gps((800, 600), orientation=6))
    image = Image.open(io.BytesIO(client.get(resp.get_json()["image_url"]).data))
    assert image.size == (600, 800)
    assert dict(image.getexif()) == {}


@pytest.mark.parametrize("mode", ["RGBA", "L", "P"])
def test_a_png_stays_png_without_text_or_exif(app, marker, mode):
    client, mid, _ = marker
    resp = upload(client, mid, png_with_metadata(mode), filename="scan.jpg")
    assert resp.status_code == 200, resp.get_json()
    name = resp.get_json()["image"]
    assert name.endswith(".png")
    data = client.get(f"/media/{name}").data
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (300, 200)
    assert not {"Author", "GPS", "exif"} & set(image.info)
    assert b"Anna Example" not in data and b"eXIf" not in data


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "fake.jpg"),
        (b"%PDF-1.4 not an image", "photo.png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.png"),
        (b"\xff\xd8\xff", "cut.jpg"),
    ],
)
def test_files_that_are_not_jpeg_or_png_are_415(app, marker, data, filename):
    client, mid, _ = marker
    error = assert_error(upload(client, mid, data, filename), 415, "image_type")
    assert error["field"] == "image" and "JPEG or PNG" in error["message"]
    assert media_files(app) == []


def test_a_gif_or_webp_is_refused_even_when_pillow_could_read_it(app, marker):
    client, mid, _ = marker
    for kind in ("GIF", "WEBP", "BMP"):
        out = io.BytesIO()
        Image.new("RGB", (10, 10)).save(out, kind)
        assert_error(upload(client, mid, out.getvalue(), "x.png"), 415, "image_type")


def test_a_truncated_image_is_422(app, marker):
    client, mid, _ = marker
    data = jpeg_with_gps((400, 300))
    error = assert_error(upload(client, mid, data[: len(data) // 2]), 422, "image_broken")
    assert "damaged" in error["message"]
    assert media_files(app) == []


def test_an_empty_file_or_no_file_or_json_is_refused(app, marker):
    client, mid, _ = marker
    assert_error(upload(client, mid, b""), 422, "image_empty")
    resp = client.put(
        f"{API}/markers/{mid}/image", data={"other": "x"}, content_type="multipart/form-data"
    )
    assert assert_error(resp, 422, "image_missing")["field"] == "image"
    assert_error(
        client.put(f"{API}/markers/{mid}/image", json={"image": "x"}), 415, "image_multipart"
    )


def test_oversized_uploads_are_413_with_the_limit(make_app, tmp_path):
    app = make_app(MEDIA_MAX_BYTES=200_000)
    client, (mid,) = curators_with_markers(app, "anna")
    side = 300
    just_over = b""
    while len(just_over) <= 200_000:
        out = io.BytesIO()
        Image.effect_noise((side, side), 90).convert("RGB").save(out, "JPEG", quality=100)
        just_over, side = out.getvalue(), side + 20
    assert 200_000 < len(just_over) < 200_000 + 64 * 1024
    error = assert_error(upload(client, mid, just_over), 413, "image_too_large")
    assert "up to 0.190735 MB" in error["message"]
    error = assert_error(upload(client, mid, b"\xff" * 1_000_000), 413, "image_too_large")
    assert error["message"].startswith("The image is too large")
    assert media_files(app) == []


def test_the_default_cap_is_8_mb(app, marker):
    client, mid, _ = marker
    assert app.config["MEDIA_MAX_BYTES"] == 8 * 1024 * 1024
    error = assert_error(
        upload(client, mid, b"\xff\xd8" + b"\0" * (9 * 1024 * 1024)), 413, "image_too_large"
    )
    assert "8 MB" in error["message"]


def test_a_decompression_bomb_is_refused_before_its_pixels_are_loaded(app, marker):
    client, mid, _ = marker
    for side in (8_000, 12_000, 30_000):
        bomb = png_bomb(side, side)
        assert len(bomb) < 200_000
        error = assert_error(upload(client, mid, bomb, "bomb.png"), 413, "image_too_many_pixels")
        assert "up to 60 megapixels" in error["message"]
    assert media_files(app) == []


def test_the_pixel_limit_is_a_setting(make_app):
    from server import media

    app = make_app(MEDIA_MAX_PIXELS=1_000_000)
    with app.app_context():
        lim = media.limits()
    assert lim.max_pixels == 1_000_000
    with pytest.raises(media.MediaError) as caught:
        media.reencode(png_bomb(1001, 1000), lim)
    assert caught.value.code == "image_too_many_pixels"
    encoded, ext = media.reencode(png_bomb(1000, 1000), lim)
    assert ext == "png" and Image.open(io.BytesIO(encoded)).size == (1000, 1000)


def test_replacing_and_removing_delete_the_old_files(app, marker):
    client, mid, _ = marker
    first = upload(client, mid, jpeg_with_gps((400, 300))).get_json()["image"]
    second = upload(client, mid, png_with_metadata()).get_json()["image"]
    assert first != second and media_files(app) == [second]
    assert client.get(f"/media/{first}").status_code == 404
    resp = client.delete(f"{API}/markers/{mid}/image")
    assert resp.status_code == 200 and resp.get_json()["image"] is None
    assert media_files(app) == []
    assert client.delete(f"{API}/markers/{mid}/image").status_code == 200
    actions = [a for (a,) in _audit(app)]
    assert actions == ["marker.image", "marker.image", "marker.image_delete"]


def test_deleting_a_marker_deletes_its_image(app, marker):
    client, mid, _ = marker
    upload(client, mid, jpeg_with_gps((400, 300)))
    assert len(media_files(app)) == 1
    assert client.delete(f"{API}/markers/{mid}").status_code == 200
    assert media_files(app) == []


def test_another_curators_marker_takes_no_image(app, marker):
    client, _, theirs = marker
    assert_error(upload(client, theirs, jpeg_with_gps((40, 30))), 403, "marker_not_yours")
    assert media_files(app) == []


def _audit(app):
    from sqlalchemy import select

    from server.extensions import db
    from server.models import AuditEntry

    with app.app_context():
        return db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_either_become_a_clean_image_or_a_media_error(data):
    from server import media

    lim = media.Limits(max_bytes=10_000, max_pixels=1_000_000, max_side=64)
    for candidate in (data, b"\x89PNG\r\n\x1a\n" + data, b"\xff\xd8\xff\xe0" + data):
        try:
            encoded, ext = media.reencode(candidate, lim)
        except media.MediaError as exc:
            assert exc.code in {
                "image_type",
                "image_broken",
                "image_empty",
                "image_too_large",
                "image_too_many_pixels",
            }
        else:
            image = Image.open(io.BytesIO(encoded))
            assert image.format == {"jpg": "JPEG", "png": "PNG"}[ext]
            assert max(image.size) <= 64


def test_uploads_need_the_csrf_header_and_big_ones_still_get_413(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client, (mid,) = curators_with_markers(app, "anna")
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    image = jpeg_with_gps((300, 200))
    assert_error(upload(client, mid, image), 400, "csrf_failed")
    resp = upload(client, mid, image, **{"X-CSRFToken": token})
    assert resp.status_code == 200, resp.get_json()
    too_big = b"\xff\xd8" + b"\0" * (9 * 1024 * 1024)
    assert_error(upload(client, mid, too_big, **{"X-CSRFToken": token}), 413, "image_too_large")
    assert media_files(app) == [resp.get_json()["image"]]
