"""Staff accounts: Argon2 password hashes, Flask-Login sessions, role checks on every route."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import suppress
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
from sqlalchemy import func, select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from server.extensions import csrf, db, limiter, login_manager
from server.i18n import t
from server.models import Role, User
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
    taken = db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if taken:
        raise ValueError(f"a user called {username!r} exists already")
    user = User(
        username=username, password_hash=hash_password(password), role=role, language=language
    )
    db.session.add(user)
    db.session.commit()
    return user


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
    try:
        return db.session.get(User, int(user_id))
    except ValueError:
        return None


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
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = db.session.scalar(
            select(User).where(func.lower(User.username) == form.username.data.strip().lower())
        )
        if user is None:
            _verify_nothing(form.password.data)
        elif check_password(user, form.password.data) and user.active:
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or home_for(user))
        error = t("auth.login_failed")
    elif request.method == "POST":
        error = t("auth.login_incomplete")
    status = 401 if error and request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    logout_user()
    flash(t("auth.logged_out"))
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/api/"):
            raise UserError("login_required", status=401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
