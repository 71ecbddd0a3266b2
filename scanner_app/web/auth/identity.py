"""Who is asking: the id of the user a request acts for.

Local mode has one implicit user (see ``accounts.local_user``); its id is looked up once per
app. Production reads the signed-in user's id from the session (the accounts work).
"""

from __future__ import annotations

from flask import current_app

from ...accounts.local_user import local_user_id
from ...services import current_scanner

LOCAL_USER_ID = "put_scanner.local_user_id"


def current_user_id() -> int:
    """The id of the user the current request acts for (raises SQLAlchemyError when local
    mode's user must be looked up and the database does not answer)."""
    cached = current_app.extensions.get(LOCAL_USER_ID)
    if cached is None:
        cached = local_user_id(current_scanner().database)
        current_app.extensions[LOCAL_USER_ID] = cached
    return cached
