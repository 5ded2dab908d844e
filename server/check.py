"""The self-check before the doors open (`artcaching check`): the address phones will use, the
database, the signing keys, the tile package, the clock, disk space, the Wi-Fi and the secret
key, each as findings of OK, WARN or FAIL in the organiser's language."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select, text

from markers import tiles as tilemath
from markers.tokens import KeyStatus
from server import address, formats, models, wifi
from server.extensions import db, migrations
from server.i18n import t

OK, WARN, FAIL = "OK", "WARN", "FAIL"
DISK_WARN_BYTES = 1_000_000_000
DISK_FAIL_BYTES = 100_000_000
NTP_COMMAND = ("timedatectl", "show", "-p", "NTPSynchronized", "--value")
SECRET_KEY_MIN_CHARS = 32


@dataclass(frozen=True)
class Finding:
    """One line of the check: its status, what was checked (a key of box.check.name) and why."""

    status: str
    name: str
    message: str


def _mb(size: float, lang: str) -> str:
    """A size in MB, or GB from 1 GB on."""
    if size >= 1_000_000_000:
        return f"{formats.number(size / 1_000_000_000, lang, 1)} GB"
    return f"{formats.number(size / 1_000_000, lang, 1)} MB"


def check_address(lang: str) -> Iterator[Finding]:
    """The address on every printed code: phones must reach it."""
    url = current_app.config["PUBLIC_BASE_URL"]
    source = current_app.config.get("PUBLIC_BASE_URL_SOURCE", "settings")
    problems = address.problems(url)
    for code in problems:
        status = WARN if code == "not_https" else FAIL
        yield Finding(status, "address", t(f"organiser.address.{code}", lang, url=url))
    if not problems:
        where = t(f"organiser.address.source.{source}", lang)
        yield Finding(OK, "address", t("box.check.address_ok", lang, url=url, source=where))


def check_database(lang: str) -> Iterator[Finding]:
    """The database answers and its schema is at the newest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate

    kind = db.engine.url.get_backend_name()
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_heads()
    except Exception as exc:  # any driver error is the finding
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        yield Finding(FAIL, "database", t("box.check.database_down", lang, reason=reason))
        return
    migrations(current_app)
    migrate: Migrate = current_app.extensions["migrate"]
    heads = ScriptDirectory.from_config(migrate.migrate.get_config()).get_heads()
    if set(current) != set(heads):
        yield Finding(
            FAIL,
            "database",
            t(
                "box.check.database_behind",
                lang,
                current=", ".join(current) or "-",
                head=", ".join(heads),
            ),
        )
        return
    yield Finding(OK, "database", t("box.check.database_ok", lang, kind=kind, head=heads[0]))


def check_keys(lang: str) -> Iterator[Finding]:
    """The QR signing keys: an active one signs new codes."""
    rows = db.session.scalars(select(models.SigningKey)).all()
    active = [k.id for k in rows if k.status == KeyStatus.ACTIVE]
    if not rows:
        yield Finding(WARN, "keys", t("box.check.keys_none", lang))
    elif not active:
        yield Finding(FAIL, "keys", t("box.check.keys_no_active", lang))
    else:
        yield Finding(OK, "keys", t("box.check.keys_ok", lang, id=active[0], count=len(rows)))


def check_tiles(lang: str, rallies: Iterable[models.Rally]) -> Iterator[Finding]:
    """The tile package: there, readable, and holding every tile of each rally's play area at
    the package's zooms."""
    from server.mbtiles import MBTiles, PackageError
    from server.tiles import play_box

    setting = current_app.config.get("TILES_FILE")
    if not setting or not Path(setting).is_file():
        yield Finding(WARN, "tiles", t("box.check.tiles_none", lang, path=setting or "TILES_FILE"))
        return
    try:
        package = MBTiles(setting)
        held = package.keys()
    except PackageError as exc:
        yield Finding(FAIL, "tiles", t("box.check.tiles_broken", lang, reason=str(exc)))
        return
    info = package.package
    yield Finding(
        OK,
        "tiles",
        t(
            "box.check.tiles_ok",
            lang,
            name=info.name,
            path=setting,
            tiles=formats.number(len(held), lang),
            zooms=f"{info.minzoom}-{info.maxzoom}",
            size=_mb(Path(setting).stat().st_size, lang),
        ),
    )
    for row in rallies:
        box = play_box(row)
        if box is None:
            yield Finding(WARN, "tiles", t("box.check.tiles_no_place", lang, slug=row.slug))
            continue
        needed = list(tilemath.covering(box, info.zooms))
        missing = [k for k in needed if k not in held]
        values = {"slug": row.slug, "zooms": f"{info.minzoom}-{info.maxzoom}"}
        if missing:
            yield Finding(
                WARN,
                "tiles",
                t(
                    "box.check.tiles_missing",
                    lang,
                    missing=formats.number(len(missing), lang),
                    needed=formats.number(len(needed), lang),
                    **values,
                ),
            )
        else:
            count = formats.number(len(needed), lang)
            yield Finding(OK, "tiles", t("box.check.tiles_cover", lang, count=count, **values))


def ntp_synchronised() -> bool | None:
    """Whether the system clock is synchronised by NTP (timedatectl), None when unknown."""
    if shutil.which(NTP_COMMAND[0]) is None:
        return None
    try:
        done = subprocess.run(NTP_COMMAND, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    answer = done.stdout.strip().lower()
    if done.returncode != 0 or answer not in ("yes", "no"):
        return None
    return answer == "yes"


def check_clock(lang: str, now: datetime | None = None) -> Iterator[Finding]:
    """The system time in UTC and the event's zone, and whether NTP keeps it right."""
    now = now or datetime.now(UTC)
    zone = current_app.config.get("EVENT_TIMEZONE") or formats.DEFAULT_TIMEZONE
    shown = t(
        "box.check.clock_now",
        lang,
        utc=f"{now:%Y-%m-%d %H:%M:%S} UTC",
        local=formats.when(now, lang, seconds=True),
        zone=zone,
    )
    synced = ntp_synchronised()
    if synced:
        yield Finding(OK, "clock", f"{shown}; {t('box.check.clock_ntp_yes', lang)}")
    elif synced is None:
        yield Finding(WARN, "clock", f"{shown}; {t('box.check.clock_ntp_unknown', lang)}")
    else:
        yield Finding(WARN, "clock", f"{shown}; {t('box.check.clock_ntp_no', lang)}")


def free_bytes(path: Path) -> int:
    """Free space for an unprivileged user on the file system holding path (or its nearest
    existing parent)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def check_disk(lang: str) -> Iterator[Finding]:
    """Free space where the database file, the media and the tile package live."""
    folders = {
        "instance": Path(current_app.instance_path),
        "media": Path(current_app.config["MEDIA_DIR"]),
    }
    for what, path in folders.items():
        free = free_bytes(path)
        status = FAIL if free < DISK_FAIL_BYTES else WARN if free < DISK_WARN_BYTES else OK
        key = "box.check.disk_ok" if status == OK else "box.check.disk_low"
        where = t(f"box.check.folder_{what}", lang)
        yield Finding(status, "disk", t(key, lang, where=where, path=path, free=_mb(free, lang)))


def check_wifi(lang: str) -> Iterator[Finding]:
    """The Wi-Fi the start poster prints: set, and joinable by its code."""
    network = wifi.from_settings(current_app.config)
    if network is None:
        yield Finding(WARN, "wifi", t("box.check.wifi_none", lang))
        return
    problems = network.problems()
    for code in problems:
        status = WARN if code == "password_unused" else FAIL
        yield Finding(status, "wifi", t(f"box.wifi.problem.{code}", lang, ssid=network.ssid))
    hidden = f", {t('box.check.wifi_hidden', lang)}" if network.hidden else ""
    yield Finding(
        OK,
        "wifi",
        t(
            "box.check.wifi_ok",
            lang,
            ssid=wifi.printable(network.ssid),
            security=network.security + hidden,
        ),
    )


def check_secret_key(lang: str) -> Iterator[Finding]:
    """SECRET_KEY: from the environment or the instance folder; long enough; one for all
    machines when several share a PostgreSQL database."""
    key = current_app.config["SECRET_KEY"]
    path = Path(current_app.instance_path) / "secret_key"
    if os.environ.get("SECRET_KEY"):
        yield Finding(OK, "secret_key", t("box.check.secret_env", lang))
    elif path.is_file() and path.read_text().strip() == key:
        if db.engine.url.get_backend_name() == "postgresql":
            yield Finding(WARN, "secret_key", t("box.check.secret_shared", lang, path=path))
        else:
            yield Finding(OK, "secret_key", t("box.check.secret_instance", lang, path=path))
    else:
        yield Finding(OK, "secret_key", t("box.check.secret_settings", lang))
    if len(key) < SECRET_KEY_MIN_CHARS:
        yield Finding(
            WARN, "secret_key", t("box.check.secret_short", lang, chars=SECRET_KEY_MIN_CHARS)
        )


def run(lang: str, rallies: Iterable[models.Rally] | None = None) -> list[Finding]:
    """Every check in turn; the published rallies (or the given ones) for the tile coverage. A
    check that cannot run (the database down) is one FAIL, and the others still run."""
    findings = list(check_address(lang))
    database = list(check_database(lang))
    findings += database
    db_up = not any(f.status == FAIL for f in database)

    def published() -> list[models.Rally]:
        query = select(models.Rally).filter_by(status=models.RallyStatus.PUBLISHED)
        return list(db.session.scalars(query.order_by(models.Rally.slug)))

    steps: list[tuple[str, Callable[[], Iterable[Finding]]]] = [
        ("keys", lambda: check_keys(lang) if db_up else _needs_database("keys", lang)),
        (
            "tiles",
            lambda: (
                check_tiles(lang, rallies if rallies is not None else published())
                if db_up
                else _needs_database("tiles", lang)
            ),
        ),
        ("clock", lambda: check_clock(lang)),
        ("disk", lambda: check_disk(lang)),
        ("wifi", lambda: check_wifi(lang)),
        ("secret_key", lambda: check_secret_key(lang)),
    ]
    for name, step in steps:
        try:
            findings += list(step())
        except Exception as exc:  # one broken check hides no other
            db.session.rollback()
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            findings.append(Finding(FAIL, name, t("box.check.crashed", lang, reason=reason)))
    return findings


def _needs_database(name: str, lang: str) -> Iterator[Finding]:
    yield Finding(FAIL, name, t("box.check.needs_database", lang))
