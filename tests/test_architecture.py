"""The house rules of docs/architecture.md, checked on the source: who may import what, no import
cycles, what the phone runs without shapely, pyproj or NumPy, and ruff."""

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


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff_is_clean(command):
    """ruff's lints find nothing, and the code is as ruff format writes it."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is part of the dev extra"
    result = subprocess.run(
        [ruff, *command, "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:]


def module_name(path: Path) -> str:
    """server/api/errors.py -> server.api.errors; a package's __init__.py is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: str) -> dict[str, set[str]]:
    """Which modules of package each module imports, at module level or inside functions.

    ``from pkg import name`` counts as importing pkg.name when that is a module, else pkg.
    Importing a module runs its packages' __init__ first, so those count too, except the
    importer's own packages (they are being imported already).
    """
    paths = {
        module_name(p): p
        for p in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in p.parts
    }
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = alias.name
                    while target and target not in paths:
                        target = target.rpartition(".")[0]
                    if target:
                        targets.add(target)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([node.module] if node.module else [])])
                for alias in node.names:
                    if f"{base}.{alias.name}" in paths:
                        targets.add(f"{base}.{alias.name}")
                    elif base in paths:
                        targets.add(base)
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)}
        for target in list(targets):
            parts = target.split(".")
            targets |= {".".join(parts[:i]) for i in range(1, len(parts))} - own
        graph[name] = {t for t in targets if t in paths and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_sees_a_cycle_through_a_package_init():
    graph = {
        "s": set(),
        "s.api": {"s.api.player"},
        "s.api.player": {"s.teams"},
        "s.teams": {"s.api"},
    }
    assert find_cycle(graph) == ["s.api", "s.api.player", "s.teams", "s.api"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_import_graph_sees_function_level_and_package_imports():
    graph = import_graph("server")
    assert "server.models" in graph["server.teams"]
    assert "server.api.openapi" in graph["server.api.validation"]
    assert "server.exports.pdf" in graph["server.exports"]
    assert "server.curator" in graph["server.api.curator"]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package):
    cycle = find_cycle(import_graph(package))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_mypy_is_clean_on_the_domain_and_the_client_core():
    """The files setup.cfg's [mypy] section names: markers/, routes/ and the Kivy-free client."""
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent)) or shutil.which("mypy")
    assert mypy, "mypy is part of the dev extra"
    result = subprocess.run(
        [mypy, "--no-incremental"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:]
    checked = int(result.stdout.rsplit(" in ", 1)[1].split()[0])
    assert checked >= 30, f"mypy checked only {checked} files: {result.stdout}"
