"""Login for production, CSRF protection, session cookie settings and ``flask hash-password``.

Local mode needs no login. In production every route but the login page, the health
check and static files needs ``session["user"]``.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import click
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import csrf
from ..services import current_scanner
from .api import is_api_request, json_error, json_routing_error
from .pages import error_response
from .security import init_security_headers

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

USER = "owner"
SESSION_LIFETIME = timedelta(hours=12)
PUBLIC_ENDPOINTS = frozenset({"auth.login", "api.healthz", "static"})
MAX_NEXT_LENGTH = 2000
MIN_PASSWORD_LENGTH = 8

WRONG_PASSWORD_MESSAGE = "Wrong password."
LOGIN_REQUIRED_MESSAGE = "Login required."
CSRF_TITLE = "Security check failed"
CSRF_MESSAGE = "The form expired or is missing its security token. Reload the page and try again."
LOCAL_SECRET_WARNING = (
    "SECRET_KEY is not set: using a random key for this process, so sessions reset on restart."
)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/...``), else None: no open redirects.

    Refused: absolute and scheme-relative URLs (``//host``), backslashes and control
    characters (browsers turn ``/\\host`` and ``/<tab>/host`` into ``//host``).
    """
    if not target or len(target) > MAX_NEXT_LENGTH or not target.startswith("/"):
        return None
    if target.startswith("//") or "\\" in target or any(ord(ch) < 0x20 for ch in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def _local_mode() -> bool:
    return current_scanner().local_mode


def _is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _requested_path() -> str:
    """The current path with its query string."""
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def _htmx_page_path() -> str | None:
    """The path of the page an htmx request came from, when it is on this site."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.netloc and current.netloc != request.host:
        return None
    page = f"{current.path}?{current.query}" if current.query else current.path
    return safe_next(page)


def _login_url(next_path: str | None) -> str:
    return url_for("auth.login", next=next_path) if next_path else url_for("auth.login")


def require_login() -> Response | None:
    """A ``before_request`` hook: turn away a request without a session in production.

    Browsers are redirected to the login page, htmx gets 401 with ``HX-Redirect``, the
    API gets a JSON 401.
    """
    if _local_mode() or session.get("user"):
        return None
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or endpoint.endswith(".static"):
        return None
    if is_api_request():
        return json_error(LOGIN_REQUIRED_MESSAGE, 401)
    if _is_htmx():
        response = Response(LOGIN_REQUIRED_MESSAGE, status=401, mimetype="text/plain")
        response.headers["HX-Redirect"] = _login_url(_htmx_page_path())
        return response
    return redirect(_login_url(safe_next(_requested_path())))


def _password_matches(password: str) -> bool:
    """Whether ``password`` matches SCANNER_PASSWORD_HASH (False for a broken hash, logged)."""
    password_hash = current_app.config.get("SCANNER_PASSWORD_HASH") or ""
    try:
        return bool(password) and check_password_hash(password_hash, password)
    except ValueError as error:
        log.error("SCANNER_PASSWORD_HASH is not a valid password hash: %s", error)
        return False


def _after_login(next_path: str | None) -> Response:
    return redirect(safe_next(next_path) or url_for("pages.index"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    """The login form (production only; local mode goes straight to the dashboard)."""
    next_path = safe_next(request.values.get("next"))
    if _local_mode() or session.get("user"):
        return _after_login(next_path)
    if request.method == "GET":
        return render_template("login.html", next_path=next_path, error=None)
    if not _password_matches(request.form.get("password", "")):
        log.warning("failed login from %s", request.remote_addr)
        return render_template("login.html", next_path=next_path, error=WRONG_PASSWORD_MESSAGE), 401
    session.clear()
    session["user"] = USER
    session.permanent = True
    return _after_login(next_path)


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    session.clear()
    return redirect(url_for("pages.index") if _local_mode() else url_for("auth.login"))


def csrf_error(error: CSRFError) -> Response:
    """A missing or wrong CSRF token: 400 with a message saying what to do.

    The API answers in JSON; htmx gets the error fragment, a browser the error page.
    """
    log.info("CSRF check failed: %s", error.description)
    if is_api_request():
        return json_error(CSRF_MESSAGE, 400)
    return error_response(400, CSRF_TITLE, CSRF_MESSAGE)


@click.command("hash-password")
def hash_password_command() -> None:
    """Print a hash of a password (asked twice, not echoed) for SCANNER_PASSWORD_HASH."""
    password = click.prompt(
        "Password", hide_input=True, confirmation_prompt=True, value_proc=_long_enough
    )
    click.echo(generate_password_hash(password))


def _long_enough(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.UsageError(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    return password


def _configure_session(app: Flask) -> None:
    """Cookie flags, lifetime, and a per-process secret key in local mode when none is set."""
    production = app.config["SCANNER_ENV"] == "production"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        log.warning(LOCAL_SECRET_WARNING)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if production and "FLASK_SESSION_COOKIE_SECURE" not in os.environ:
        app.config["SESSION_COOKIE_SECURE"] = True
    if app.permanent_session_lifetime == Flask.default_config["PERMANENT_SESSION_LIFETIME"]:
        app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    # A token lives as long as the session, so a dashboard left open can still scan.
    app.config.setdefault(
        "WTF_CSRF_TIME_LIMIT", int(app.permanent_session_lifetime.total_seconds())
    )


def init_auth(app: Flask) -> None:
    """Wire login, CSRF, security headers, cookie settings and proxy headers into ``app``.

    Call after the blueprints are registered. The login check runs before the CSRF
    check, so an expired session leads to the login page rather than a token error.
    """
    _configure_session(app)
    proxies = app.config.get("TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.before_request(require_login)
    app.before_request(json_routing_error)
    csrf.init_app(app)
    app.register_error_handler(CSRFError, csrf_error)
    init_security_headers(app)
    app.cli.add_command(hash_password_command)
