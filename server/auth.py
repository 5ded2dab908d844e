"""Staff accounts: Argon2 password hashes, Flask-Login sessions that logout, a new password and
deactivation end, a lockout after repeated wrong passwords, role checks on every route."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from functools import cache, wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from server import audit
from server.extensions import csrf, db, login_manager
from server.i18n import LANGUAGES, t
from server.models import Role, User, utcnow
from server.ratelimit import limiter, minutes_until, refuse, setting
from server.usererror import UserError

bp = Blueprint("auth", __name__)
_hasher = PasswordHasher()
F = TypeVar("F", bound=Callable[..., Any])
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        db.session.commit()
    return True


@cache
def _unusable_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(32))


def _verify_nothing(password: str) -> None:
    """As slow as checking a real password, so that timing does not tell which names exist."""
    with suppress(VerificationError):
        _hasher.verify(_unusable_hash(), password)


MAX_PASSWORD_LENGTH = 500
MAX_NAME_LENGTH = 80


def check_new_password(password: str) -> str:
    """The password if the house's rules allow it (MIN_PASSWORD_LENGTH to MAX_PASSWORD_LENGTH
    characters), else a UserError about the field ``password``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError("password_too_short", field="password", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError("password_too_long", field="password", n=MAX_PASSWORD_LENGTH)
    return password


def _check_new_name(username: str) -> str:
    """The user name without surrounding spaces, if it is allowed and free; else a UserError."""
    username = username.strip()
    if not username or len(username) > MAX_NAME_LENGTH:
        raise UserError("account_name_length", field="username", n=MAX_NAME_LENGTH)
    if any(ord(c) < 32 or ord(c) == 127 for c in username):
        raise UserError("account_name_characters", field="username")
    if by_name(username) is not None:
        raise UserError("account_name_taken", field="username", name=username)
    return username


def _new_user(username: str, password: str, role: Role, language: str) -> User:
    if language not in LANGUAGES:
        raise UserError("account_language", field="language")
    user = User(
        username=_check_new_name(username),
        password_hash=hash_password(check_new_password(password)),
        role=role,
        language=language,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise UserError("account_name_taken", field="username", name=user.username) from None
    return user


def create_user(username: str, password: str, role: Role, language: str = "de") -> User:
    """A new staff account, not audited (the demo seed and tests use it; people use
    add_account); a UserError when the name is taken or bad or the password too short."""
    user = _new_user(username, password, role, language)
    db.session.commit()
    return user


def add_account(username: str, password: str, role: Role, language: str = "de") -> User:
    """A new staff account with an audit entry (user.create): what the command line and the
    accounts page do; the same errors as create_user."""
    user = _new_user(username, password, role, language)
    audit.record("user.create", "user", user.id, username=user.username, role=role.value)
    db.session.commit()
    return user


def by_name(username: str) -> User | None:
    """The account of that name, whatever its case."""
    return db.session.scalar(
        select(User).where(func.lower(User.username) == username.strip().lower())
    )


def account(username: str) -> User:
    """The account of that name, else a UserError (404)."""
    user = by_name(username)
    if user is None:
        raise UserError("account_unknown", status=404, name=username)
    return user


def set_password(user: User, password: str) -> None:
    """A new password; every session of the account ends and a lockout is lifted; audited."""
    user.password_hash = hash_password(check_new_password(password))
    user.end_sessions()
    user.failed_logins = 0
    user.locked_until = None
    audit.record("user.password_reset", "user", user.id)
    db.session.commit()


def set_role(user: User, role: Role) -> None:
    """Give the account another role; audited with the old and the new one."""
    if user.role == role:
        return
    audit.record("user.role", "user", user.id, **audit.before_after(user.role.value, role.value))
    user.role = role
    db.session.commit()


def set_active(user: User, active: bool) -> None:
    """Deactivate (every session ends, no login) or reactivate an account; audited."""
    if user.active == active:
        return
    user.active = active
    if active:
        user.failed_logins = 0
        user.locked_until = None
    else:
        user.end_sessions()
    audit.record("user.activate" if active else "user.deactivate", "user", user.id)
    db.session.commit()


def locked_for(user: User) -> float:
    """Seconds until the account's login lockout ends (0 when it is not locked)."""
    if user.locked_until is None:
        return 0.0
    return max(0.0, (user.locked_until - utcnow()).total_seconds())


def _login_failed(user: User) -> None:
    """Count a wrong password; every LOGIN_LOCKOUT_FAILURES in a row lock the account, each time
    twice as long (up to LOGIN_LOCKOUT_MAX_SECONDS), and the audit log says so."""
    db.session.execute(
        update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
    )
    db.session.refresh(user)
    config = current_app.config
    every = config["LOGIN_LOCKOUT_FAILURES"]
    if user.failed_logins % every == 0:
        lockouts = user.failed_logins // every
        seconds = min(
            config["LOGIN_LOCKOUT_MAX_SECONDS"],
            config["LOGIN_LOCKOUT_SECONDS"] * 2 ** min(lockouts - 1, 30),
        )
        user.locked_until = utcnow() + timedelta(seconds=seconds)
        audit.record(
            "user.locked",
            "user",
            user.id,
            failures=user.failed_logins,
            seconds=round(seconds),
            address=request.remote_addr,
        )
    db.session.commit()


def _login_succeeded(user: User) -> None:
    if user.failed_logins or user.locked_until is not None:
        user.failed_logins = 0
        user.locked_until = None
        db.session.commit()


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Only logged-in users with one of these roles (admins always) may use the view."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def api_roles_required(*roles: Role) -> Callable[[F], F]:
    """For the staff JSON API: 401 without a session, 403 without the role, 400 without a valid
    CSRF token on unsafe methods (X-CSRFToken header). Admins may always."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                raise UserError("login_required", status=401)
            if not current_user.has_role(*roles):
                raise UserError("forbidden", status=403)
            unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
            if unsafe and current_app.config.get("WTF_CSRF_ENABLED", True):
                try:
                    csrf.protect()
                except CSRFError:
                    raise UserError("csrf_failed", status=400) from None
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=80)])
    password = PasswordField(validators=[DataRequired(), Length(max=500)])


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The account of a session (or remember-me cookie) whose token is still the account's own:
    after logout, a new password or deactivation an older cookie finds nobody."""
    row_id, _, token = user_id.partition(":")
    try:
        user = db.session.get(User, int(row_id))
    except ValueError:
        return None
    if user is None or not user.active or not token:
        return None
    return user if hmac.compare_digest(user.session_token, token) else None


def safe_next(target: str | None) -> str | None:
    """Only a path on this site, never another host (browsers read ``/\\host`` as ``//host``)."""
    if not target or "\\" in target or any(c.isspace() or ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: User) -> str:
    """Where a user lands after login: their area's start page."""
    for role, endpoint in ((Role.CURATOR, "curator.index"), (Role.ORGANISER, "organiser.index")):
        if user.has_role(role) and endpoint in current_app.view_functions:
            return url_for(endpoint)
    return url_for("play.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(setting("RATELIMIT_LOGIN"), methods=["POST"], on_breach=refuse("login_limited"))
def login():
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        user = by_name(form.username.data)
        if user is None:
            _verify_nothing(form.password.data)
            error = t("auth.login_failed")
        elif wait := locked_for(user):
            _verify_nothing(form.password.data)
            error = t("auth.locked", minutes=minutes_until(utcnow().timestamp() + wait))
            page = render_template("auth/login.html", form=form, error=error)
            return page, 429, {"Retry-After": str(int(wait) + 1)}
        elif check_password(user, form.password.data) and user.active:
            _login_succeeded(user)
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or home_for(user))
        else:
            _login_failed(user)
            error = t("auth.login_failed")
        status = 401
    elif request.method == "POST":
        error = t("auth.login_incomplete")
        status = 401
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        current_user.end_sessions()
        db.session.commit()
    logout_user()
    flash(t("auth.logged_out"))
    return redirect(url_for("auth.login"))


ROLE_LABELS = {role: f"auth.accounts.role_{role.value}" for role in Role}


def _accounts_page(
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    row_errors: dict[int, dict[str, str]] | None = None,
) -> tuple[str, int]:
    """The accounts page; with form errors (of the new-account form, or of one account's row)
    it is answered 422 and keeps what was typed (but passwords)."""
    users = db.session.scalars(select(User).order_by(func.lower(User.username))).all()
    page = render_template(
        "staff/accounts.html",
        users=users,
        locked_for=locked_for,
        roles=list(Role),
        role_labels=ROLE_LABELS,
        errors=errors or {},
        typed=typed or {},
        row_errors=row_errors or {},
        staff_languages=LANGUAGES,
        min_password=MIN_PASSWORD_LENGTH,
        max_password=MAX_PASSWORD_LENGTH,
        max_name=MAX_NAME_LENGTH,
    )
    return page, 422 if errors or row_errors else 200


def _form_text(name: str) -> str:
    """A form field as text ('' when missing)."""
    return request.form.get(name, "", type=str)


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise UserError("account_role", field="role") from None


def _other_account(user_id: int) -> User:
    """The account a row's form is about; 404 when there is none."""
    user = db.session.get(User, user_id) if user_id < 2**31 else None
    if user is None:
        abort(404)
    return user


@bp.get("/staff/accounts")
@roles_required(Role.ADMIN)
def accounts():
    return _accounts_page()


@bp.post("/staff/accounts")
@roles_required(Role.ADMIN)
def account_create():
    typed = {name: _form_text(name) for name in ("username", "role", "language")}
    try:
        user = add_account(
            typed["username"], _form_text("password"), _role(typed["role"]), typed["language"]
        )
    except UserError as exc:
        return _accounts_page(errors={exc.field or "username": exc.message()}, typed=typed)
    flash(t("auth.accounts.created", name=user.username))
    return redirect(url_for("auth.accounts"))


@bp.post("/staff/accounts/<int:user_id>/role")
@roles_required(Role.ADMIN)
def account_role(user_id: int):
    user = _other_account(user_id)
    if user.id == current_user.id:
        flash(t("auth.accounts.not_yourself"))
        return redirect(url_for("auth.accounts"))
    try:
        role = _role(_form_text("role"))
    except UserError as exc:
        return _accounts_page(row_errors={user.id: {"role": exc.message()}})
    set_role(user, role)
    flash(t("auth.accounts.role_changed", name=user.username, role=t(ROLE_LABELS[role])))
    return redirect(url_for("auth.accounts"))


@bp.post("/staff/accounts/<int:user_id>/password")
@roles_required(Role.ADMIN)
def account_password(user_id: int):
    user = _other_account(user_id)
    if user.id == current_user.id:
        flash(t("auth.accounts.not_yourself"))
        return redirect(url_for("auth.accounts"))
    try:
        set_password(user, _form_text("password"))
    except UserError as exc:
        return _accounts_page(row_errors={user.id: {"password": exc.message()}})
    flash(t("auth.accounts.password_reset", name=user.username))
    return redirect(url_for("auth.accounts"))


@bp.post("/staff/accounts/<int:user_id>/active")
@roles_required(Role.ADMIN)
def account_active(user_id: int):
    user = _other_account(user_id)
    active = request.form.get("active") == "1"
    if user.id == current_user.id and not active:
        flash(t("auth.accounts.not_yourself"))
    else:
        set_active(user, active)
        key = "auth.accounts.activated" if active else "auth.accounts.deactivated"
        flash(t(key, name=user.username))
    return redirect(url_for("auth.accounts"))


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/api/"):
            raise UserError("login_required", status=401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
