"""Results: the CSV (UTF-8 with BOM, umlauts, formula injection guarded, local times) and the
printable one-page summary."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server import exports, models
from server.cli import close_rally, export_results, purge_rally
from server.exports.results import FORMULA_START, duration_text, safe_cell
from server.extensions import db
from tests.server.helpers import demo_stops
from tests.server.organiser_helpers import FUCHS, ORG_API, OTTER, ZEBRAS, login, play_tasks


def finish(app, client, played) -> None:
    """The Zebras get the remaining stops marked found: they finish."""
    for stop in demo_stops(app, played.rally_id)[3:]:
        resp = client.post(
            f"{ORG_API}/rallies/{played.slug}/teams/{played.teams[ZEBRAS]}/assists",
            json={"marker_id": stop.marker_id, "reason": "Handy kaputt"},
        )
        assert resp.status_code == 201


def parse(data: bytes, delimiter: str = ",") -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def csv_of(app, rally_id: int, lang: str = "de", tz: str | None = None, sep: str = ",") -> bytes:
    with app.app_context():
        d = exports.results_download(db.session.get(models.Rally, rally_id), lang, tz, sep)
    assert d.mimetype == "text/csv"
    return d.data


def team_times(app, team_id: int) -> tuple[datetime, datetime | None]:
    with app.app_context():
        team = db.session.get(models.Team, team_id)
        return team.started_at, team.finished_at


def test_csv_rows_in_german(app, client, played):
    login(client, app)
    finish(app, client, played)
    rows = parse(csv_of(app, played.rally_id, "de", sep=";"), ";")
    assert rows[0] == [
        "Platz",
        "Team",
        "Start (Europe/Berlin)",
        "Ziel (Europe/Berlin)",
        "Dauer (h:mm:ss)",
        "Stationen gefunden (von 10)",
        "Wege",
        "Punkte",
        "Auffälligkeiten",
        "Aufgabenpunkte",
        "Aufgaben gelöst",
        "Aufgaben beantwortet",
        "Hinweise genommen",
        "Punkte für Hinweise",
    ]
    assert [r[1] for r in rows[1:]] == [ZEBRAS, "'" + FUCHS, OTTER]
    zebras, fuchs, otter = rows[1:]
    started, finished = team_times(app, played.teams[ZEBRAS])
    berlin = ZoneInfo("Europe/Berlin")
    assert zebras[2] == started.astimezone(berlin).isoformat(timespec="seconds")
    assert zebras[3] == finished.astimezone(berlin).isoformat(timespec="seconds")
    assert zebras[4] == duration_text((finished - started).total_seconds())
    assert zebras[5:8] == ["10", "GPS 3, Hilfe 7", str(300 + 7 * 25 + 200)]
    assert zebras[8:] == ["Sprung 1, geholfen 7", "0", "0", "0", "0", "0"]
    assert fuchs[:1] == ["2"] and fuchs[3:8] == ["", "", "2", "GPS 1, QR-Code 1", "200"]
    assert otter[5:] == ["0", "", "0", "", "0", "0", "0", "0", "0"]


def test_csv_in_english_with_commas_and_utc(app, client, played):
    rows = parse(csv_of(app, played.rally_id, "en", tz="UTC"))
    assert rows[0][:3] == ["Rank", "Team", "Started (UTC)"]
    assert rows[0][5] == "Stops found (of 10)"
    assert rows[1][6:9] == ["GPS 3", "300", "teleport 1"]
    assert rows[0][9:] == [
        "Task points",
        "Tasks solved",
        "Tasks answered",
        "Hints taken",
        "Points spent on hints",
    ]
    started, _ = team_times(app, played.teams[ZEBRAS])
    assert rows[1][2] == started.astimezone(UTC).isoformat(timespec="seconds")
    assert rows[1][2].endswith("+00:00")


def test_csv_counts_tasks_answered_and_hints_taken(app, client, played):
    play_tasks(client, played)
    rows = parse(csv_of(app, played.rally_id, "en"))
    by_team = {r[1]: r for r in rows[1:]}
    # score, task points, tasks solved, tasks answered, hints taken, their cost
    assert by_team[ZEBRAS][7:8] + by_team[ZEBRAS][9:] == ["303", "33", "1", "1", "2", "30"]
    assert by_team["'" + FUCHS][7:8] + by_team["'" + FUCHS][9:] == ["190", "0", "0", "1", "1", "10"]
    assert by_team[OTTER][7:8] + by_team[OTTER][9:] == ["0", "0", "0", "0", "1", "10"]


def test_csv_tab_separated(app, client, played):
    rows = parse(csv_of(app, played.rally_id, "en", sep="tab"), "\t")
    assert len(rows) == 4 and rows[3][1] == OTTER


@pytest.mark.parametrize("name", ["=1+2", "+49 631", "-rm", "@SUM(A1)", "\tTab", "\rCR"])
def test_formula_injection_is_guarded(app, client, demo, name):
    _slug, rally_id = demo
    with app.app_context():
        db.session.add(models.Team(rally_id=rally_id, name=name, join_code="INJECT01"))
        db.session.commit()
    rows = parse(csv_of(app, rally_id, "en"))
    assert rows[1][1] == "'" + name


@given(st.text(min_size=1, max_size=30))
def test_safe_cell_never_starts_a_formula(text):
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_START)
    assert cell in (text, "'" + text)


def test_duration_text():
    assert duration_text(None) == ""
    assert duration_text(59.6) == "0:01:00"
    assert duration_text(3909) == "1:05:09"
    assert duration_text(36000) == "10:00:00"


def test_unknown_time_zone_and_delimiter(app, demo):
    _slug, rally_id = demo
    with pytest.raises(exports.ExportError) as caught:
        csv_of(app, rally_id, tz="Mars/Olympus")
    assert caught.value.code == "unknown_timezone"
    with pytest.raises(exports.ExportError) as caught:
        csv_of(app, rally_id, sep="|")
    assert caught.value.code == "unknown_delimiter"


def test_web_download(app, client, played):
    url = f"/organiser/{played.slug}/export/results?sep=;"
    assert client.get(url).status_code == 302
    login(client, app)
    resp = client.get(url + "&lang=en")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Cache-Control"] == "no-store"
    assert f"filename={played.slug}-results.csv" in resp.headers["Content-Disposition"]
    rows = parse(resp.data, ";")
    assert rows[0][2] == "Started (Europe/Berlin)"
    resp = client.get(
        f"/organiser/{played.slug}/export/results?tz=Nowhere/Land", follow_redirects=True
    )
    assert "Unknown time zone 'Nowhere/Land'" in html.unescape(resp.get_data(as_text=True))


def test_cli_close_export_purge(app, runner, client, played, tmp_path):
    out = tmp_path / "ergebnisse.csv"
    result = runner.invoke(
        export_results,
        [
            played.slug,
            "--lang",
            "de",
            "--delimiter",
            ";",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert parse(out.read_bytes(), ";")[1][1] == ZEBRAS
    result = runner.invoke(purge_rally, [played.slug, "--yes"])
    assert result.exit_code == 1
    assert "only after the event is closed" in result.output
    result = runner.invoke(close_rally, [played.slug])
    assert result.exit_code == 0, result.output
    assert f"rally '{played.slug}' closed" in result.output
    result = runner.invoke(close_rally, [played.slug])
    assert result.exit_code == 1 and "closed already" in result.output
    result = runner.invoke(purge_rally, [played.slug], input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    result = runner.invoke(purge_rally, [played.slug], input="y\n")
    assert result.exit_code == 0, result.output
    assert "personal data of 3 teams purged (3 device tokens" in result.output
    result = runner.invoke(export_results, [played.slug, "--lang", "en", "-o", str(out)])
    rows = parse(out.read_bytes())
    assert [r[1] for r in rows[1:]] == [
        f"Team no. {played.teams[n]} (anonymised)" for n in (ZEBRAS, FUCHS, OTTER)
    ]
    assert [r[5] for r in rows[1:]] == ["3", "2", "0"]
    result = runner.invoke(export_results, [played.slug, "--timezone", "Mars", "-o", str(out)])
    assert result.exit_code == 1 and "Unknown time zone 'Mars'" in result.output
    result = runner.invoke(close_rally, ["nope"])
    assert result.exit_code == 1 and "no rally 'nope'" in result.output


def test_printable_summary(app, client, played):
    with app.app_context():
        db.session.add(
            models.Team(
                rally_id=played.rally_id, name="<script>alert(1)</script>", join_code="XSS00001"
            )
        )
        db.session.commit()
    url = f"/organiser/{played.slug}/results"
    assert client.get(url).status_code == 302
    login(client, app)
    resp = client.get(url + "?lang=en")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "organiser/organiser.css" in page and "@media print" in client.get(
        "/static/organiser/organiser.css"
    ).get_data(as_text=True)
    assert ZEBRAS in page and "Otter „Straße“ – 3" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "Leaderboard" in page and "Finds per stop" in page
    assert "GPS 4, QR code 1" in page and "teleport 1" in page
    assert page.index(ZEBRAS) < page.index("Otter")
    german = client.get(url + "?lang=de").get_data(as_text=True)
    assert "Rangliste" in german and "Funde je Station" in german


def test_printable_summary_shows_tasks_and_hints(app, client, played):
    play_tasks(client, played)
    login(client, app)
    page = html.unescape(client.get(f"/organiser/{played.slug}/results?lang=en").get_data(True))
    board = page[page.index('id="summary-leaderboard"') : page.index('id="summary-stops"')]
    assert "33 pts · 1 of 1 solved" in board and "2 (−30 pts)" in board
    assert "0 pts · 0 of 1 solved" in board and board.count("1 (−10 pts)") == 2
    stops = page[page.index('id="summary-stops"') :]
    first = stops[stops.index('<tr><td class="num">1</td>') :].split("</tr>", 1)[0]
    assert first.endswith('<td class="num">1</td>\n          <td class="num">3</td>'), first
    second = stops[stops.index('<tr><td class="num">2</td>') :].split("</tr>", 1)[0]
    assert second.count("–") == 2, second  # no task, no hints at stop 2
    counts = page[page.index('id="summary-counts"') :].split("</dl>", 1)[0]
    assert (
        "<dt>tasks solved</dt><dd>1</dd>" in counts and "<dt>hints taken</dt><dd>4</dd>" in counts
    )
    german = html.unescape(client.get(f"/organiser/{played.slug}/results?lang=de").get_data(True))
    assert "33 Pkt. · 1 von 1 gelöst" in german and "Hinweise genommen" in german


@pytest.mark.parametrize(
    ("started", "finished", "cells"),
    [
        (  # winter: CET, UTC+1
            datetime(2026, 1, 15, 18, 0, tzinfo=UTC),
            datetime(2026, 1, 15, 19, 30, 5, tzinfo=UTC),
            ("2026-01-15T19:00:00+01:00", "2026-01-15T20:30:05+01:00"),
        ),
        (  # summer: CEST, UTC+2
            datetime(2026, 7, 1, 22, 30, tzinfo=UTC),
            datetime(2026, 7, 1, 23, 15, tzinfo=UTC),
            ("2026-07-02T00:30:00+02:00", "2026-07-02T01:15:00+02:00"),
        ),
        (  # across the change back to winter time on 25 October 2026, 03:00 CEST → 02:00 CET
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
            datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
            ("2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"),
        ),
    ],
)
def test_csv_times_are_in_the_event_zone_with_summer_time(app, demo, started, finished, cells):
    _slug, rally_id = demo
    with app.app_context():
        db.session.add(
            models.Team(
                rally_id=rally_id,
                name="Nachtfalter",
                join_code="DST00001",
                started_at=started,
                finished_at=finished,
            )
        )
        db.session.commit()
    rows = parse(csv_of(app, rally_id, "de"))
    assert rows[0][2:4] == ["Start (Europe/Berlin)", "Ziel (Europe/Berlin)"]
    assert tuple(rows[1][2:4]) == cells
    assert rows[1][4] == duration_text((finished - started).total_seconds())


def test_csv_follows_the_event_time_zone_setting(make_app, demo):
    _slug, rally_id = demo
    app = make_app(EVENT_TIMEZONE="America/New_York")
    with app.app_context():
        db.session.add(
            models.Team(
                rally_id=rally_id,
                name="Owls",
                join_code="NYC00001",
                started_at=datetime(2026, 11, 29, 18, 5, tzinfo=UTC),
            )
        )
        db.session.commit()
    rows = parse(csv_of(app, rally_id, "en"))
    assert rows[0][2] == "Started (America/New_York)"
    assert rows[1][2] == "2026-11-29T13:05:00-05:00"


def test_summary_times_and_durations_in_the_readers_language(app, client, played):
    import re

    login(client, app)
    finish(app, client, played)
    german = client.get(f"/organiser/{played.slug}/results?lang=de").get_data(as_text=True)
    assert re.search(r"Stand \d\d\.\d\d\.\d{4}, \d\d:\d\d", german)
    assert "UTC" not in german
    started, finished = team_times(app, played.teams[ZEBRAS])
    from server.formats import duration

    took = duration((finished - started).total_seconds(), "de")
    assert f"<td>{took}</td>" in german
    english = client.get(f"/organiser/{played.slug}/results?lang=en").get_data(as_text=True)
    assert duration((finished - started).total_seconds(), "en") in english
    rally_page = client.get(f"/organiser/{played.slug}?lang=de").get_data(as_text=True)
    assert "UTC" not in rally_page
