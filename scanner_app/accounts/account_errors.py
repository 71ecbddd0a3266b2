"""What can go wrong with an account, each with a message that the CLI and the pages show."""

from __future__ import annotations


class AccountError(Exception):
    """A request about an account that cannot be done; ``str(error)`` says why, plainly."""


class BadUsername(AccountError):
    """A name that is not a valid username."""


class BadRole(AccountError):
    """A role other than ``admin`` and ``member``."""


class BadPassword(AccountError):
    """A password that breaks the password rules (empty, too short, too long)."""


class UsernameTaken(AccountError):
    """A user with that name exists already."""


class UnknownUser(AccountError):
    """No user has that name."""


class LastAdmin(AccountError):
    """The change would leave no enabled admin to manage the others."""


class AccountsUnavailable(AccountError):
    """The database (users) or Redis (their sessions) did not answer: nothing changed."""
