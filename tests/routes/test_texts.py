"""The domain's texts: every key routes/ names is in routes/translations.json, and an error's
values fill exactly the placeholders of its text."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from markers.i18n import placeholders
from routes.errors import InterchangeError
from routes.model import ROUTES_TEXTS
from tests.conftest import ROOT

SOURCES = sorted((ROOT / "routes").glob("*.py"))
KEY = re.compile(r"(?:interchange|gpx|geojson|validate)\.[a-z0-9_.]*[a-z0-9_]")
WHERE = {"line", "feature", "position", "hint"}
"""The keywords of InterchangeError that say where, not what."""


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _error_calls(path: Path) -> list[tuple[str, set[str]]]:
    """(key, value names) of every SomethingError("key", ...) or error("key", ...) call."""
    calls = []
    for node in ast.walk(_tree(path)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and (node.func.id.endswith("Error") or node.func.id == "error")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and KEY.fullmatch(str(node.args[0].value))
            and all(k.arg for k in node.keywords)
        ):
            names = {k.arg for k in node.keywords if k.arg} - WHERE
            calls.append((node.args[0].value, names))
    return calls


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_key_routes_names_is_in_its_catalogue(path: Path):
    keys = {
        n.value
        for n in ast.walk(_tree(path))
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and KEY.fullmatch(n.value)
    }
    assert not keys - set(ROUTES_TEXTS.entries()), path.name


ERROR_SOURCES = [p for p in SOURCES if _error_calls(p)]


@pytest.mark.parametrize("path", ERROR_SOURCES, ids=lambda p: p.name)
def test_an_error_gives_exactly_the_values_its_text_needs(path: Path):
    for key, names in _error_calls(path):
        for lang, template in ROUTES_TEXTS.text(key).items():
            assert placeholders(template) == names, f"{path.name}: {key} ({lang})"


def test_the_scans_see_the_errors():
    assert {p.name for p in ERROR_SOURCES} == {"gpx.py", "geojson.py", "errors.py"}
    assert ("gpx.root_not_gpx", {"tag"}) in _error_calls(ROOT / "routes" / "gpx.py")


def test_an_error_keeps_its_key_and_values_and_speaks_each_language():
    e = InterchangeError(
        "interchange.out_of_range",
        feature=2,
        position=1,
        hint="geojson.lon_lat",
        axis=ROUTES_TEXTS.text_map("interchange.latitude"),
        value="91",
        limit=90,
    )
    assert (e.key, e.values["value"], e.feature, e.position) == (
        "interchange.out_of_range",
        "91",
        2,
        1,
    )
    assert str(e) == (
        "feature 2: position 1: latitude 91 out of range (-90..90); "
        "GeoJSON positions are [longitude, latitude]"
    )
    assert e.message("de") == (
        "Feature 2: Position 1: Breitengrad 91 liegt außerhalb von "
        "-90..90; GeoJSON-Positionen sind [Längengrad, Breitengrad]"
    )
    assert e.what["en"].startswith("position 1: latitude")
    assert e.text["de"] == e.message("de")
