"""``/admin/users``: admins list the users, create them, disable and enable them, reset a
password and delete them. Members get 403, checked here against the database on every
request; every form carries a CSRF token (Flask-WTF checks it before the view runs).

A refused change (a name taken, a short password, the last admin...) shows the page again
with the reason and 400; a database or Redis that does not answer gives 503 with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ...accounts.account_errors import AccountError, AccountsUnavailable
from ...accounts.admin import UserAdmin
from ...accounts.users import ROLES
from ..auth.signed_in import current_user_admin
from ..error_pages import error_response

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")

UNAVAILABLE_TITLE = "Users unavailable"
OWN_ACCOUNT_MESSAGE = "You cannot {action} your own account here: ask another admin."
DONE_MESSAGES = {
    "create": "Created {name}.",
    "disable": "Disabled {name}; their sessions ended.",
    "enable": "Enabled {name}.",
    "password": "Set a new password for {name}; their sessions ended.",
    "delete": "Deleted {name}.",
}


@bp.before_request
def admins_only() -> Response | None:
    """403 unless the signed-in user is an enabled admin (read from the database); local
    mode's single user manages nobody (it has no login)."""
    try:
        allowed = current_user.is_authenticated and current_user.is_admin
    except AccountsUnavailable as error:
        log.warning("admin page refused: %s", error)
        return error_response(503, UNAVAILABLE_TITLE, str(error))
    if not allowed:
        abort(403)
    return None


@bp.get("/users")
def users() -> tuple[str, int] | Response:
    """The list of users (never a hash) and the forms that change them."""
    return _page()


@bp.post("/users")
def create() -> tuple[str, int] | Response:
    """Create a user from the form's name, password and role."""
    password, role = request.form.get("password", ""), request.form.get("role", "")
    return _change(
        "create",
        request.form.get("username", ""),
        lambda admin, name: admin.create(name, password, role),
    )


@bp.post("/users/<username>/disable")
def disable(username: str) -> tuple[str, int] | Response:
    """Disable a user, ending their sessions."""
    return _change("disable", username, UserAdmin.disable, own_forbidden=True)


@bp.post("/users/<username>/enable")
def enable(username: str) -> tuple[str, int] | Response:
    """Let a disabled user sign in again."""
    return _change("enable", username, UserAdmin.enable)


@bp.post("/users/<username>/password")
def reset_password(username: str) -> tuple[str, int] | Response:
    """Give a user a new password, ending their sessions."""
    password = request.form.get("password", "")
    return _change("password", username, lambda admin, name: admin.set_password(name, password))


@bp.post("/users/<username>/delete")
def delete(username: str) -> tuple[str, int] | Response:
    """Delete a user and everything that is theirs, ending their sessions."""
    return _change("delete", username, UserAdmin.delete, own_forbidden=True)


def _change(
    action: str,
    username: str,
    make: Callable[[UserAdmin, str], object],
    own_forbidden: bool = False,
) -> tuple[str, int] | Response:
    """Make one change to ``username``, then show the list saying so (a redirect, so a
    reload does not repeat it); a refusal shows the page with the reason."""
    name = username.strip().lower()
    if own_forbidden and name == current_user.account.username:
        return _page(error=OWN_ACCOUNT_MESSAGE.format(action=action), status=400)
    try:
        make(current_user_admin(), username)
    except AccountsUnavailable as error:
        return _page(error=str(error), status=503)
    except AccountError as error:
        return _page(error=str(error), status=400)
    flash(DONE_MESSAGES[action].format(name=name))
    return redirect(url_for("admin.users"), 303)


def _page(error: str | None = None, status: int = 200) -> tuple[str, int] | Response:
    """The users page with ``error``, or what the last change did, above the list."""
    try:
        accounts = current_user_admin().users.all()
    except AccountsUnavailable as unavailable:
        return error_response(503, UNAVAILABLE_TITLE, str(unavailable))
    page = render_template(
        "admin_users.html",
        accounts=accounts,
        me=current_user.account.username,
        roles=ROLES,
        error=error,
        notices=get_flashed_messages(),
        form=request.form if error else {},
    )
    return page, status
