"""What buildozer.spec's requirements resolve to: python-for-android recipes or pure-Python wheels.

Two checked-in lists beside this file say it, so that tests/client/test_android_build.py can check
the spec without a network:

- p4a-recipes.txt: the recipes of the pinned python-for-android (folder name and version),
  written by `python p4a_requirements.py recipes P4A_CLONE REF`;
- pure-python.lock: the pure-Python wheels pip picks for the other requirements and everything
  they need (name==version, the wheel's file name, what it requires), for the Python version the
  pinned python-for-android builds; written by `python p4a_requirements.py lock` (needs PyPI).

Not packed into the APK (client/android is left out by the spec).
"""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE / "buildozer.spec"
RECIPES = HERE / "p4a-recipes.txt"
LOCK = HERE / "pure-python.lock"

# Wheels that run on any CPU and any Python 3: what p4a installs with pip into the APK.
PURE_TAGS = ("py3-none-any", "py2.py3-none-any")


def normalize(name: str) -> str:
    """PEP 503: Kivy_Garden.mapview and kivy-garden-mapview are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_spec(path: Path = SPEC) -> configparser.ConfigParser:
    spec = configparser.ConfigParser(interpolation=None)
    spec.optionxform = str  # type: ignore[assignment,method-assign]
    spec.read(path, encoding="utf-8")
    return spec


def spec_requirements(path: Path = SPEC) -> list[tuple[str, str | None]]:
    """The spec's requirements as (name, pinned version or None)."""
    out = []
    for item in read_spec(path)["app"]["requirements"].split(","):
        item = item.strip()
        if not item:
            continue
        name, _, version = item.partition("==")
        out.append((name.strip(), version.strip() or None))
    return out


def _lines(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    return [line.split() for line in text.splitlines() if line.strip() and line[0] != "#"]


def read_recipes(path: Path = RECIPES) -> dict[str, str | None]:
    """Recipe name (lower case: p4a matches names case-insensitively) -> its version."""
    return {f[0].lower(): (None if f[1] == "-" else f[1]) for f in _lines(path)}


def pinned_commit(path: Path = RECIPES) -> str:
    m = re.search(r"\(commit ([0-9a-f]{40})\)", path.read_text(encoding="utf-8"))
    if m is None:
        raise ValueError(f"{path} names no commit")
    return m.group(1)


def read_lock(path: Path = LOCK) -> dict[str, tuple[str, str, list[str]]]:
    """Normalized name -> (version, wheel file name, normalized names it requires)."""
    out = {}
    for fields in _lines(path):
        name, _, version = fields[0].partition("==")
        requires = [normalize(r) for r in fields[2].split(",") if r] if len(fields) > 2 else []
        out[normalize(name)] = (version, fields[1], requires)
    return out


def lock_python_version(path: Path = LOCK) -> str:
    m = re.search(r"^# python (\d+\.\d+)", path.read_text(encoding="utf-8"), re.M)
    if m is None:
        raise ValueError(f"{path} names no Python version")
    return m.group(1)


# --- regenerating the lists (by hand, when the pin or the requirements change) -----------------


def write_recipes(clone: Path, ref: str) -> None:
    """List pythonforandroid/recipes/ of a python-for-android clone at ref into p4a-recipes.txt."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(clone), *args], check=True, capture_output=True, text=True
        ).stdout

    commit = git("rev-parse", f"{ref}^{{commit}}").strip()
    rows = []
    for name in git("ls-tree", "--name-only", f"{commit}:pythonforandroid/recipes/").split():
        try:
            source = git("show", f"{commit}:pythonforandroid/recipes/{name}/__init__.py")
        except subprocess.CalledProcessError:
            continue  # not a recipe (the package's own __init__.py)
        m = re.search(r"^    version = ['\"]([^'\"]+)['\"]", source, re.M)
        rows.append(f"{name} {m.group(1) if m else '-'}")
    RECIPES.write_text(
        f"# python-for-android's recipes at {ref} (commit {commit}), the version\n"
        "# buildozer.spec pins (p4a.commit): the folder name under pythonforandroid/recipes/ and\n"
        "# the version the recipe builds ('-': none given, or computed).\n"
        "# Written by `python client/android/p4a_requirements.py recipes P4A_CLONE REF`.\n"
        + "\n".join(rows)
        + "\n",
        encoding="utf-8",
    )


def write_lock() -> None:
    """pip download the spec's non-recipe requirements (with what they need) as wheels that run
    on any platform, for the Python the pinned p4a builds, and list them in pure-python.lock."""
    recipes = read_recipes()
    python = ".".join((recipes["python3"] or "").split(".")[:2])
    wanted = [
        f"{name}=={version}" if version else name
        for name, version in spec_requirements()
        if name.lower() not in recipes
    ]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet", "--dest", tmp),
                *("--only-binary=:all:", "--platform", "any", "--implementation", "py"),
                *("--abi", "none", "--python-version", python, *wanted),
            ],
            check=True,
        )
        rows = []
        for wheel in sorted(Path(tmp).glob("*.whl")):
            with zipfile.ZipFile(wheel) as zf:
                meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
                meta = Parser().parsestr(zf.read(meta_name).decode("utf-8"))
            requires = sorted(
                normalize(re.split(r"[\s;<>=!~(\[]", r, maxsplit=1)[0])
                for r in meta.get_all("Requires-Dist") or []
                if "extra ==" not in r and 'sys_platform == "win32"' not in r
            )
            row = f"{meta['Name']}=={meta['Version']} {wheel.name} {','.join(requires)}"
            rows.append(row.rstrip())
    LOCK.write_text(
        f"# python {python}: the pure-Python wheels p4a installs with pip for buildozer.spec's\n"
        "# requirements that have no recipe, and what they need: name==version, the wheel pip\n"
        "# chose (its tags say any CPU, any Python 3), what it requires (without extras).\n"
        "# Written by `python client/android/p4a_requirements.py lock`.\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["recipes"] and len(sys.argv) == 4:
        write_recipes(Path(sys.argv[2]), sys.argv[3])
    elif sys.argv[1:] == ["lock"]:
        write_lock()
    else:
        sys.exit(__doc__)
