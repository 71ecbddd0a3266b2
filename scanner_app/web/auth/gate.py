"""The login gate's views: the login page, and the answer to a request without a live session.

Shared by the login blueprint, the login throttle and the session check, which any view
(the status poll, for one) can call.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, redirect, render_template, request, url_for

from ..fragments import is_htmx_request
from ..json_errors import is_api_request, json_error
from .signed_in import first_admin_note

MAX_NEXT_LENGTH = 2000
LOGIN_REQUIRED_MESSAGE = "Login required."
LOGIN_UNAVAILABLE_MESSAGE = "Login is unavailable while Redis is down. Try again soon."


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


def login_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    """The login form with ``error`` above it, keeping the request's safe ``next`` and the
    name typed; while no user exists, how to create the first admin."""
    next_path = safe_next(request.values.get("next"))
    page = render_template(
        "login.html",
        next_path=next_path,
        error=error,
        username=request.form.get("username", ""),
        setup_note=first_admin_note(),
    )
    return page, status


def login_required() -> Response:
    """Turn the request away: browsers to the login page, htmx 401 with ``HX-Redirect``,
    the API a JSON 401. The login page brings the user back to where they were."""
    if is_api_request():
        return json_error(LOGIN_REQUIRED_MESSAGE, 401)
    if is_htmx_request():
        response = Response(LOGIN_REQUIRED_MESSAGE, status=401, mimetype="text/plain")
        response.headers["HX-Redirect"] = _login_url(_htmx_page_path())
        return response
    return redirect(_login_url(safe_next(_requested_path())))


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
    """The login page's URL, with ``next`` when there is one."""
    return url_for("auth.login", next=next_path) if next_path else url_for("auth.login")
