"""The Android build as far as this machine can check it (no SDK, NDK or network): every
requirement of buildozer.spec resolves to a recipe of the pinned python-for-android or to a
pinned pure-Python wheel; target API, artefacts, icon, permissions; the default server."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
ANDROID = ROOT / "client" / "android"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"android_{name}", ANDROID / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


req = _load("p4a_requirements")
build_config = _load("build_config")


def unresolved(requirements, recipes, lock):
    """The requirements that are neither a recipe (at its version) nor a locked pure wheel."""
    bad = []
    for name, version in requirements:
        if name.lower() in recipes:
            if version is not None and version != recipes[name.lower()]:
                bad.append(f"{name}=={version}: the recipe builds {recipes[name.lower()]}")
            continue
        locked = lock.get(req.normalize(name))
        if locked is None:
            bad.append(f"{name}: no p4a recipe and not in pure-python.lock")
        elif not locked[1].endswith(tuple(f"-{tag}.whl" for tag in req.PURE_TAGS)):
            bad.append(f"{name}: {locked[1]} is not a pure-Python wheel")
        elif version != locked[0]:
            bad.append(f"{name}: pin {version} in the spec, {locked[0]} in the lock")
    return bad


def test_every_requirement_is_a_recipe_or_a_pure_python_wheel():
    recipes, lock = req.read_recipes(), req.read_lock()
    requirements = req.spec_requirements()
    assert [n for n, _ in requirements][:1] == ["python3"]
    assert unresolved(requirements, recipes, lock) == []
    # and everything a locked wheel needs is there too (p4a would pip install it as well)
    for name, (_, wheel, requires) in lock.items():
        assert wheel.endswith(tuple(f"-{tag}.whl" for tag in req.PURE_TAGS)), name
        for dep in requires:
            assert dep in lock or dep in recipes, f"{name} needs {dep}: neither locked nor a recipe"
    # nothing locked that the spec does not list (the spec pins every wheel that goes in)
    listed = {req.normalize(n) for n, _ in requirements}
    assert set(lock) <= listed


def test_the_check_fails_for_what_p4a_cannot_build():
    """numpy has a recipe, zxing-cpp has none and only platform wheels, kivy at another version
    than the recipe's; a pure package without a pin: all refused."""
    recipes, lock = req.read_recipes(), req.read_lock()
    assert unresolved([("zxing-cpp", None)], recipes, lock) == [
        "zxing-cpp: no p4a recipe and not in pure-python.lock"
    ]
    assert unresolved([("kivy", "2.2.0")], recipes, lock)
    assert unresolved([("qrcode", None)], recipes, lock)
    assert unresolved([("Kivy_Garden.Mapview", "1.0.6"), ("PILLOW", None)], recipes, lock) == []
    fake = {**lock, "mypyc-thing": ("1.0", "mypyc_thing-1.0-cp314-cp314-linux_x86_64.whl", [])}
    assert unresolved([("mypyc-thing", "1.0")], recipes, fake)


def test_python_for_android_is_pinned_to_the_listed_recipes():
    app = req.read_spec()["app"]
    assert app["p4a.commit"] == req.pinned_commit()
    assert "v2026.05.09" in req.RECIPES.read_text(encoding="utf-8").splitlines()[0]
    # the lock was made for the Python that this p4a builds
    python3 = req.read_recipes()["python3"]
    assert python3 is not None and python3.startswith(req.lock_python_version() + ".")


def test_target_api_artefacts_and_permissions():
    app = req.read_spec()["app"]
    assert int(app["android.api"]) >= 36, "Google Play: API 36 for new apps and updates"
    assert int(app["android.minapi"]) == int(app["android.ndk_api"]) == 24
    assert app["android.release_artifact"] == "aab"
    assert app["android.debug_artifact"] == "apk"
    permissions = {p.strip() for p in app["android.permissions"].split(",")}
    assert {"CAMERA", "ACCESS_FINE_LOCATION", "ACCESS_COARSE_LOCATION", "INTERNET"} <= permissions
    orientations = {o.strip() for o in app["orientation"].split(",")}
    assert {"portrait", "landscape"} <= orientations or "all" in orientations
    assert "json" in app["source.include_exts"].split(","), "client/build_config.json goes in"


@pytest.mark.parametrize(("key", "size"), [("icon.filename", 512), ("presplash.filename", 512)])
def test_icon_and_presplash_are_small_pngs(key, size):
    path = ANDROID / req.read_spec()["app"][key]
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.size == (size, size)
    assert path.stat().st_size < 50_000


def test_default_server_is_written_at_build_time(tmp_path):
    (tmp_path / "client").mkdir()
    written = build_config.write(tmp_path, " https://events.example.org/ ")
    assert json.loads(written.read_text()) == {"default_server": "https://events.example.org"}
    assert build_config.write(tmp_path, "") is None
    assert not written.exists(), "no server: no file (a stale one is removed)"
    for bad in ("events.example.org", "ftp://x.org", "https://", "https://x.org/?a=1", "x'y"):
        with pytest.raises(ValueError):
            build_config.write(tmp_path, bad)


def test_make_android_src_writes_the_build_config(tmp_path):
    dest = tmp_path / "src"
    args = ["make", "-s", "android-src", f"ANDROID_SRC={dest}", f"PYTHON={sys.executable}"]
    env_server = "ARTCACHING_DEFAULT_SERVER=https://rally.example.org"
    subprocess.run([*args, env_server], cwd=ROOT, check=True, capture_output=True)
    assert (dest / "main.py").exists() and (dest / "client" / "cli.py").exists()
    config = json.loads((dest / "client" / "build_config.json").read_text())
    assert config == {"default_server": "https://rally.example.org"}
    bad = subprocess.run(
        [*args, "ARTCACHING_DEFAULT_SERVER=rally.example.org"], cwd=ROOT, capture_output=True
    )
    assert bad.returncode != 0 and b"http(s)://host" in bad.stderr
