"""``flask screens add|list|delete``: saved screens for scripts.

A screen's query is checked with the dashboard's parser and messages; a target with the
screens page's rules (in production, a target on a loopback or private address needs an
admin owner). Targets are never printed: ``list`` shows how many each screen has.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from .accounts.local_user import local_user_id
from .alerts.targets import TargetError, check_targets
from .db import describe_database_error
from .screens.definition import ScreenError, check_screen
from .services import Scanner, current_scanner

EXIT_OK, EXIT_ERROR, EXIT_NOT_FOUND = 0, 1, 2


@click.group("screens", cls=AppGroup)
def screens_group() -> None:
    """Saved screens: add, list and delete them."""


def _fail(messages: list[str], code: int = EXIT_ERROR) -> None:
    """Print each message as an error and exit with ``code``."""
    for message in messages:
        click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _owner(scanner: Scanner, username: str | None) -> int:
    """The id of the user named ``username`` (without one: local mode's user; production
    needs the name)."""
    if username is None:
        if not scanner.local_mode:
            _fail(["name the screen's owner with --user NAME."])
        return local_user_id(scanner.database)
    user_id = scanner.screens.user_id(username)
    if user_id is None:
        _fail([f"there is no user called “{username}”."], EXIT_NOT_FOUND)
    return user_id


@screens_group.command("add")
@click.argument("name")
@click.option("--query", default="", help="The view's query, as in the dashboard's URL.")
@click.option("--user", "username", help="The owner (default: local mode's user).")
@click.option("--shared", is_flag=True, help="Share it with the team.")
@click.option("--alert", "alerts", multiple=True, help="An Apprise URL to alert (repeatable).")
def screens_add(
    name: str, query: str, username: str | None, shared: bool, alerts: tuple[str, ...]
) -> None:
    """Save a screen. Exit codes: 0 saved, 1 a bad name, query or target, or a name the
    owner already uses, 2 no such user."""
    scanner = current_scanner()
    try:
        owner = _owner(scanner, username)
        name, parsed = check_screen(name, query)
        if alerts and scanner.alerts is None:
            _fail(["alerts are off (ALERTS=off): save the screen without --alert."])
        may_reach_inside = scanner.local_mode or scanner.screens.is_admin(owner)
        targets = check_targets(alerts, may_reach_inside=may_reach_inside)
        screen = scanner.screens.create(owner, name, parsed, shared, targets)
    except (ScreenError, TargetError) as error:
        _fail(error.messages)
    except SQLAlchemyError as error:
        _fail([describe_database_error(error)])
    click.echo(f"Saved screen “{screen.name}” ({screen.view}: {screen.query or 'no filters'}).")


@screens_group.command("list")
@click.option("--user", "username", help="Whose screens (default: local mode's user).")
def screens_list(username: str | None) -> None:
    """List the user's screens and those shared with them (targets are counted, never
    shown)."""
    scanner = current_scanner()
    try:
        owner = _owner(scanner, username)
        screens = scanner.screens.visible(owner)
    except SQLAlchemyError as error:
        _fail([describe_database_error(error)])
    for screen in screens:
        shared = "shared" if screen.shared else "private"
        by = "" if screen.mine(owner) else f" by {screen.owner}"
        targets = f"{len(screen.targets)} alert target(s)" + (", paused" if screen.paused else "")
        click.echo(f"{screen.name}\t{screen.view}\t{screen.query or '-'}\t{shared}{by}\t{targets}")
    if not screens:
        click.echo("No saved screens.")


@screens_group.command("delete")
@click.argument("name")
@click.option("--user", "username", help="The owner (default: local mode's user).")
def screens_delete(name: str, username: str | None) -> None:
    """Delete one of the user's screens. Exit codes: 0 deleted, 2 no such screen or user."""
    scanner = current_scanner()
    try:
        owner = _owner(scanner, username)
        screen = scanner.screens.find_named(owner, name)
        if screen is None:
            _fail([f"you have no screen called “{name}”."], EXIT_NOT_FOUND)
        scanner.screens.delete(owner, screen.id)
    except SQLAlchemyError as error:
        _fail([describe_database_error(error)])
    click.echo(f"Deleted screen “{name}”.")
