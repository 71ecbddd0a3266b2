"""Managing users, as the CLI and the admin page do: each change that must end a user's
sessions (a new password, disabling, deleting) ends them.

Sessions are ended before the change, so a Redis that does not answer changes nothing,
and again after it, so a login that slipped in between ends too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from redis import Redis, RedisError

from ..redis_door import Keys, redis_error_text
from .account_errors import AccountsUnavailable
from .passwords import checked_password
from .session_epochs import SessionEpochs
from .users import MEMBER, Account, UsersStore, normalized_username

log = logging.getLogger(__name__)


class UserAdmin:
    """The users store and the users' sessions, changed together."""

    def __init__(self, users: UsersStore, epochs: SessionEpochs) -> None:
        self.users = users
        self.epochs = epochs

    @classmethod
    def build(cls, users: UsersStore, client: Redis, keys: Keys, lifetime: timedelta) -> UserAdmin:
        """The admin of ``users`` whose sessions, lasting ``lifetime``, live in ``client``
        under ``keys``."""
        return cls(users, SessionEpochs(client, keys, lifetime))

    def create(self, username: str, password: str, role: str = MEMBER) -> Account:
        """Add a user (see ``UsersStore.create``)."""
        account = self.users.create(username, password, role)
        log.info("user %s created (%s)", account.username, account.role)
        return account

    def set_password(self, username: str, password: str) -> None:
        """Give ``username`` a new password, ending their sessions."""
        checked_password(password)
        self._ending_sessions(username, lambda: self.users.set_password(username, password))
        log.info("user %s has a new password; their sessions ended", username)

    def disable(self, username: str) -> None:
        """Disable ``username``, ending their sessions."""
        self._ending_sessions(username, lambda: self.users.set_disabled(username, True))
        log.info("user %s disabled; their sessions ended", username)

    def enable(self, username: str) -> None:
        """Let ``username`` sign in again."""
        self.users.set_disabled(username, False)
        log.info("user %s enabled", username)

    def delete(self, username: str) -> None:
        """Delete ``username`` and what is theirs, ending their sessions."""
        self._ending_sessions(username, lambda: self.users.delete(username))
        log.info("user %s deleted; their sessions ended", username)

    def _ending_sessions(self, username: str, change: Callable[[], None]) -> None:
        """End the sessions of ``username``, make ``change``, and end any new ones."""
        name = normalized_username(username)
        self.users.find(name)  # UnknownUser before touching any session
        try:
            self.epochs.bump(name)
        except RedisError as error:
            raise AccountsUnavailable(
                f"Nothing changed: Redis did not answer ({redis_error_text(error)}), so the "
                "user's sessions could not be ended."
            ) from error
        change()
        try:
            self.epochs.bump(name)
        except RedisError as error:
            log.warning("sessions of %s not ended a second time: %s", name, error)
