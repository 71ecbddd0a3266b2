"""Whose watchlist a command or the seed means: a user named, else local mode's user,
else the first admin (never a member)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ..accounts.local_user import LOCAL_USERNAME, local_user_id
from ..db.account_tables import User


@dataclass(frozen=True)
class Owner:
    """A user whose watchlist is meant: id and name."""

    id: int
    username: str


def user_named(engine: Engine, username: str) -> Owner | None:
    """The user called ``username``, or None."""
    with Session(engine) as session:
        found = session.execute(select(User.id, User.username).where(User.username == username))
        row = found.first()
    return None if row is None else Owner(row.id, row.username)


def default_owner(engine: Engine, local_mode: bool) -> Owner | None:
    """Local mode's user; in production the first admin (None when there is none yet)."""
    if local_mode:
        return Owner(local_user_id(engine), LOCAL_USERNAME)
    with Session(engine) as session:
        row = session.execute(
            select(User.id, User.username)
            .where(User.role == "admin", User.username != LOCAL_USERNAME)
            .order_by(User.id)
            .limit(1)
        ).first()
    return None if row is None else Owner(row.id, row.username)
