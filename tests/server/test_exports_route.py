"""The route as GPX 1.1 and GeoJSON: valid against their schemas, from the web UI and the CLI."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft7Validator
from lxml import etree

from server import exports, models
from server.cli import export_route
from server.extensions import db
from tests.conftest import SCHEMAS
from tests.server.organiser_helpers import login

GPX = "{http://www.topografix.com/GPX/1/1}"


@pytest.fixture(scope="module")
def gpx_schema():
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "gpx-1.1.xsd")))


@pytest.fixture(scope="module")
def geojson_validator():
    schema = json.loads((SCHEMAS / "geojson-FeatureCollection.schema.json").read_text())
    return Draft7Validator(schema)


def check_gpx(data: bytes, schema) -> etree._Element:
    doc = etree.fromstring(data)
    schema.assertValid(doc)
    return doc


def test_gpx_is_valid_and_has_every_stop(app, demo, gpx_schema):
    slug, rally_id = demo
    with app.app_context():
        row = db.session.get(models.Rally, rally_id)
        d = exports.route_download(row, "gpx", "de")
        titles = [s.marker.text("title")["de"] for s in row.stops]
    assert (d.mimetype, d.filename) == ("application/gpx+xml", f"{slug}.gpx")
    doc = check_gpx(d.data, gpx_schema)
    names = [w.findtext(f"{GPX}name") for w in doc.iter(f"{GPX}wpt")]
    assert names == ["Start", *[f"{i}. {t}" for i, t in enumerate(titles, 1)]]
    assert len(list(doc.iter(f"{GPX}rtept"))) == 11


def test_geojson_is_valid_with_stops_and_line(app, demo, geojson_validator):
    slug, rally_id = demo
    with app.app_context():
        d = exports.route_download(db.session.get(models.Rally, rally_id), "geojson", "en")
    assert (d.mimetype, d.filename) == ("application/geo+json", f"{slug}.geojson")
    collection = json.loads(d.data)
    errors = [e.message for e in geojson_validator.iter_errors(collection)]
    assert not errors, errors[:3]
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    assert kinds.count("stop") == 10 and kinds.count("route") == 1
    line = next(f for f in collection["features"] if f["properties"]["kind"] == "route")
    assert len(line["geometry"]["coordinates"]) == 11


def test_web_downloads(app, client, demo, gpx_schema, geojson_validator):
    slug, _ = demo
    assert client.get(f"/organiser/{slug}/export/route?format=gpx").status_code == 302
    login(client, app)
    resp = client.get(f"/organiser/{slug}/export/route?format=gpx&lang=en")
    assert resp.status_code == 200 and resp.mimetype == "application/gpx+xml"
    doc = check_gpx(resp.data, gpx_schema)
    assert doc.find(f"{GPX}wpt").findtext(f"{GPX}name") == "Start"
    assert "St. Mary" in resp.get_data(as_text=True)
    resp = client.get(f"/organiser/{slug}/export/route?format=geojson")
    assert resp.status_code == 200
    assert not list(geojson_validator.iter_errors(json.loads(resp.data)))
    resp = client.get(f"/organiser/{slug}/export/route?format=kml")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/organiser/{slug}/")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "kml" in page and "gpx, geojson" in page


def test_cli(app, runner, demo, tmp_path, gpx_schema, geojson_validator):
    slug, _ = demo
    out = tmp_path / "route.gpx"
    result = runner.invoke(export_route, [slug, "--format", "gpx", "--lang", "en", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"route of '{slug}' (gpx) written to {out}" in result.output
    check_gpx(out.read_bytes(), gpx_schema)
    out = tmp_path / "route.geojson"
    result = runner.invoke(export_route, [slug, "--format", "geojson", "-o", str(out)])
    assert result.exit_code == 0
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert not list(geojson_validator.iter_errors(collection))
    assert collection["features"][1]["properties"]["name"] == "Marienkirche"
    result = runner.invoke(export_route, ["nope", "-o", str(out)])
    assert result.exit_code == 1 and "no rally 'nope'" in result.output


def test_a_rally_without_stops_has_no_route(app, client, runner, tmp_path):
    with app.app_context():
        db.session.add(models.Rally(slug="leer", status=models.RallyStatus.DRAFT))
        db.session.commit()
    result = runner.invoke(export_route, ["leer", "-o", str(tmp_path / "x.gpx")])
    assert result.exit_code == 1
    assert "The rally 'leer' has no stops yet." in result.output
    assert not (tmp_path / "x.gpx").exists()
    login(client, app)
    resp = client.get("/organiser/leer/export/route?format=gpx", follow_redirects=True)
    assert "Die Rallye „leer“ hat noch keine Stationen." in resp.get_data(as_text=True)
