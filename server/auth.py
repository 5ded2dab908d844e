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
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from server import audit
from server.extensions import csrf, db, login_manager
from server.i18n import t
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


def create_user(username: str, password: str, role: Role, language: str = "de") -> User:
    """A new staff account; ValueError when the name is taken or the password too short."""
    username = username.strip()
    if not username or len(username) > 80:
        raise ValueError("the user name must have 1 to 80 characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if by_name(username) is not None:
        raise ValueError(f"a user called {username!r} exists already")
    user = User(
        username=username, password_hash=hash_password(password), role=role, language=language
    )
    db.session.add(user)
    db.session.commit()
    return user


def by_name(username: str) -> User | None:
    """The account of that name, whatever its case."""
    return db.session.scalar(
        select(User).where(func.lower(User.username) == username.strip().lower())
    )


def set_password(user: User, password: str) -> None:
    """A new password; every session of the account ends and a lockout is lifted."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = hash_password(password)
    user.end_sessions()
    user.failed_logins = 0
    user.locked_until = None
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


@bp.get("/staff/accounts")
@roles_required(Role.ADMIN)
def accounts():
    users = db.session.scalars(select(User).order_by(func.lower(User.username))).all()
    return render_template("staff/accounts.html", users=users, locked_for=locked_for)


@bp.post("/staff/accounts/<int:user_id>/active")
@roles_required(Role.ADMIN)
def account_active(user_id: int):
    user = db.session.get(User, user_id) if user_id < 2**31 else None
    if user is None:
        abort(404)
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
