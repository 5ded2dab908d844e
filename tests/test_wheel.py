"""The project as a deployment installs it: a wheel (not editable) in a fresh virtual environment
migrates, seeds, exports and serves, and the phone app starts, with the checkout out of reach."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

DEMO_SLUG = "art-caching-kaiserslautern"
PACKAGES = ("assets", "client", "markers", "routes", "server")
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "instance",
    "artifacts",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".buildozer",
    "bin",
    "docs",
    "bench",
)
LISTENING = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")


@dataclass(frozen=True)
class Installed:
    """A venv holding only the project's wheel; its dependencies come from the test's venv."""

    venv: Path
    site_packages: Path
    build_log: str
    env: dict[str, str]
    home: Path

    def run(self, *args: str | Path, timeout_s: float = 120) -> subprocess.CompletedProcess:
        """Run a command of the venv's bin/ with cwd outside the checkout."""
        result = subprocess.run(
            [self.venv / "bin" / args[0], *args[1:]],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
        return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    """Build the wheel from a copy of the source, install it into a new venv without its
    dependencies, and let that venv find them in this one through a plain path in a .pth file."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    build_env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    }
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--verbose",
            "--wheel-dir",
            tmp / "dist",
            source,
        ],
        env=build_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    [wheel] = (tmp / "dist").glob("art_caching-*.whl")

    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            wheel,
        ],
        env=build_env,
        check=True,
        timeout=300,
    )
    site_packages = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site_packages / "dependencies-from-the-test-venv.pth").write_text("\n".join(ours) + "\n")

    home = tmp / "home"
    home.mkdir()
    env = {k: v for k, v in build_env.items() if not k.startswith(("FLASK_", "KIVY_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{home / 'artcaching.sqlite3'}",
        KIVY_HOME=str(home / "kivy"),
        KIVY_NO_ARGS="1",
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    return Installed(venv, site_packages, build.stdout + build.stderr, env, home)


def test_the_build_prints_no_setuptools_warnings(installed):
    backend = [line for line in installed.build_log.splitlines() if line.startswith(" ")]
    assert any("bdist_wheel" in line for line in backend), "pip --verbose shows the backend"
    warnings = [line.strip() for line in backend if re.search("warn|would be ignored", line, re.I)]
    assert not warnings, "\n".join(warnings)


def test_the_venv_imports_the_installed_packages_not_the_checkout(installed):
    probe = installed.run(
        "python",
        "-c",
        f"""
import importlib, json, sys
modules = {{name: importlib.import_module(name).__file__ for name in {PACKAGES!r}}}
print(json.dumps({{"files": modules, "path": sys.path, "loaded": sorted(sys.modules),
                  "finders": [getattr(f, "__module__", "") for f in sys.meta_path]}}))
""",
    )
    seen = json.loads(probe.stdout)
    for name, file in seen["files"].items():
        assert Path(file).is_relative_to(installed.site_packages), (name, file)
    assert not [
        p
        for p in seen["path"]
        if p
        and Path(p).resolve().is_relative_to(ROOT)
        and not Path(p).resolve().is_relative_to(ROOT / ".venv")
    ]
    editable = [m for m in seen["loaded"] + seen["finders"] if "__editable__" in m]
    assert not editable, "the checkout's editable finder must stay inactive"


def test_artcaching_migrates_seeds_exports_and_serves(installed):
    installed.run("artcaching", "db", "upgrade")
    assert DEMO_SLUG in installed.run("artcaching", "seed-demo").stdout
    pdf = installed.home / "qr.pdf"
    installed.run("artcaching", "export-qr", DEMO_SLUG, "--format", "pdf", "-o", pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert b"DejaVuSans" in pdf.read_bytes()

    log = installed.home / "server.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [installed.venv / "bin" / "artcaching", "run", "--port", "0"],
            cwd=installed.home,
            env=installed.env,
            stdout=sink,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 60
        while not (found := LISTENING.search(log.read_text())):
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        base = found.group(1)
        with urllib.request.urlopen(f"{base}/api/v1/rallies", timeout=20) as response:
            assert response.status == 200
            rallies = json.loads(response.read())
        assert DEMO_SLUG in json.dumps(rallies)
        request = urllib.request.Request(
            f"{base}/play/{DEMO_SLUG}", headers={"Accept-Language": "de"}
        )
        with urllib.request.urlopen(request, timeout=20) as response:
            assert response.status == 200
            page = response.read().decode()
        assert "Kaiserslautern" in page
        with urllib.request.urlopen(f"{base}/static/site.css", timeout=20) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_artcaching_client_starts_with_its_texts_and_layouts(installed):
    assert "--simulate-gpx" in installed.run("artcaching-client", "--help").stdout
    probe = installed.run(
        "python",
        "-c",
        """
import json
from kivy.lang import Builder
import client.app
from client import i18n
from client.screens import SCREENS, load_layouts
Builder.load_file(str(client.app.HERE / "app.kv"))
load_layouts()
print(json.dumps({"texts": len(i18n.catalogue()), "screens": list(SCREENS), "kv": Builder.files}))
""",
    )
    seen = json.loads(probe.stdout.splitlines()[-1])
    assert seen["texts"] > 10
    here = installed.site_packages / "client"
    expected = {here / "app.kv", *(here / "screens" / f"{n}.kv" for n in seen["screens"])}
    assert expected <= {Path(f) for f in seen["kv"]}
