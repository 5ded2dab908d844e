"""The `artcaching` command: Flask's own commands (run, db, shell) plus the project's."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, run_command, with_appcontext
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import OperationalError

from markers.tiles import covering, zoom_range
from routes import rallyfile
from server import (
    address,
    create_app,
    exports,
    game,
    inputs,
    mbtiles,
    models,
    privacy,
    rallies,
    seed,
)
from server import tiles as box_tiles
from server.auth import (
    account,
    add_account,
    check_new_password,
    create_user,
    locked_for,
    set_active,
    set_password,
)
from server.extensions import db, migrations
from server.i18n import LANGUAGES, default_language, t
from server.mbtiles import MBTiles, PackageError
from server.organiser import actions
from server.usererror import UserError

DEMO_CURATOR = "curator"
CLI_LANGUAGE = "en"
"""The language of the command line's own lines, and of the errors it prints."""
F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> NoReturn:
    raise click.ClickException(message)


def _with_database(command: F) -> F:
    """with_appcontext, a clear message when the database is unreachable or has no tables, and
    a user's error (a UserError) as one line and exit status 1."""

    @wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            ready = inspect(db.engine).has_table(models.SigningKey.__tablename__)
        except OperationalError as exc:
            _fail(f"cannot reach the database: {str(exc.orig).strip().splitlines()[0]}")
        if not ready:
            _fail("the database has no tables yet: run 'artcaching db upgrade' first")
        try:
            return command(*args, **kwargs)
        except UserError as exc:
            _fail(exc.message(CLI_LANGUAGE))

    return with_appcontext(checked)  # type: ignore[return-value]


class _Commands(FlaskGroup):
    """Flask's command group, finding its own commands before it imports the plugins' (the
    rate limiter's), which only `--help` and their own names need."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, cmd_name) or super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, create_app=lambda: create_app(), help="Art Caching server.")
def main() -> None:
    pass


class _Migrations(click.Group):
    """`artcaching db ...`: Flask-Migrate's commands, imported (and alembic with them) only when
    one runs, so that every other command starts without them."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        from flask_migrate.cli import db as commands

        assert parent is not None
        migrations(parent.ensure_object(ScriptInfo).load_app())
        return commands.make_context(info_name, args, parent=parent, **extra)


main.add_command(_Migrations("db", help="Perform database migrations (Flask-Migrate)."))


@main.command(
    "run",
    params=list(run_command.params),
    help=(
        "Serve the app (Flask's development server). Unless PUBLIC_BASE_URL is set, records "
        "the address it serves at (0.0.0.0 as the LAN address) in the instance folder: printed "
        "codes and every later command of this instance use it."
    ),
)
@click.pass_context
def run(ctx: click.Context, **options: Any) -> None:
    app = ctx.ensure_object(ScriptInfo).load_app()
    url = app.config["PUBLIC_BASE_URL"]
    if app.config.get("PUBLIC_BASE_URL_SOURCE") != "environment":
        url = address.served_url(options["host"], options["port"], options["cert"] is not None)
        path = address.record(app.instance_path, url)
        app.config.update(PUBLIC_BASE_URL=url, PUBLIC_BASE_URL_SOURCE="recorded")
        click.echo(f"printed codes point to {url} (recorded in {path})")
    else:
        click.echo(f"printed codes point to {url} (PUBLIC_BASE_URL)")
    _warn_address(url)
    ctx.invoke(run_command, **options)


def _warn_address(url: str) -> None:
    """Each problem of the printed address as one line on standard error."""
    for code in address.problems(url):
        click.echo("warning: " + t(f"organiser.address.{code}", CLI_LANGUAGE, url=url), err=True)


@main.command("seed-demo")
@_with_database
def seed_demo() -> None:
    """Load the Kaiserslautern demo rally (published) and a curator login; safe to repeat."""
    slug = rallyfile.demo_rally().slug
    if db.session.scalar(select(models.Rally.id).filter_by(slug=slug)):
        added = seed.import_venues(rallyfile.load_venues())
        click.echo(f"demo rally '{slug}' is there already")
    else:
        venues_before = db.session.scalar(select(func.count(models.Venue.id)))
        row = seed.demo()
        added = db.session.scalar(select(func.count(models.Venue.id))) - venues_before
        click.echo(f"demo rally '{slug}' loaded: {len(row.stops)} stops")
    db.session.commit()
    if added:
        click.echo(f"{added} venues added")
    game.keyring()
    if db.session.scalar(select(models.User.id).filter_by(username=DEMO_CURATOR)) is None:
        password = secrets.token_urlsafe(12)
        create_user(DEMO_CURATOR, password, models.Role.ADMIN)
        click.echo(
            f"curator login created: user '{DEMO_CURATOR}', password '{password}' "
            "(shown once; change it with 'artcaching users set-password')"
        )
    else:
        click.echo(
            f"curator login '{DEMO_CURATOR}' exists already "
            "(reset with 'artcaching users set-password curator')"
        )
    click.echo("staff log in at /login of the address the server prints when it starts")


@main.command("import-rally")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--publish", is_flag=True, help="Publish it at once (default: draft).")
@_with_database
def import_rally(path: str, publish: bool) -> None:
    """Load a rally file (format art-caching-rally/1) as a new rally."""
    try:
        rf = rallyfile.read_rally_file(path, rallyfile.load_venues())
        status = models.RallyStatus.PUBLISHED if publish else models.RallyStatus.DRAFT
        row = seed.import_rally(rf, status=status)
    except ValueError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"rally '{row.slug}' imported with {len(row.stops)} stops ({row.status.value})")


@main.group()
def users() -> None:
    """Staff accounts: curators, organisers, admins."""


def _read_password(password: str | None) -> str:
    if password is None:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    return check_new_password(password)


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in models.Role]), required=True)
@click.option("--password", help="Read from a prompt when not given.")
@click.option("--language", type=click.Choice(LANGUAGES), default=LANGUAGES[0])
@_with_database
def users_create(username: str, role: str, password: str | None, language: str) -> None:
    """Create a staff account (audited, as on the accounts page)."""
    user = add_account(username, _read_password(password), models.Role(role), language)
    click.echo(f"user '{user.username}' created with role {user.role.value}")


@users.command("set-password")
@click.argument("username")
@click.option("--password", help="Read from a prompt when not given.")
@_with_database
def users_set_password(username: str, password: str | None) -> None:
    """Set a new password for a staff account; every session of it ends."""
    user = account(username)
    set_password(user, _read_password(password))
    click.echo(f"password of '{user.username}' changed; every session of it ended")


@users.command("deactivate")
@click.argument("username")
@_with_database
def users_deactivate(username: str) -> None:
    """Deactivate a staff account: no login, every session of it ends."""
    user = account(username)
    set_active(user, False)
    click.echo(f"user '{user.username}' deactivated; every session of it ended")


@users.command("activate")
@click.argument("username")
@_with_database
def users_activate(username: str) -> None:
    """Reactivate a deactivated staff account (and lift a login lockout)."""
    user = account(username)
    set_active(user, True)
    click.echo(f"user '{user.username}' activated")


@users.command("list")
@_with_database
def users_list() -> None:
    """List staff accounts: name, role, active or deactivated, and a login lockout."""
    for u in db.session.scalars(select(models.User).order_by(models.User.username)):
        status = "active" if u.active else "deactivated"
        if u.active and (wait := locked_for(u)):
            status += f" (locked for {wait // 60 + 1:.0f} min)"
        click.echo(f"{u.username}\t{u.role.value}\t{status}")


@main.group()
def keys() -> None:
    """The QR signing keys."""


@keys.command("list")
@_with_database
def keys_list() -> None:
    """List the keys and their status."""
    for key in sorted(game.keyring().keys, key=lambda k: k.id):
        click.echo(f"{key.id}\t{key.status.value}")


@keys.command("rotate")
@_with_database
def keys_rotate() -> None:
    """A new active key for new codes; codes printed with the old one stay valid."""
    ring = game.keyring().rotate()
    game.save_keyring(ring)
    click.echo(f"key {ring.active.id} is now active; print new codes to use it")


@keys.command("retire")
@click.argument("key_id", type=int)
@_with_database
def keys_retire(key_id: int) -> None:
    """Make codes signed with KEY_ID invalid (after new codes hang everywhere)."""
    try:
        ring = game.keyring().retire(key_id)
    except ValueError as exc:
        _fail(str(exc))
    game.save_keyring(ring)
    click.echo(f"key {key_id} retired: codes signed with it no longer work")


@main.command("purge-fixes")
@_with_database
def purge_fixes() -> None:
    """Forget the teams' last GPS fixes and the positions in stored answers older than
    FIX_RETENTION_HOURS now (the server also does it by itself every PRIVACY_SWEEP_MINUTES)."""
    hours = current_app.config["FIX_RETENTION_HOURS"]
    done = privacy.forget_old_fixes()
    click.echo(
        f"{done.fixes} teams' fixes older than {hours:g} h forgotten,"
        f" and the positions in {done.answers} stored answers"
    )


# --- organiser: exports, close, purge ---------------------------------------------------------


def _rally(slug: str, lang: str = CLI_LANGUAGE) -> models.Rally:
    """Any rally by slug (drafts too), else a failure that names the rallies there are (a slug
    with a control character names none, and PostgreSQL is not asked)."""
    try:
        if inputs.CONTROL.search(slug):
            raise UserError("rally_unknown", status=404, slug=inputs.CONTROL.sub("?", slug)[:80])
        return rallies.by_slug(slug, staff=True)
    except UserError as exc:
        known = ", ".join(rallies.known_slugs())
        hint = f"there are: {known}" if known else "none yet"
        _fail(f"{exc.message(lang).rstrip('.')} ({hint})")


def _check_writable(path: str) -> None:
    """Fail before a long export when the file cannot be written."""
    if path == "-":
        return
    target = Path(path)
    if target.is_dir():
        _fail(f"cannot write '{path}': it is a folder; give a file name")
    if not target.parent.is_dir():
        _fail(f"cannot write '{path}': the folder '{target.parent}' does not exist")
    if not os.access(target.parent, os.W_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        _fail(f"cannot write '{path}': permission denied")


def _write(path: str, data: bytes) -> None:
    """Write to path (whole or not at all; '-' is standard output)."""
    if path == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        _fail(f"cannot write '{path}': {exc.strerror or exc}")


def _done(what: str, path: str, size: int) -> None:
    click.echo(
        f"{what} written to {'standard output' if path == '-' else path} ({size:,} bytes)",
        err=path == "-",
    )


OUTPUT = click.option(
    "-o",
    "--output",
    required=True,
    metavar="FILE",
    help="The file to write ('-' for standard output).",
)
LANGUAGE = click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Language of names and headers (default: DEFAULT_LANGUAGE).",
)


@main.command("export-qr")
@click.argument("rally")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(exports.QR_FORMATS),
    default="pdf",
    show_default=True,
    help=(
        "pdf: an A4 poster per stop; labels: 3 x 4 stickers per page; zip: PNG + SVG and the "
        "short codes; start: the start poster with the join code."
    ),
)
@OUTPUT
@_with_database
def export_qr(rally: str, fmt: str, output: str) -> None:
    """The printed QR fallbacks of RALLY (its slug), signed with the current key, or its start
    poster. Names the address the codes lead to, and warns (still exporting) when phones
    cannot reach it."""
    row = _rally(rally)
    _check_writable(output)
    url = current_app.config["PUBLIC_BASE_URL"]
    click.echo(f"codes lead to {url}", err=True)
    _warn_address(url)
    if fmt == "start":
        download = exports.qr_download(row, fmt)
        _write(output, download.data)
        _done(f"start poster of '{row.slug}'", output, len(download.data))
        return
    with click.progressbar(
        length=len(row.stops), label=f"{fmt}: {row.slug}", file=sys.stderr
    ) as bar:
        download = exports.qr_download(row, fmt, bar.update)
    _write(output, download.data)
    _done(f"{len(row.stops)} codes of '{row.slug}'", output, len(download.data))


@main.command("export-route")
@click.argument("rally")
@click.option(
    "--format", "fmt", type=click.Choice(exports.ROUTE_FORMATS), default="gpx", show_default=True
)
@LANGUAGE
@OUTPUT
@_with_database
def export_route(rally: str, fmt: str, lang: str | None, output: str) -> None:
    """The route of RALLY: start, stops, finish and the walking line (GPX 1.1 or GeoJSON)."""
    row = _rally(rally)
    _check_writable(output)
    download = exports.route_download(row, fmt, lang or default_language())
    _write(output, download.data)
    _done(f"route of '{row.slug}' ({fmt})", output, len(download.data))


@main.command("export-results")
@click.argument("rally")
@LANGUAGE
@click.option(
    "--timezone",
    "tz",
    default=None,
    help="Time zone of the times, e.g. UTC (default: the event's, EVENT_TIMEZONE).",
)
@click.option(
    "--delimiter",
    type=click.Choice([",", ";", "tab"]),
    default=",",
    show_default=True,
    help="';' suits spreadsheets set to German.",
)
@OUTPUT
@_with_database
def export_results(
    rally: str, lang: str | None, tz: str | None, delimiter: str, output: str
) -> None:
    """The results of RALLY as CSV (UTF-8 with BOM): one row per team, best first."""
    row = _rally(rally)
    _check_writable(output)
    download = exports.results_download(row, lang or default_language(), tz, delimiter)
    _write(output, download.data)
    _done(f"results of '{row.slug}'", output, len(download.data))


@main.command("close")
@click.argument("rally")
@_with_database
def close_rally(rally: str) -> None:
    """Close the event RALLY: teams can no longer play; results stay."""
    row = actions.close(_rally(rally))
    click.echo(
        f"rally '{row.slug}' closed; purge its personal data with 'artcaching purge {row.slug}'"
    )


@main.command("purge")
@click.argument("rally")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_with_database
def purge_rally(rally: str, yes: bool) -> None:
    """Delete the personal data of the closed event RALLY (names, positions, device tokens,
    stored answers, flag reasons); anonymous counts stay."""
    row = _rally(rally)
    if row.status is not models.RallyStatus.CLOSED:
        _fail(
            UserError("rally_not_closed").message(CLI_LANGUAGE) + f" (artcaching close {row.slug})"
        )
    if not yes:
        click.confirm(f"Delete the personal data of '{row.slug}' for good?", abort=True)
    report = actions.purge(row, row.slug)
    click.echo(
        f"rally '{row.slug}': personal data of {report.teams} teams purged "
        f"({report.tokens} device tokens, {report.client_events} stored answers deleted, "
        f"{report.flags} flags stripped)"
    )


# --- the box's map: tile packages --------------------------------------------------------------


@main.group()
def tiles() -> None:
    """The box's map: a tile package (MBTiles) that the maps and the phones' rally packs are
    served from, with no internet at the venue."""


def _megabytes(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def _describe(package: MBTiles) -> str:
    meta, sizes = package.package, package.sizes()
    b = meta.bounds
    return (
        f"'{meta.name}': {len(sizes)} {meta.format} tiles, zooms {meta.minzoom}-{meta.maxzoom}, "
        f"{_megabytes(sum(sizes.values()))}, bounds {b.west:.4f},{b.south:.4f},{b.east:.4f},"
        f"{b.north:.4f}"
    )


def _coverage(package: MBTiles) -> None:
    """One line per published rally: does the package hold its play area's tiles?"""
    rows = db.session.scalars(
        select(models.Rally)
        .filter_by(status=models.RallyStatus.PUBLISHED)
        .order_by(models.Rally.slug)
    ).all()
    zooms = package.package.zooms
    for row in rows:
        gap = box_tiles.missing(package, row)
        if gap is None:
            click.echo(f"rally '{row.slug}': no stops yet")
        elif gap == 0:
            click.echo(f"rally '{row.slug}': play area covered at zooms {zooms.start}-{zooms[-1]}")
        else:
            click.echo(
                f"rally '{row.slug}': play area NOT covered: {gap} tiles missing at zooms "
                f"{zooms.start}-{zooms[-1]} (artcaching tiles prepare {row.slug})"
            )


@tiles.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@_with_database
def tiles_import(path: str) -> None:
    """Check the MBTiles package PATH and install it as the box's map (TILES_FILE)."""
    config = current_app.config
    try:
        package = box_tiles.install(path, config["TILES_FILE"], config["TILES_IMPORT_MAX_BYTES"])
    except PackageError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot install into {config['TILES_FILE']}: {exc.strerror or exc}")
    click.echo(f"installed {_describe(package)} as {config['TILES_FILE']}")
    _coverage(package)


@tiles.command("info")
@_with_database
def tiles_info() -> None:
    """Print the installed tile package and which rallies' play areas it covers."""
    path = current_app.config["TILES_FILE"]
    if not Path(path).exists():
        click.echo(f"no tile package at {path}: the maps load their tiles from TILE_URL")
        return
    try:
        package = MBTiles(path)
    except PackageError as exc:
        _fail(str(exc))
    click.echo(f"{path}: {_describe(package)}")
    click.echo(f"attribution: {box_tiles.safe_attribution(package.package.attribution)}")
    _coverage(package)


@tiles.command("prepare")
@click.argument("rally")
@click.option("--zoom", default="14-18", show_default=True, help="Zoom levels, low-high.")
@click.option(
    "--margin",
    type=click.FloatRange(0, 5000),
    default=box_tiles.MARGIN_M,
    show_default=True,
    help="Metres of map around the play area (beyond the search radius).",
)
@click.option(
    "--delay",
    type=click.FloatRange(0, 60),
    help="Seconds between two requests of a worker (default TILE_FETCH_DELAY_S).",
)
@click.option("--yes", is_flag=True, help="Do not ask before downloading.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write this package instead of installing it.",
)
@_with_database
def tiles_prepare(
    rally: str, zoom: str, margin: float, delay: float | None, yes: bool, output: str | None
) -> None:
    """Download the map tiles of RALLY's play area from TILE_SOURCE_URL (while there is
    internet) and install them as the box's map, or write them to --output. An interrupted
    run goes on where it stopped when started again."""
    config = current_app.config
    row = _rally(rally)
    try:
        zooms = zoom_range(zoom)
    except ValueError as exc:
        _fail(str(exc))
    box = box_tiles.play_box(row, margin)
    if box is None:
        _fail(f"rally '{row.slug}' has no stops yet: there is no play area to download")
    wanted = list(covering(box, zooms))
    if len(wanted) > config["TILES_PREPARE_MAX"]:
        _fail(
            f"{len(wanted)} tiles at zooms {zoom}: more than the limit of "
            f"{config['TILES_PREPARE_MAX']} (TILES_PREPARE_MAX); choose fewer zooms "
            f"(--zoom {zooms.start}-{zooms[-1] - 1}) or a smaller --margin"
        )
    target = Path(output or config["TILES_FILE"])
    work = target if output else target.with_name(target.name + ".part")
    if not output:
        target.parent.mkdir(parents=True, exist_ok=True)
    _check_writable(str(work))
    if not output and not work.exists() and target.exists():
        shutil.copyfile(target, work)
    held: set[tuple[int, int, int]] = set()
    earlier = None
    if work.exists():
        try:
            earlier = MBTiles(work)
        except PackageError as exc:
            _fail(f"{exc}; delete it to start afresh")
        held = earlier.keys()
    todo = [key for key in wanted if key not in held]
    source = urlsplit(config["TILE_SOURCE_URL"]).netloc or config["TILE_SOURCE_URL"]
    click.echo(
        f"rally '{row.slug}': {len(wanted)} tiles at zooms {zooms.start}-{zooms[-1]}, "
        f"{len(wanted) - len(todo)} already held, {len(todo)} to fetch from {source} "
        f"(about {_megabytes(len(todo) * box_tiles.SOURCE_TILE_BYTES)})"
    )
    if todo and not yes:
        click.confirm("Download them?", abort=True)
    package = box_tiles.package_for(row.slug, box, zooms, earlier, config["TILE_ATTRIBUTION"])
    mbtiles.write(work, package, [])
    fetcher = box_tiles.Downloader(
        config["TILE_SOURCE_URL"],
        box_tiles.user_agent(),
        config["TILE_FETCH_DELAY_S"] if delay is None else delay,
    )
    with click.progressbar(length=len(todo), label="tiles") as bar:
        try:
            got = fetcher.fetch(todo, lambda batch: mbtiles.write(work, package, batch), bar.update)
        except KeyboardInterrupt:
            _fail(
                f"interrupted: the tiles got so far are kept in {work}; "
                "run the same command again to go on"
            )
    click.echo(
        f"{got.kept} tiles fetched, {len(got.absent)} not available upstream, "
        f"{len(got.failed)} failed"
    )
    if got.failed:
        (z, x, y), why = got.failed[0]
        _fail(
            f"{len(got.failed)} tiles failed (first {z}/{x}/{y}: {why}); they are not kept: "
            "run the same command again to fetch them"
        )
    if output:
        try:
            done = box_tiles.validate(work, config["TILES_IMPORT_MAX_BYTES"])
        except PackageError as exc:
            _fail(str(exc))
        click.echo(f"wrote {_describe(done)} to {work}; on the box: artcaching tiles import {work}")
        return
    try:
        done = box_tiles.install(work, target, config["TILES_IMPORT_MAX_BYTES"])
    except PackageError as exc:
        _fail(str(exc))
    work.unlink()
    click.echo(f"installed {_describe(done)} as {target}")
    _coverage(done)


# --- the event box: the self-check ------------------------------------------------------------


@main.command("check")
@click.argument("rally", required=False)
@LANGUAGE
@with_appcontext
def check_command(rally: str | None, lang: str | None) -> None:
    """Check the box before the doors open: the address phones will use, the database, the
    signing keys, the tile package for the play area of RALLY (default: every published rally),
    the clock, disk space, the Wi-Fi and the secret key. One line each, OK, WARN or FAIL; exit
    status 1 on any FAIL."""
    from server import check

    lang = lang or default_language()
    rows = None
    if rally is not None:
        try:
            rows = [_rally(rally, lang)]
        except OperationalError:
            rows = []
    findings = check.run(lang, rows)
    width = max(len(t(f"box.check.name.{f.name}", lang)) for f in findings)
    for f in findings:
        name = t(f"box.check.name.{f.name}", lang)
        click.echo(f"{f.status:<4}  {name:<{width}}  {f.message}")
    failures = sum(f.status == check.FAIL for f in findings)
    warnings = sum(f.status == check.WARN for f in findings)
    verdict = t("box.check.summary_fail" if failures else "box.check.summary_ok", lang)
    click.echo(f"{t('box.check.summary', lang, warnings=warnings, failures=failures)}. {verdict}")
    if failures:
        sys.exit(1)
