"""Command-line commands: ``flask scan`` for cron, ``flask watchlist check``, ``import``
and ``export``, and the ``history``, ``users`` and ``screens`` groups."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from .alerts.threads import wait_for_deliveries
from .db import describe_database_error
from .history_cli import history_group
from .redis_door import CacheUnavailable
from .redis_door.memory import RedisFull
from .scan.launch import Outcome, launch_scan
from .scan.stopping import ScanInterrupted, stopped_by_signals
from .scan.store import LockLost, Progress, Status
from .screens_cli import screens_group
from .services import Scanner, current_scanner
from .user_watchlists.imports import export_toml, parse_import
from .user_watchlists.owners import Owner, default_owner, user_named
from .user_watchlists.seeding import record_import
from .users_cli import users_group
from .watchlist import SHARES_PER_CONTRACT, Position, WatchlistError, load_watchlist

EXIT_DONE, EXIT_ERROR, EXIT_MARKET_CLOSED, EXIT_BUSY, EXIT_NO_WORKER = 0, 1, 2, 3, 4
#: How often ``flask scan`` reads the progress of a scan that runs on workers.
FOLLOW_INTERVAL = 0.5
#: How long Redis may stay unreadable while following before ``flask scan`` gives up.
FOLLOW_PATIENCE = 30


def _progress_printer(interactive: bool):
    """A listener that draws a bar on a terminal and prints plain lines otherwise."""

    printed: list[int] = []  # the counts already printed as plain lines

    def show(progress: Progress) -> None:
        if interactive:
            if progress.finished_at:
                click.echo()
                return
            current = f" {progress.current}" if progress.current else ""
            filled = progress.percent // 5
            bar = "#" * filled + "-" * (20 - filled)
            click.echo(f"\r[{bar}] {progress.done}/{progress.total}{current:<12}", nl=False)
        elif not printed or printed[-1] != progress.done:
            printed.append(progress.done)
            click.echo(f"scanned {progress.done}/{progress.total} ({progress.percent}%)")

    return show


@click.command("scan")
@with_appcontext
@click.option("--force", is_flag=True, help="Scan even when the market is closed.")
def scan_command(force: bool) -> None:
    """Run a scan and wait for its end (for cron); with SCAN_EXECUTOR=rq it is enqueued
    for the workers and followed.

    Exit codes: 0 done, 1 error or interrupted, 2 market closed, 3 another scan is running,
    4 no worker is running (SCAN_EXECUTOR=rq). SIGTERM, SIGINT or SIGHUP stop a scan that
    runs here: it publishes what it has and ends as interrupted.
    """
    scanner = current_scanner()
    show = _progress_printer(sys.stdout.isatty())
    # Signals stop a scan that runs here; one that runs on workers goes on without us.
    signals = stopped_by_signals() if scanner.executor.in_process else contextlib.nullcontext()
    try:
        with signals:
            launch = launch_scan(scanner, force=force, foreground=show)
            if launch.summary is not None and launch.scan_id is not None:
                wait_for_deliveries(launch.scan_id)  # its alerts, sent from this process
        if launch.outcome is Outcome.STARTED and launch.summary is None:
            _follow(scanner, launch.scan_id, show)
    except ScanInterrupted as stopped:
        status = scanner.store.read_status()
        interrupted = status.facts is not None and status.facts.outcome == "interrupted"
        click.echo(f"Error: {status.last_run if interrupted else stopped}", err=True)
        sys.exit(EXIT_ERROR)
    except RedisFull as error:
        click.echo(f"Error: the scan stopped: {error}.", err=True)
        sys.exit(EXIT_ERROR)
    except CacheUnavailable as error:
        click.echo(f"Error: Redis is unavailable ({error}).", err=True)
        sys.exit(EXIT_ERROR)
    except LockLost:
        click.echo("Error: the scan lost its lock to another scan and stopped.", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as error:
        click.echo(f"Error: the scan failed: {error}", err=True)
        sys.exit(EXIT_ERROR)
    if launch.outcome is Outcome.MARKET_CLOSED:
        click.echo(launch.message)
        sys.exit(EXIT_MARKET_CLOSED)
    if launch.outcome is Outcome.JOINED:
        click.echo(f"Another scan is running ({launch.scan_id}); not starting a second one.")
        sys.exit(EXIT_BUSY)
    if launch.outcome is Outcome.NO_WORKER:
        click.echo(f"Error: {launch.message}", err=True)
        sys.exit(EXIT_NO_WORKER)
    if launch.summary is not None:
        click.echo(launch.message)
    sys.exit(EXIT_DONE)


def _follow(scanner: Scanner, scan_id: str, show) -> None:
    """Show the progress of scan ``scan_id`` running elsewhere until it ends.

    Returns when it completed; exits 1 with its message when it failed or stopped.
    """
    shown: Progress | None = None
    status = _read_when_available(scanner)
    while status.running_scan == scan_id:
        progress = status.current_progress
        if progress is not None and progress != shown:
            show(progress)
            shown = progress
        time.sleep(FOLLOW_INTERVAL)
        status = _read_when_available(scanner)
    facts = status.facts
    if facts is None or facts.scan_id != scan_id:
        click.echo("Error: the scan stopped before it finished (its lock is gone).", err=True)
        sys.exit(EXIT_ERROR)
    if status.progress is not None and status.progress.scan_id == scan_id:
        show(status.progress)
    if facts.outcome != "completed":
        click.echo(f"Error: {status.last_run}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(status.last_run)


def _read_when_available(scanner: Scanner) -> Status:
    """The status (a dead scan reported as interrupted), waiting out a Redis outage of up to
    ``FOLLOW_PATIENCE`` seconds."""
    deadline = time.monotonic() + FOLLOW_PATIENCE
    status = scanner.status()
    while not status.available:
        if time.monotonic() > deadline:
            raise CacheUnavailable("Redis did not answer while following the scan")
        time.sleep(FOLLOW_INTERVAL)
        status = scanner.status()
    return status


@click.group("watchlist", cls=AppGroup)
def watchlist_group() -> None:
    """Check watchlist files; import them into a user's watchlist, or export it."""


def _owner(scanner: Scanner, username: str | None) -> Owner:
    """The user named, else local mode's user, else the first admin (said on stderr);
    exits with an error when there is none."""
    if username is not None:
        owner = user_named(scanner.database, username)
        if owner is None:
            _fail(f"no user named {username!r}; see `flask --app wsgi users list`")
        return owner
    owner = default_owner(scanner.database, scanner.local_mode)
    if owner is None:
        _fail(
            "no admin yet: name a user with --user NAME, or create an admin with "
            "`flask --app wsgi users create NAME --admin`"
        )
    which = "local mode's user" if scanner.local_mode else "the first admin"
    click.echo(f"Watchlist of {owner.username} ({which}; --user NAME for another).", err=True)
    return owner


def _fail(message: str) -> NoReturn:
    """Print ``Error: message`` and exit with ``EXIT_ERROR``."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@watchlist_group.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--user", "username", help="Whose watchlist (default: see above).")
@click.option("--replace", is_flag=True, help="Make the watchlist exactly the file.")
def watchlist_import(path: Path, username: str | None, replace: bool) -> None:
    """Add and update a user's entries from a TOML or CSV file (a bad file imports
    nothing); ``--replace`` also removes the entries the file does not list."""
    scanner = current_scanner()
    try:
        data = path.read_bytes()
    except OSError as error:
        _fail(f"{path}: cannot read it: {error.strerror or error}")
    try:
        entries = parse_import(str(path), data)
    except WatchlistError as error:
        _fail(f"nothing imported: {error}")
    try:
        owner = _owner(scanner, username)
        outcome = scanner.watchlists.import_entries(owner.id, entries, replace)
        if path.resolve() == Path(scanner.settings["WATCHLIST_FILE"]).resolve():
            record_import(scanner.database, path, owner.id)
    except SQLAlchemyError as error:
        _fail(f"nothing imported: {describe_database_error(error)}")
    click.echo(f"{path}: imported into {owner.username}'s watchlist: {outcome.summary()}.")


@watchlist_group.command("export")
@click.option("--user", "username", help="Whose watchlist (default: see above).")
def watchlist_export(username: str | None) -> None:
    """Write a user's watchlist to standard output as TOML (the ``WATCHLIST_FILE``
    format)."""
    scanner = current_scanner()
    try:
        owner = _owner(scanner, username)
        entries = scanner.watchlists.read(owner.id).entries
    except SQLAlchemyError as error:
        _fail(describe_database_error(error))
    click.echo(export_toml(entries), nl=False)


@watchlist_group.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def watchlist_check(path: Path | None) -> None:
    """Validate a watchlist file (default: the configured one) and list its tickers."""
    path = path or Path(current_scanner().settings["WATCHLIST_FILE"])
    try:
        watchlist = load_watchlist(path)
    except (WatchlistError, OSError) as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    for entry in watchlist.entries:
        fair = f"  fair value {entry.fair_value:g}" if entry.fair_value is not None else ""
        own = "".join(f"  {name} {value}" for name, value in entry.assumptions.items())
        held = _position_text(entry.position)
        click.echo(f"{entry.symbol}{fair}{held}{own}")
        position = entry.position
        if position is not None and position.contracts == 0:
            click.echo(
                f"Warning: {entry.symbol}: {position.shares} shares, under "
                f"{SHARES_PER_CONTRACT}: no covered calls (one contract covers "
                f"{SHARES_PER_CONTRACT} shares).",
                err=True,
            )
    click.echo(f"{path}: {len(watchlist)} tickers, OK")


def _position_text(position: Position | None) -> str:
    """``  300 shares at 58.1`` for a held position, else nothing."""
    if position is None:
        return ""
    basis = f" at {position.cost_basis:g}" if position.cost_basis is not None else ""
    return f"  {position.shares} shares{basis}"


def register_commands(app: Flask) -> None:
    """Attach the commands to ``flask --app wsgi``."""
    app.cli.add_command(scan_command)
    app.cli.add_command(watchlist_group)
    app.cli.add_command(history_group)
    app.cli.add_command(users_group)
    app.cli.add_command(screens_group)
