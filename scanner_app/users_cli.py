"""``flask users ...``: create, list, re-password, disable, enable and delete users.

A password comes from a hidden prompt (asked twice), or with ``--password-stdin`` from the
first line of standard input (for scripts). Exit codes: 0 done, 1 the database or Redis did
not answer (nothing changed), 3 the name is taken, 4 no such user, 5 a bad password or
name, 6 the last enabled admin cannot be disabled or deleted (click's own usage errors: 2).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import click
from flask import current_app
from flask.cli import AppGroup

from .accounts.account_errors import (
    AccountError,
    AccountsUnavailable,
    BadPassword,
    BadRole,
    BadUsername,
    LastAdmin,
    UnknownUser,
    UsernameTaken,
)
from .accounts.admin import UserAdmin
from .accounts.users import ADMIN, MEMBER, UsersStore
from .redis_door import current_door
from .services import current_scanner

EXIT_OK = 0
EXIT_UNAVAILABLE = 1
EXIT_TAKEN = 3
EXIT_UNKNOWN = 4
EXIT_BAD_INPUT = 5
EXIT_LAST_ADMIN = 6
EXIT_CODES: dict[type[AccountError], int] = {
    AccountsUnavailable: EXIT_UNAVAILABLE,
    UsernameTaken: EXIT_TAKEN,
    UnknownUser: EXIT_UNKNOWN,
    BadPassword: EXIT_BAD_INPUT,
    BadUsername: EXIT_BAD_INPUT,
    BadRole: EXIT_BAD_INPUT,
    LastAdmin: EXIT_LAST_ADMIN,
}

T = TypeVar("T")

password_stdin = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of a prompt.",
)


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """Manage the users who sign in (production).

    Exit codes: 0 done, 1 the database or Redis did not answer, 3 the name is taken,
    4 no such user, 5 a bad password or name, 6 it would leave no enabled admin.
    """


@users_group.command("create")
@click.argument("name")
@click.option("--admin", "is_admin", is_flag=True, help="Make the user an admin.")
@password_stdin
def create_user(name: str, is_admin: bool, password_stdin: bool) -> None:
    """Create the user NAME (a member unless --admin)."""
    role = ADMIN if is_admin else MEMBER
    password = _password(password_stdin)
    account = _run(lambda admin: admin.create(name, password, role))
    click.echo(f"Created {account.role} {account.username}.")


@users_group.command("list")
def list_users() -> None:
    """List the users: name, role, enabled or disabled, created, last login."""
    accounts = _run(lambda admin: admin.users.all())
    if not accounts:
        click.echo(
            "No users yet: create the first admin with flask --app wsgi users create NAME --admin."
        )
        return
    width = max(len(account.username) for account in accounts)
    for account in accounts:
        status = "disabled" if account.disabled else "enabled"
        last = (
            account.last_login_at.strftime("%Y-%m-%d %H:%M") if account.last_login_at else "never"
        )
        created = account.created_at.strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"{account.username:<{width}}  {account.role:<6}  {status:<8}  "
            f"created {created}  last login {last}"
        )


@users_group.command("set-password")
@click.argument("name")
@password_stdin
def set_password(name: str, password_stdin: bool) -> None:
    """Give NAME a new password; their sessions end."""
    password = _password(password_stdin)
    _run(lambda admin: admin.set_password(name, password))
    click.echo(f"New password set for {name}; their sessions ended.")


@users_group.command("disable")
@click.argument("name")
def disable_user(name: str) -> None:
    """Disable NAME: they cannot sign in, and their sessions end."""
    _run(lambda admin: admin.disable(name))
    click.echo(f"Disabled {name}; their sessions ended.")


@users_group.command("enable")
@click.argument("name")
def enable_user(name: str) -> None:
    """Let a disabled NAME sign in again."""
    _run(lambda admin: admin.enable(name))
    click.echo(f"Enabled {name}.")


@users_group.command("delete")
@click.argument("name")
def delete_user(name: str) -> None:
    """Delete NAME and everything that is theirs; their sessions end."""
    _run(lambda admin: admin.delete(name))
    click.echo(f"Deleted {name}.")


def _password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or asked twice, hidden."""
    if not from_stdin:
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


def _run(action: Callable[[UserAdmin], T]) -> T:
    """``action`` on the app's users; an AccountError ends the command with its message and
    exit code."""
    door = current_door()
    admin = UserAdmin.build(
        UsersStore(current_scanner().database),
        door.write_client,
        door.keys,
        current_app.permanent_session_lifetime,
    )
    try:
        return action(admin)
    except AccountError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_CODES.get(type(error), EXIT_UNAVAILABLE))
