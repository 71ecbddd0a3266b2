"""Command-line commands: ``flask scan`` for cron, ``flask watchlist check``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from .scan.launch import Outcome, launch_scan
from .scan.store import CacheUnavailable, LockLost, Progress
from .services import current_scanner
from .watchlist import WatchlistError, load_watchlist

EXIT_DONE, EXIT_ERROR, EXIT_MARKET_CLOSED, EXIT_BUSY = 0, 1, 2, 3


def _progress_printer(interactive: bool):
    """A listener that draws a bar on a terminal and prints plain lines otherwise."""

    def show(progress: Progress) -> None:
        if progress.finished_at:
            if interactive:
                click.echo()
            return
        current = f" {progress.current}" if progress.current else ""
        if interactive:
            filled = progress.percent // 5
            bar = "#" * filled + "-" * (20 - filled)
            click.echo(f"\r[{bar}] {progress.done}/{progress.total}{current:<12}", nl=False)
        else:
            click.echo(f"scanned {progress.done}/{progress.total} ({progress.percent}%)")

    return show


@click.command("scan")
@with_appcontext
@click.option("--force", is_flag=True, help="Scan even when the market is closed.")
def scan_command(force: bool) -> None:
    """Run a scan in the foreground (for cron).

    Exit codes: 0 done, 1 error, 2 market closed, 3 another scan is running.
    """
    scanner = current_scanner()
    try:
        launch = launch_scan(
            scanner, force=force, foreground=_progress_printer(sys.stdout.isatty())
        )
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
    click.echo(launch.message)
    sys.exit(EXIT_DONE)


@click.group("watchlist", cls=AppGroup)
def watchlist_group() -> None:
    """Work with the watchlist file."""


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
        click.echo(f"{entry.symbol}{fair}")
    click.echo(f"{path}: {len(watchlist)} tickers, OK")


def register_commands(app: Flask) -> None:
    """Attach the commands to ``flask --app wsgi``."""
    app.cli.add_command(scan_command)
    app.cli.add_command(watchlist_group)
