"""The `artcaching` command: Flask's own commands (run, db, shell) plus the project's."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, run_command, with_appcontext
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import OperationalError

from routes import rallyfile
from server import address, create_app, exports, game, inputs, models, privacy, rallies, seed
from server.auth import (
    account,
    add_account,
    check_new_password,
    create_user,
    locked_for,
    set_active,
    set_password,
)
from server.extensions import db
from server.i18n import LANGUAGES, default_language, t
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


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), help="Art Caching server.")
def main() -> None:
    pass


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
    click.echo(f"open {current_app.config['PUBLIC_BASE_URL']}/ (staff: /login)")


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
