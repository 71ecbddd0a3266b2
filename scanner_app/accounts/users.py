"""The users store: accounts in the ``users`` table, by name.

Names are lower-cased; ``local`` is kept for local mode's implicit user, which is no account
(it cannot sign in and is never listed). Every database failure comes out as
AccountsUnavailable with the database's words, and nothing is half done.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..db import describe_database_error, stored_time
from ..db.account_tables import User
from .account_errors import (
    AccountsUnavailable,
    BadRole,
    BadUsername,
    LastAdmin,
    UnknownUser,
    UsernameTaken,
)
from .local_user import LOCAL_USERNAME
from .passwords import hash_password, password_matches

ADMIN, MEMBER = "admin", "member"
ROLES = (ADMIN, MEMBER)
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
USERNAME_RULE = (
    "A username has 1 to 64 characters: letters, digits, dots, dashes, underscores or @, "
    "starting with a letter or digit."
)


@dataclass(frozen=True)
class Account:
    """A user as the app shows them (never their password hash)."""

    id: int
    username: str
    role: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None

    @property
    def is_admin(self) -> bool:
        """Whether the user manages the other users."""
        return self.role == ADMIN

    @classmethod
    def of(cls, user: User) -> Account:
        """The account of a ``users`` row."""
        return cls(
            id=user.id,
            username=user.username,
            role=user.role,
            disabled=user.disabled,
            created_at=stored_time(user.created_at),
            last_login_at=stored_time(user.last_login_at) if user.last_login_at else None,
        )


def normalized_username(name: str) -> str:
    """``name`` stripped and lower-cased; BadUsername when it breaks the rule or is taken by
    local mode's user."""
    username = name.strip().lower()
    if not USERNAME_PATTERN.fullmatch(username):
        raise BadUsername(USERNAME_RULE)
    if username == LOCAL_USERNAME:
        raise BadUsername(f"The name {LOCAL_USERNAME} is kept for local mode's user.")
    return username


def checked_role(role: str) -> str:
    """``role`` when it is ``admin`` or ``member``."""
    if role not in ROLES:
        raise BadRole(f"The role must be {' or '.join(ROLES)}.")
    return role


class UsersStore:
    """The accounts in the database of ``engine``."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.clock = clock or (lambda: datetime.now(UTC))

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A database session whose failures raise AccountsUnavailable (rolled back)."""
        try:
            with Session(self.engine) as session:
                yield session
        except SQLAlchemyError as error:
            if isinstance(error, IntegrityError):
                raise
            raise AccountsUnavailable(
                f"Nothing changed: {describe_database_error(error)}."
            ) from error

    def create(self, username: str, password: str, role: str = MEMBER) -> Account:
        """Add a user with ``password`` (checked against the rules); UsernameTaken when the
        name is in use."""
        username = normalized_username(username)
        return self.create_with_hash(username, hash_password(password), checked_role(role))

    def create_with_hash(self, username: str, password_hash: str, role: str) -> Account:
        """Add a user whose password hash is made already (the upgrade from one password)."""
        user = User(
            username=username,
            password_hash=password_hash,
            role=role,
            disabled=False,
            created_at=self.clock(),
        )
        try:
            with self._session() as session:
                session.add(user)
                session.commit()
                return Account.of(user)
        except IntegrityError:
            raise UsernameTaken(f"A user named {username} exists already.") from None

    def authenticate(self, username: str, password: str) -> Account | None:
        """The enabled account that ``password`` opens, else None; one hash check whether or
        not the name exists, so the time taken does not tell."""
        try:
            name = normalized_username(username)
        except BadUsername:
            name = None
        with self._session() as session:
            user = None if name is None else self._row(session, name)
        matches = password_matches(None if user is None else user.password_hash, password)
        return Account.of(user) if matches and user is not None and not user.disabled else None

    def record_login(self, user_id: int) -> None:
        """Note that the user ``user_id`` signed in now."""
        with self._session() as session:
            user = session.get(User, user_id)
            if user is not None:
                user.last_login_at = self.clock()
                session.commit()

    def find(self, username: str) -> Account:
        """The account named ``username``; UnknownUser when there is none."""
        with self._session() as session:
            return Account.of(self._existing(session, username))

    def get(self, user_id: int) -> Account | None:
        """The account with id ``user_id`` (None for none, or local mode's user)."""
        with self._session() as session:
            user = session.get(User, user_id)
            return None if user is None or user.username == LOCAL_USERNAME else Account.of(user)

    def all(self) -> list[Account]:
        """Every account, by name."""
        with self._session() as session:
            rows = session.scalars(
                select(User).where(User.username != LOCAL_USERNAME).order_by(User.username)
            )
            return [Account.of(user) for user in rows]

    def count(self) -> int:
        """How many accounts there are."""
        with self._session() as session:
            query = select(func.count()).select_from(User).where(User.username != LOCAL_USERNAME)
            return session.scalar(query) or 0

    def set_password(self, username: str, password: str) -> None:
        """Give ``username`` a new password (checked against the rules)."""
        password_hash = hash_password(password)
        with self._session() as session:
            self._existing(session, username).password_hash = password_hash
            session.commit()

    def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable or enable ``username``; LastAdmin rather than disable the last enabled admin."""
        with self._session() as session:
            user = self._existing(session, username)
            if disabled:
                self._keep_an_admin(session, user, "disable")
            user.disabled = disabled
            session.commit()

    def delete(self, username: str) -> None:
        """Delete ``username`` and everything that is theirs; LastAdmin rather than delete the
        last enabled admin."""
        with self._session() as session:
            user = self._existing(session, username)
            self._keep_an_admin(session, user, "delete")
            session.delete(user)
            session.commit()

    @staticmethod
    def _row(session: Session, username: str) -> User | None:
        """The row of the account named ``username`` (already normalized)."""
        return session.scalar(select(User).where(User.username == username))

    def _existing(self, session: Session, username: str) -> User:
        """The row of the account named ``username``; UnknownUser when there is none."""
        try:
            name = normalized_username(username)
        except BadUsername:
            name = None
        user = None if name is None else self._row(session, name)
        if user is None:
            raise UnknownUser(f"No user is named {username.strip()!r}.")
        return user

    @staticmethod
    def _keep_an_admin(session: Session, user: User, action: str) -> None:
        """LastAdmin when ``user`` is the only enabled admin."""
        if user.role != ADMIN or user.disabled:
            return
        others = session.scalar(
            select(func.count())
            .select_from(User)
            .where(
                User.role == ADMIN,
                User.disabled.is_(False),
                User.id != user.id,
                User.username != LOCAL_USERNAME,
            )
        )
        if not others:
            raise LastAdmin(
                f"{user.username} is the only enabled admin: create another admin before you "
                f"{action} this one."
            )
