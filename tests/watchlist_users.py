"""Users and watchlist entries made straight in the database, for the watchlist tests, and
a way to have local mode's requests act for one of them."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scanner_app.db.account_tables import User
from scanner_app.web.auth.identity import LOCAL_USER_ID


def make_user(engine: Engine, username: str, role: str = "member", password_hash: str = "") -> int:
    """Create the user ``username`` (no password hash: nobody signs in as them); their id."""
    with Session(engine) as session, session.begin():
        user = User(
            username=username,
            password_hash=password_hash,
            role=role,
            disabled=False,
            created_at=datetime.now(UTC),
        )
        session.add(user)
        session.flush()
        return user.id


def act_as(app: Flask, user_id: int) -> None:
    """Make ``app``'s requests (local mode: no login) act for ``user_id``, as the session
    of a signed-in user would in production."""
    app.extensions[LOCAL_USER_ID] = user_id
