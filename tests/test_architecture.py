"""The house rules of DESIGN.md, checked on the source: who may import what, and ruff."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("markers", "routes", "server", "client")


def imported_modules(package: str) -> dict[Path, set[str]]:
    """Top-level names each module of package imports (absolute imports only)."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[path] = names
    return found


@pytest.mark.parametrize("package", ["markers", "routes"])
def test_domain_imports_neither_flask_nor_kivy(package):
    for path, names in imported_modules(package).items():
        bad = names & {"flask", "flask_sqlalchemy", "kivy", "kivy_garden", "server", "client"}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize(("package", "other"), [("server", "client"), ("client", "server")])
def test_server_and_client_never_import_each_other(package, other):
    for path, names in imported_modules(package).items():
        assert other not in names, f"{path.relative_to(ROOT)} imports {other}"


PHONE_CHECK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"shapely", "pyproj", "numpy", "flask", "sqlalchemy"}:
            raise ImportError(f"{name} is not on the phone")
sys.meta_path.insert(0, Block())
import markers.geo, markers.geofence, markers.tokens, markers.index, markers.qr
import routes.model, routes.rules, routes.geometry, routes.validate, routes.order
import routes.gpx, routes.geojson, routes.rallyfile
from markers.geo import LatLon
index = markers.index.MarkerIndex({1: LatLon(49.4459, 7.7683), 2: LatLon(49.4457, 7.7704)})
assert [i for i, _ in index.nearest(LatLon(49.4458, 7.7690), 2)] == [1, 2]
rally = routes.rallyfile.demo_rally()
assert not routes.validate.has_errors(routes.validate.validate(rally))
print("ok")
"""


def test_what_the_phone_uses_runs_without_shapely_pyproj_numpy():
    result = subprocess.run(
        [sys.executable, "-c", PHONE_CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is part of the dev extra"
    result = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:]
