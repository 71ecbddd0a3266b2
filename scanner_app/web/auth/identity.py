"""Who is asking: the id of the user a request acts for.

Local mode has one implicit user (see ``accounts.local_user``); its id is looked up once per
app. Production reads the signed-in user's id from the session cookie (Flask-Login's
``_user_id``), which the login gate has checked against its record in Redis: no database
query, so the status poll makes none.
"""

from __future__ import annotations

from flask import current_app, session

from ...accounts.local_user import local_user_id
from ...services import current_scanner
from .sessions import USER_ID_KEY

LOCAL_USER_ID = "put_scanner.local_user_id"


class NotSignedIn(LookupError):
    """A production request without a signed-in user (views behind the login gate never
    see one)."""


def current_user_id() -> int:
    """The id of the user the current request acts for.

    Raises NotSignedIn in production without a signed-in user, and SQLAlchemyError when
    local mode's user must be looked up and the database does not answer.
    """
    if not current_scanner().local_mode:
        return _signed_in_user_id()
    cached = current_app.extensions.get(LOCAL_USER_ID)
    if cached is None:
        cached = local_user_id(current_scanner().database)
        current_app.extensions[LOCAL_USER_ID] = cached
    return cached


def _signed_in_user_id() -> int:
    """The signed-in user's id, from the session."""
    try:
        return int(session[USER_ID_KEY])
    except (KeyError, TypeError, ValueError):
        raise NotSignedIn("No user is signed in.") from None
