"""Server-side session records, so that logout, and disabling, deleting or a new password
of a user, end sessions for good.

A login puts a random session id, the user's id (Flask-Login's ``_user_id``), name and role
in the signed cookie, and a record under ``<CACHE_KEY_PREFIX>session:<id>`` in Redis,
expiring with the session (12 hours from the login). The record holds the user's id and
their revocation count when they signed in (``accounts.session_epochs``, under
``<CACHE_KEY_PREFIX>session_epoch:<name>``). A session is live while its record exists, is
the cookie's user's, and holds the user's current count: logout deletes the record, so a
saved copy of the cookie is refused, and a change that bumps the count ends every session
the user has at once.

The check comes in two steps, so that a view can read the record and the count in its own
MGET:
``session_keys()`` names the keys to read, ``check_session(values)`` judges what was read.
Local mode has no login: no keys, and every request may go on.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence

from flask import Response, current_app, request, session
from flask_login import login_user, logout_user
from redis import Redis, RedisError

from ...accounts.session_epochs import SessionEpochs, epoch_value
from ...accounts.users import Account
from ...redis_door import current_door
from ...services import current_scanner
from ..error_pages import error_response
from ..json_errors import is_api_request, json_error
from .gate import login_required
from .signed_in import SignedInUser

log = logging.getLogger(__name__)

SESSION_ID = "sid"
#: The signed-in user's name and role in the cookie (Flask-Login keeps the id in ``_user_id``).
USER_KEY = "user"
ROLE_KEY = "role"
USER_ID_KEY = "_user_id"
#: Requests that may go on, unchecked, while Redis cannot be read: pages render their
#: "unavailable" banner (their data is in Redis too), and logout still clears the cookie.
UNCHECKED_WHEN_DOWN_METHODS = frozenset({"GET", "HEAD"})
UNCHECKED_WHEN_DOWN_ENDPOINTS = frozenset({"auth.logout"})
UNAVAILABLE_TITLE = "Service unavailable"
UNAVAILABLE_MESSAGE = "Your session cannot be checked while Redis is unavailable. Try again soon."


def revocation_count(username: str) -> int:
    """The revocation count of ``username`` now, to record with a session that starts after a
    password check: a revocation in between ends that session (raises RedisError)."""
    return _epochs().current(username)


def start_session(account: Account, count: int) -> None:
    """Log ``account`` in: a new session id with its record in Redis (holding ``count``, read
    before the password was checked), and a fresh cookie.

    The user's revocation count, if any, is first made to outlive the record, so the record
    can never see the count drop back to 0. Raises RedisError when either cannot be written
    (the cookie is then left as it was).
    """
    session_id = secrets.token_urlsafe(32)
    record = json.dumps({"user": account.id, "epoch": count})
    _epochs().keep(account.username)
    _client().set(_record_key(session_id), record, ex=current_app.permanent_session_lifetime)
    session.clear()
    login_user(SignedInUser(account))
    session[USER_KEY] = account.username
    session[ROLE_KEY] = account.role
    session[SESSION_ID] = session_id
    session.permanent = True


def end_session() -> None:
    """Log out: clear the cookie, then delete the session's record so no copy of it works.

    Raises RedisError when the record cannot be deleted; it then expires with the session.
    """
    keys = session_keys()
    logout_user()
    session.clear()
    if keys:
        _client().delete(keys[0])


def session_keys() -> list[str]:
    """The Redis keys whose values ``check_session`` needs, in order.

    ``[<CACHE_KEY_PREFIX>session:<id>, <CACHE_KEY_PREFIX>session_epoch:<name>]``
    (``Keys.session``, ``Keys.session_epoch``) for a cookie with a session; ``[]`` in local
    mode or without one (nothing to read: such a request is judged on the cookie alone).
    """
    if current_scanner().local_mode:
        return []  # the cookie is not even read, so the answer does not vary with it
    session_id, username = session.get(SESSION_ID), session.get(USER_KEY)
    if not isinstance(session_id, str) or not isinstance(username, str):
        return []
    keys = current_door().keys
    return [keys.session(session_id), keys.session_epoch(username)]


def check_session(values: Sequence[bytes | None]) -> Response | None:
    """None when the request may go on, else the answer that sends it to the login page.

    ``values`` are the raw Redis values of ``session_keys()``, in the same order. A
    session that has ended (logged out, expired, or its user revoked) is also dropped from
    the cookie.
    """
    if current_scanner().local_mode or _is_live(values):
        return None
    if SESSION_ID in session:
        session.clear()
    return login_required()


def has_live_session() -> bool:
    """Whether the request carries a live session (False when Redis cannot tell)."""
    try:
        return not current_scanner().local_mode and _is_live(_read(session_keys()))
    except RedisError as error:
        log.warning("session not checked, Redis unavailable: %s", error)
        return False


def verify_session() -> Response | None:
    """``check_session`` with its own read: for requests that read nothing else first.

    Redis down: pages and logout go on (see UNCHECKED_WHEN_DOWN_*), everything else (the
    API, the CSV, the Scan button) gets a 503 saying why, so a revoked cookie can change
    nothing and read no data while the check cannot be made.
    """
    try:
        values = _read(session_keys())
    except RedisError as error:
        log.warning("session not checked, Redis unavailable: %s", error)
        return _unverifiable()
    return check_session(values)


def _unverifiable() -> Response | None:
    """The answer to a request whose session cannot be checked."""
    if not is_api_request() and (
        request.method in UNCHECKED_WHEN_DOWN_METHODS
        or request.endpoint in UNCHECKED_WHEN_DOWN_ENDPOINTS
    ):
        return None
    if is_api_request():
        return json_error(UNAVAILABLE_MESSAGE, 503)
    return error_response(503, UNAVAILABLE_TITLE, UNAVAILABLE_MESSAGE)


def _is_live(values: Sequence[bytes | None]) -> bool:
    """Whether the values read for ``session_keys()`` show a live session: a record of the
    cookie's user holding their current revocation count."""
    if len(values) != 2 or not isinstance(values[0], bytes):
        return False
    try:
        record = json.loads(values[0])
    except ValueError:
        return False
    if not isinstance(record, dict) or str(record.get("user")) != session.get(USER_ID_KEY):
        return False
    count = record.get("epoch")
    return isinstance(count, int) and count == epoch_value(values[1])


def _read(keys: list[str]) -> list[bytes | None]:
    """The raw values of ``keys``: one round trip, none for no keys."""
    return _client().mget(keys) if keys else []


def _epochs() -> SessionEpochs:
    """The revocation counts in the app's Redis, kept as long as a session lives."""
    door = current_door()
    return SessionEpochs(door.write_client, door.keys, current_app.permanent_session_lifetime)


def _record_key(session_id: str) -> str:
    """The Redis key of a session's record."""
    return current_door().keys.session(session_id)


def _client() -> Redis:
    """The Redis client of the app's cache (the primary, so a new record reads back at once)."""
    return current_door().write_client
