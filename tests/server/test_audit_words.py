"""The audit log in words: every action the server records has a sentence in German and English,
details read as text (which field changed, old → new, numbers in the reader's language), and the
page shows them HTML-escaped with times in the event's zone."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.server import test_api_curator as base
from tests.server.helpers import staff_client

password_hash, world = base.password_hash, base.world
anna, ada = base.anna, base.ada

SERVER = Path(__file__).resolve().parents[2] / "server"
FORMATTED = {"{kind}.update": ("marker.update", "rally.update")}
"""Actions recorded through an f-string, and what the f-string becomes."""


def _strings(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    if isinstance(node, ast.JoinedStr):
        pattern = "".join(
            v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
            for v in node.values
        )
        assert pattern in FORMATTED, f"say in FORMATTED what the action {pattern!r} becomes"
        return list(FORMATTED[pattern])
    raise AssertionError(f"an audit action that is not a string: {ast.unparse(node)}")


def recorded_actions() -> set[str]:
    """Every action code passed to audit.record(...) anywhere in server/."""
    actions = set()
    for path in SERVER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
            ):
                actions.update(_strings(node.args[0]))
    return actions


def test_every_recorded_action_has_words_in_german_and_english():
    from server.audit import SAYS
    from server.i18n import catalogue

    actions = recorded_actions()
    assert {"rally.publish", "rally.purge", "team.assist", "user.locked"} <= actions
    for action in sorted(actions):
        words = catalogue().get(SAYS + action)
        assert words is not None, f"no words for the audit action {action}"
        assert words.get("de") and words.get("en"), action
        assert "{object}" in words["de"] and "{object}" in words["en"], action


def test_the_accounts_actions_of_the_staff_pages_have_words_too():
    from server.audit import SAYS
    from server.i18n import catalogue

    for action in ("user.create", "user.role", "user.password_reset", "user.deactivate"):
        assert {"de", "en"} <= set(catalogue()[SAYS + action])


def entry(action: str, object_type: str, object_id: int | None, user_id: int | None, **detail):
    from server.models import AuditEntry

    return AuditEntry(
        action=action,
        object_type=object_type,
        object_id=object_id,
        user_id=user_id,
        detail=detail,
        at=datetime(2026, 11, 29, 18, 5, tzinfo=UTC),
    )


def told(app, entries: list[Any], lang: str) -> list[tuple[str, tuple[str, ...]]]:
    from server import audit
    from server.extensions import db

    with app.test_request_context():
        db.session.add_all(entries)
        db.session.flush()
        words = [(w.sentence, w.details) for w in audit.describe(entries, lang)]
        db.session.rollback()
        return words


def test_an_entry_says_who_did_what_to_which_object_in_both_languages(app, world):
    from server.extensions import db
    from server.models import Rally

    with app.app_context():
        draft = db.session.get(Rally, world.draft)
        draft.set_text("title", {"de": "Kunstnacht", "en": "Art night"})
        db.session.commit()
    anna_id = world.users["anna"]
    publish = [entry("rally.publish", "rally", world.draft, anna_id, slug="annas-walk")]
    assert told(app, publish, "en")[0] == ("anna published the rally »Art night«", ())
    assert told(app, publish, "de")[0] == ("anna hat die Rallye »Kunstnacht« veröffentlicht", ())
    closed = [entry("rally.close", "rally", world.draft, None, slug="annas-walk")]
    assert told(app, closed, "en")[0][0] == "The system closed the rally »Art night«"


def test_details_name_the_fields_with_old_and_new_values_in_the_readers_language(app, world):
    anna_id = world.users["anna"]
    marker = world.anna_markers[0]
    entries = [
        entry(
            "marker.update",
            "marker",
            marker,
            anna_id,
            radius_m={"before": 25, "after": 30.5},
            position={"before": [49.4456, 7.77036], "after": [49.44561, 7.7704]},
            title=["de", "en"],
            polygon={"before": None, "after": [[49.1, 7.1], [49.2, 7.2], [49.1, 7.3]]},
        ),
        entry(
            "rally.update",
            "rally",
            world.draft,
            anna_id,
            slug={"before": "old", "after": "new"},
            order_mode={"before": "fixed", "after": "free"},
        ),
        entry("user.locked", "user", anna_id, None, failures=5, seconds=900, address="192.0.2.1"),
        entry(
            "venue.update",
            "venue",
            world.unplaced_venue,
            anna_id,
            step_free={"before": None, "after": True},
            name="Pfalztheater",
        ),
    ]
    de = told(app, entries, "de")
    assert de[0][1] == (
        "Radius: 25 m → 30,5 m",
        "Position: 49,44560, 7,77036 → 49,44561, 7,77040",
        "Titel: geändert (DE, EN)",
        "Fläche: nichts → Vieleck mit 3 Ecken",
    )
    assert de[1][1] == (
        "Kurzname: old → new",
        "Reihenfolge: Fest: eine Station nach der anderen → Frei: alle Stationen sind von "
        "Anfang an offen",
    )
    assert de[2][0] == "Das Konto »anna« wurde nach 5 falschen Passwörtern gesperrt"
    assert de[2][1] == ("Gesperrt für: 15 Min.", "Adresse: 192.0.2.1")
    assert de[3][1] == ("Stufenlos erreichbar: nichts → ja",)
    en = told(app, entries, "en")
    assert en[0][1][0] == "Radius: 25 m → 30.5 m"
    assert en[0][1][2] == "Title: changed (DE, EN)"
    assert en[2][1] == ("Locked for: 15 mins", "Address: 192.0.2.1")


def test_stops_team_help_and_gone_objects_read_by_name(app, world):
    from server.extensions import db
    from server.models import Marker

    with app.app_context():
        titles = {m: db.session.get(Marker, m).text("title")["en"] for m in world.anna_markers}
    first, second, third = world.anna_markers
    anna_id = world.users["anna"]
    entries = [
        entry(
            "rally.stops",
            "rally",
            world.draft,
            anna_id,
            before=[first, second],
            after=[second, first, third],
            stops=[{"marker_id": first, "changed": ["task", "clue.de", "clue.en"]}],
        ),
        entry(
            "rally.delete", "rally", 9999, anna_id, slug="gone", title={"de": "Weg", "en": "Gone"}
        ),
        entry(
            "team.assist",
            "team",
            4242,
            world.users["olga"],
            rally="annas-walk",
            rally_id=world.draft,
            marker_id=first,
            stop=2,
            reason="<b>phone died</b>",
        ),
        entry(
            "marker.delete", "marker", 8888, anna_id, title={"en": "Old tower"}, lat=49.4, lon=7.7
        ),
    ]
    en = told(app, entries, "en")
    assert en[0][1] == (
        f"Stops: {titles[first]}, {titles[second]} → {titles[second]}, {titles[first]}, "
        f"{titles[third]}",
        f"Stop »{titles[first]}«: Task, Clue (DE), Clue (EN)",
    )
    assert en[1] == ("anna deleted the rally »Gone«", ())
    assert en[2][0] == "olga helped the team »Team no. 4242 (anonymised)« at stop 2"
    assert f"Marker: {titles[first]}" in en[2][1]
    assert "Reason: <b>phone died</b>" in en[2][1]
    assert en[3] == ("anna deleted the marker »Old tower«", ("Position: 49.40000, 7.70000",))


def test_an_unknown_action_still_reads(app, world):
    old = [entry("key.rotate", "key", None, world.users["ada"], kid="k2")]
    assert told(app, old, "en")[0] == ("ada: key.rotate Key", ("kid: k2",))


def test_the_audit_page_escapes_what_users_wrote_and_shows_event_times(app, world, anna, ada):
    from server.extensions import db
    from server.models import AuditEntry

    anna.patch(
        f"{base.API}/rallies/{world.draft}",
        json={"title": {"de": "<script>alert(1)</script>", "en": "<i>Art</i> night"}},
    )
    with app.app_context():
        row = db.session.query(AuditEntry).one()
        row.at = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
        db.session.commit()
    de = ada.get("/curator/audit?lang=de").get_data(as_text=True)
    assert "anna hat die Rallye »&lt;script&gt;alert(1)&lt;/script&gt;« geändert" in de
    assert "<script>alert(1)" not in de
    assert "Titel: geändert (DE, EN)" in de
    assert "01.07.2026, 12:00:00" in de, "summer time: UTC+2 in Berlin"
    en = ada.get("/curator/audit?lang=en").get_data(as_text=True)
    assert "anna changed the rally »&lt;i&gt;Art&lt;/i&gt; night«" in en
    assert "1 Jul 2026, 12:00:00" in en


@pytest.mark.parametrize("zone", ["America/New_York"])
def test_the_audit_page_follows_the_event_time_zone_setting(make_app, zone):
    from server.auth import create_user
    from server.extensions import db
    from server.models import Role

    app = make_app(EVENT_TIMEZONE=zone)
    with app.app_context():
        admin = create_user("ada", "correct horse battery", Role.ADMIN)
        db.session.add(entry("user.activate", "user", admin.id, admin.id))
        db.session.commit()
        admin_id = admin.id
    page = staff_client(app, admin_id).get("/curator/audit?lang=en").get_data(as_text=True)
    assert "When (America/New_York)" in page
    assert "29 Nov 2026, 13:05:00" in page
    assert "ada activated the account »ada«" in page
