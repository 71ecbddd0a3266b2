"""``flask history import FILE.csv`` and ``flask history export SYMBOL``: a year of IV from
elsewhere, and the stored history out, in one CSV format (``date,symbol,iv30[,close]``).

An import is checked as a whole before anything is written: a bad file imports nothing and
lists its first bad lines with their numbers. It upserts, so importing twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import math
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from .db import StoredDay, describe_database_error
from .services import current_scanner
from .watchlist import normalize_symbol

EXIT_OK, EXIT_ERROR = 0, 1
REQUIRED = ("date", "symbol", "iv30")
OPTIONAL = ("close",)
#: IV30 is a fraction (0.25 = 25 %); outside this range it is not an IV30.
IV30_RANGE = (0.001, 5.0)
#: Bad lines listed at most.
SHOWN_ERRORS = 20


class BadFile(ValueError):
    """The file cannot be imported; ``problems`` are its bad lines, in order."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _number(text: str, name: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} {text!r} is not a number from {low:g} to {high:g}")
    return value


def _day(row: dict[str, str]) -> StoredDay:
    """One line as a stored day; ValueError says what is wrong with it."""
    problems = []
    try:
        day = date.fromisoformat(row["date"].strip())
    except ValueError:
        problems.append(f"date {row['date']!r} is not a date like 2026-11-18")
        day = None
    symbol = normalize_symbol(row["symbol"])
    if symbol is None:
        problems.append(f"symbol {row['symbol']!r} is not a ticker symbol")
    values: dict[str, float | None] = {"iv30": None, "close": None}
    for name, low, high in (("iv30", *IV30_RANGE), ("close", 1e-6, 1e9)):
        text = (row.get(name) or "").strip()
        if name == "close" and not text:
            continue
        try:
            values[name] = _number(text, name, low, high)
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise ValueError("; ".join(problems))
    assert day is not None and symbol is not None
    return StoredDay(symbol, day, close=values["close"], iv30=values["iv30"])


def read_history_csv(text: str) -> list[StoredDay]:
    """The days of a ``date,symbol,iv30[,close]`` file; BadFile lists its first bad lines."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in (*REQUIRED, *OPTIONAL)]
    if missing or unknown:
        what = []
        if missing:
            what.append(f"missing {', '.join(missing)}")
        if unknown:
            what.append(f"unknown {', '.join(unknown)}")
        raise BadFile([f"line 1: the header must be date,symbol,iv30[,close] ({'; '.join(what)})"])
    reader.fieldnames = header
    days: list[StoredDay] = []
    problems: list[str] = []
    seen: dict[tuple[str, date], int] = {}
    for row in reader:
        number = reader.line_num
        if None in row or any(row[name] is None for name in header):
            problems.append(f"line {number}: expected {len(header)} values")
            continue
        try:
            day = _day(row)
        except ValueError as error:
            problems.append(f"line {number}: {error}")
            continue
        key = (day.symbol, day.day)
        if key in seen:
            problems.append(f"line {number}: {day.symbol} {day.day} already on line {seen[key]}")
            continue
        seen[key] = number
        days.append(day)
    if problems:
        raise BadFile(problems)
    if not days:
        raise BadFile(["the file has no lines after its header"])
    return days


def write_history_csv(days: Iterable[StoredDay]) -> str:
    """``days`` in the import's format, each value exactly as stored."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*REQUIRED, *OPTIONAL))
    for day in days:
        if day.iv30 is None:
            continue
        close = "" if day.close is None else repr(day.close)
        writer.writerow((day.day.isoformat(), day.symbol, repr(day.iv30), close))
    return out.getvalue()


@click.group("history", cls=AppGroup)
def history_group() -> None:
    """Import and export the IV history (date,symbol,iv30[,close])."""


@history_group.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def history_import(path: Path) -> None:
    """Upsert the days of a CSV file with columns date,symbol,iv30 and optionally close.

    Exit codes: 0 imported, 1 a bad file (nothing imported) or the database failed.
    """
    try:
        days = read_history_csv(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        _fail(f"{path} cannot be read: {error.strerror or error}")
    except UnicodeDecodeError:
        _fail(f"{path} is not a UTF-8 text file")
    except BadFile as bad:
        shown = bad.problems[:SHOWN_ERRORS]
        more = len(bad.problems) - len(shown)
        lines = [f"Error: {path}: nothing imported; {len(bad.problems)} bad line(s):", *shown]
        if more:
            lines.append(f"... and {more} more")
        _fail("\n".join(lines))
    try:
        current_scanner().history.save_days(days)
    except SQLAlchemyError as error:
        _fail(f"nothing imported: {describe_database_error(error)}")
    symbols = len({day.symbol for day in days})
    click.echo(f"Imported {len(days)} days of {symbols} symbol(s) from {path}.")


@history_group.command("export")
@click.argument("symbol")
def history_export(symbol: str) -> None:
    """Write the stored days of SYMBOL (those with an IV30) as CSV on standard output.

    Exit codes: 0 written, 1 no history for SYMBOL or the database failed.
    """
    normalized = normalize_symbol(symbol)
    if normalized is None:
        _fail(f"{symbol!r} is not a ticker symbol")
    try:
        days = current_scanner().history.days(normalized)
    except SQLAlchemyError as error:
        _fail(describe_database_error(error))
    if not any(day.iv30 is not None for day in days):
        _fail(f"no IV history is stored for {normalized}")
    click.echo(write_history_csv(days), nl=False)


def _fail(message: str) -> None:
    click.echo(message if message.startswith("Error:") else f"Error: {message}", err=True)
    sys.exit(EXIT_ERROR)
