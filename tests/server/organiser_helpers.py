"""Helpers for the organiser tests: staff logins, a played game, query counting, many teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from markers.geo import LatLon, destination
from tests.server.helpers import (
    API,
    backdate_team,
    bearer,
    checkin,
    demo_stops,
    get_team,
    new_event_id,
    new_team,
    qr_url,
    scan,
)

PASSWORD = "correct horse battery"
ORG = "/organiser"
ORG_API = "/api/v1/organiser"

ZEBRAS = "Die Zebras Ümlaut"
FUCHS = '=HYPERLINK("http://evil")'
OTTER = "Otter „Straße“ – 3"


def make_user(app, username: str, role: str) -> int:
    from server.auth import create_user
    from server.models import Role

    with app.app_context():
        return create_user(username, PASSWORD, Role(role)).id


def login(client, app, role: str = "organiser", username: str | None = None):
    """Create a staff user with the role and log the test client in; the client."""
    username = username or f"{role}-user"
    make_user(app, username, role)
    resp = client.post("/login", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


def near(position: LatLon, metres: float = 7.0, bearing: float = 33.0) -> LatLon:
    """A point a few metres from a position: inside a geofence, with digits of its own."""
    return destination(position, bearing, metres)


@dataclass(frozen=True)
class Played:
    """A game in progress on the demo rally: three teams and what they did."""

    slug: str
    rally_id: int
    teams: dict[str, int]
    tokens: dict[str, str]
    fixes: dict[str, LatLon]
    teleport: LatLon


def play(app, client, slug: str, rally_id: int) -> Played:
    """Zebras find stops 1-3 by GPS (then a teleport to Munich is flagged), Fuchs finds stop 1 by
    QR code and stop 2 by GPS, Otter only sends one fix near the start."""
    stops = demo_stops(app, rally_id)
    tokens = {name: new_team(client, slug, name, "de") for name in (ZEBRAS, FUCHS, OTTER)}
    teams = {name: get_team(client, tok)["id"] for name, tok in tokens.items()}
    for team_id in teams.values():
        backdate_team(app, team_id, 3600)
    start = datetime.now(UTC) - timedelta(minutes=50)
    fixes: dict[str, LatLon] = {}
    for k, stop in enumerate(stops[:3]):
        fix = near(stop.position, 6.0 + k, 30.0 + 40 * k)
        resp = checkin(client, tokens[ZEBRAS], *fix, at=start + timedelta(minutes=10 * k))
        assert resp.get_json()["result"] == "found", resp.get_json()
        fixes[ZEBRAS] = fix
    teleport = LatLon(48.1371234, 11.5751234)
    resp = checkin(client, tokens[ZEBRAS], *teleport, at=start + timedelta(minutes=31))
    assert resp.get_json()["result"] == "teleport"

    resp = scan(
        client,
        tokens[FUCHS],
        qr_url(app, rally_id, stops[0].marker_id),
        at=start + timedelta(minutes=5),
    )
    assert resp.get_json()["result"] == "found", resp.get_json()
    fix = near(stops[1].position, 5.0, 200.0)
    resp = checkin(client, tokens[FUCHS], *fix, at=datetime.now(UTC) - timedelta(minutes=2))
    assert resp.get_json()["result"] == "found", resp.get_json()
    fixes[FUCHS] = fix

    otter = near(stops[0].position, 400.0, 250.0)
    resp = checkin(client, tokens[OTTER], *otter, at=datetime.now(UTC) - timedelta(minutes=1))
    assert resp.get_json()["result"] == "outside"
    fixes[OTTER] = otter
    return Played(slug, rally_id, teams, tokens, fixes, teleport)


STOP1_ANSWER = 1892
"""The demo rally's stop 1 asks for a number (50 points, 3 attempts, hints cost 10 and 20)."""


def post_answer(client, token: str, stop: int, answer: object) -> dict:
    body = {"stop": stop, "answer": answer, "client_event_id": new_event_id()}
    resp = client.post(f"{API}/team/answers", json=body, headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def post_hint(client, token: str, stop: int) -> dict:
    body = {"stop": stop, "client_event_id": new_event_id()}
    resp = client.post(f"{API}/team/hints", json=body, headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def play_tasks(client, played: Played) -> None:
    """At stop 1 (see play): the Zebras take both hints (-30), answer wrong once, then right
    (+33 of 50); Fuchs take a hint (-10) and use up the three attempts (0 points); Otter, who has
    not found it yet, take a hint (-10)."""
    zebras, fuchs, otter = (played.tokens[n] for n in (ZEBRAS, FUCHS, OTTER))
    assert post_hint(client, zebras, 1)["hint"]["cost"] == 10
    assert post_hint(client, zebras, 1)["hint"]["cost"] == 20
    assert post_answer(client, zebras, 1, 1000)["correct"] is False
    assert post_answer(client, zebras, 1, STOP1_ANSWER)["points"] == 33
    post_hint(client, fuchs, 1)
    for wrong in (1, 2, 3):
        assert post_answer(client, fuchs, 1, wrong)["correct"] is False
    post_hint(client, otter, 1)


def add_teams(app, rally_id: int, count: int, fixes_at: datetime | None = None) -> None:
    """count teams straight into the database, each with finds, progress at the first stop, a
    flag and a recent fix."""
    from server import models
    from server.extensions import db

    now = fixes_at or datetime.now(UTC)
    with app.app_context():
        rally = db.session.get(models.Rally, rally_id)
        marker_ids = [s.marker_id for s in rally.stops]
        for i in range(count):
            found = i % (len(marker_ids) + 1)
            team = models.Team(
                rally_id=rally_id,
                name=f"Team {i:04d}",
                join_code=f"B{i:07d}",
                started_at=now - timedelta(hours=1),
                score=100 * found,
                found_count=found,
                last_lat=49.44 + i * 1e-5,
                last_lon=7.76 + i * 1e-5,
                last_accuracy_m=10.0,
                last_fix_at=now - timedelta(minutes=i % 20) + timedelta(seconds=30),
            )
            db.session.add(team)
            db.session.flush()
            for k, marker_id in enumerate(marker_ids[:found]):
                db.session.add(
                    models.Discovery(
                        team_id=team.id,
                        marker_id=marker_id,
                        method=("gps", "qr", "assist")[k % 3],
                        found_at=now - timedelta(minutes=50 - k),
                    )
                )
            if found:
                db.session.add(
                    models.StopProgress(
                        team_id=team.id,
                        marker_id=marker_ids[0],
                        wrong=i % 2,
                        solved=i % 3 == 0,
                        points=50 if i % 3 == 0 else 0,
                        hints=i % 3,
                    )
                )
            if i % 7 == 0:
                db.session.add(
                    models.TeamFlag(
                        team_id=team.id,
                        kind="teleport",
                        at=now - timedelta(minutes=5),
                        detail={"speed_mps": 40.0},
                    )
                )
        db.session.commit()


def decode_all(image) -> list[tuple[str, float, float]]:
    """Every QR code zxing-cpp finds in a PIL image: (text, x, y of its top-left corner)."""
    import zxingcpp

    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return sorted(
        ((r.text, r.position.top_left.x, r.position.top_left.y) for r in found),
        key=lambda c: (round(c[2] / 50), c[1]),
    )


def pdf_pages(data: bytes, scale: float = 2.0) -> list:
    """The pages of a PDF rendered by pdfium, as PIL images."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    return [doc[i].render(scale=scale).to_pil() for i in range(len(doc))]


def verified_stops(app, urls: list[str]) -> list[tuple[int, int]]:
    """(rally id, marker id) named by each URL's token, verified with the server's key ring;
    the URLs must point at the public base."""
    from markers import tokens
    from server import game

    with app.app_context():
        base = app.config["PUBLIC_BASE_URL"] + "/q/"
        ring = game.keyring()
        out = []
        for url in urls:
            assert url.startswith(base), url
            claims = ring.verify(tokens.token_from_url(url))
            assert claims.key_id == ring.active.id
            out.append((claims.rally_id, claims.marker_id))
        return out


def stop_order(app, rally_id: int) -> list[tuple[int, int]]:
    return [(rally_id, s.marker_id) for s in demo_stops(app, rally_id)]
