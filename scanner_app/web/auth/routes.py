"""Login for production: the login and logout views, the login check before every request,
CSRF protection and session cookie settings.

Local mode needs no login. In production every route but the login page, the health
check and static files needs a live session (see ``sessions``) of a user in the database
(see ``signed_in``); wrong passwords are throttled (see ``login_throttle``).
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from flask import Blueprint, Flask, Response, redirect, request, url_for
from flask_wtf.csrf import CSRFError
from redis import RedisError
from werkzeug.middleware.proxy_fix import ProxyFix

from ...accounts.account_errors import AccountError, AccountsUnavailable
from ...accounts.users import Account, BadUsername, normalized_username
from ...extensions import csrf
from ...secret_key import shared_secret_key
from ...services import current_scanner
from ..error_pages import error_response
from ..json_errors import is_api_request, json_error, json_routing_error
from .cli import hash_password_command
from .gate import LOGIN_UNAVAILABLE_MESSAGE, login_page, safe_next
from .login_throttle import admit_login, init_login_throttle, login_failed
from .security_headers import init_security_headers
from .sessions import (
    end_session,
    has_live_session,
    revocation_count,
    start_session,
    verify_session,
)
from .signed_in import (
    check_first_admin,
    current_users,
    first_admin_checked,
    init_login_manager,
)

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

SESSION_LIFETIME = timedelta(hours=12)
PUBLIC_ENDPOINTS = frozenset({"auth.login", "api.healthz", "static"})

WRONG_CREDENTIALS_MESSAGE = "Wrong username or password."
DATABASE_DOWN_MESSAGE = "Login is unavailable while the database is down. Try again soon."
CSRF_TITLE = "Security check failed"
CSRF_MESSAGE = "The form expired or is missing its security token. Reload the page and try again."
LOCAL_SECRET_NOTE = "SECRET_KEY is not set: using the key in %s, shared by every worker."


def _local_mode() -> bool:
    """Whether the app runs in local mode (no login)."""
    return current_scanner().local_mode


def require_login() -> Response | None:
    """A ``before_request`` hook: turn away a request without a live session in production.

    Browsers are redirected to the login page, htmx gets 401 with ``HX-Redirect``, the
    API gets a JSON 401 (see ``sessions.verify_session`` for when Redis is down).
    """
    endpoint = request.endpoint or ""
    if _local_mode() or endpoint in PUBLIC_ENDPOINTS or endpoint.endswith(".static"):
        return None
    if endpoint == "dashboard.status":
        return None  # the poll checks the session in its own version read: one round trip
    return verify_session()


def _signed_in(username: str, password: str) -> Account | None:
    """Start a session for the enabled user whom ``password`` opens; None (logged, never the
    password) when it opens none. Raises RedisError or AccountsUnavailable."""
    first_admin_checked()
    users = current_users()
    try:
        count = revocation_count(normalized_username(username))
    except BadUsername:
        count = 0  # no such user can exist: the check below fails, taking the same time
    account = users.authenticate(username, password)
    if account is None:
        known = _known_username(username)
        who = f"user {known}" if known else "an unknown username"
        log.warning("failed login for %s from %s", who, request.remote_addr)
        return None
    start_session(account, count)
    try:
        users.record_login(account.id)
    except AccountsUnavailable as error:
        log.warning("last login of %s not recorded: %s", account.username, error)
    log.info("user %s logged in from %s", account.username, request.remote_addr)
    return account


def _known_username(username: str) -> str | None:
    """``username`` normalized when such a user exists (so a password typed into the name
    field never reaches the log)."""
    try:
        return current_users().find(username).username
    except AccountError:  # unknown, not a name, or the database is down
        return None


def _after_login(next_path: str | None) -> Response:
    """Where a logged-in user goes: ``next`` when it is on this site, else the dashboard."""
    return redirect(safe_next(next_path) or url_for("dashboard.index"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    """The login form (production only; local mode goes straight to the dashboard).

    Each password is checked only once the login throttle has counted it (see
    ``login_throttle``); a wrong one, an unknown username and a disabled user all answer
    401 with the same message.
    """
    next_path = safe_next(request.values.get("next"))
    if _local_mode() or has_live_session():
        return _after_login(next_path)
    if request.method == "GET":
        return login_page()
    username = request.form.get("username", "")
    refusal = admit_login(username)
    if refusal is not None:
        return refusal
    try:
        account = _signed_in(username, request.form.get("password", ""))
    except RedisError as error:
        log.warning("login not completed, Redis unavailable: %s", error)
        return login_page(LOGIN_UNAVAILABLE_MESSAGE, 503)
    except AccountsUnavailable as error:
        log.warning("login not completed: %s", error)
        return login_page(DATABASE_DOWN_MESSAGE, 503)
    if account is None:
        login_failed(username)
        return login_page(WRONG_CREDENTIALS_MESSAGE, 401)
    return _after_login(next_path)


@bp.post("/logout")
def logout() -> Response:
    """End the session, here and for every copy of its cookie."""
    try:
        end_session()
    except RedisError as error:
        log.error("session record not deleted, it expires with the session: %s", error)
    return redirect(url_for("dashboard.index") if _local_mode() else url_for("auth.login"))


def csrf_error(error: CSRFError) -> Response:
    """A missing or wrong CSRF token: 400 with a message saying what to do.

    The API answers in JSON; htmx gets the error fragment, a browser the error page.
    """
    log.info("CSRF check failed: %s", error.description)
    if is_api_request():
        return json_error(CSRF_MESSAGE, 400)
    return error_response(400, CSRF_TITLE, CSRF_MESSAGE)


def _configure_session(app: Flask) -> None:
    """Cookie flags, lifetime, and in local mode with no SECRET_KEY the instance folder's key.

    (Production refuses to start without SECRET_KEY.)
    """
    production = app.config["SCANNER_ENV"] == "production"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = shared_secret_key(app.instance_path)
        log.info(LOCAL_SECRET_NOTE, app.instance_path)
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
    """Wire login, its throttle, CSRF, security headers, cookies and proxy headers into ``app``.

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
    init_login_throttle(app)
    init_login_manager(app)
    init_security_headers(app)
    app.cli.add_command(hash_password_command)
    if app.config["SCANNER_ENV"] == "production":
        check_first_admin(app)
