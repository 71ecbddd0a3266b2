"""Local mode's one implicit user, who owns the watchlist when nobody signs in."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.account_tables import User

LOCAL_USERNAME = "local"


def local_user_id(engine: Engine) -> int:
    """The id of local mode's user (an admin who cannot sign in), created on first use.

    Raises SQLAlchemyError when the database does not answer."""
    with Session(engine) as session:
        found = session.scalar(select(User.id).where(User.username == LOCAL_USERNAME))
        if found is not None:
            return found
        user = User(
            username=LOCAL_USERNAME,
            password_hash="",
            role="admin",
            disabled=False,
            created_at=datetime.now(UTC),
        )
        session.add(user)
        try:
            session.commit()
        except IntegrityError:  # another process created it first
            session.rollback()
            return session.scalar(select(User.id).where(User.username == LOCAL_USERNAME))
        return user.id
