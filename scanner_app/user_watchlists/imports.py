"""Watchlist files in and out: a TOML file in the ``WATCHLIST_FILE`` format, or a CSV
``symbol,fair_value,shares,cost_basis``; each entry validated as the file is, and a bad
file refused whole, its message naming the line. Exports are TOML."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from ..valuation.assumptions import RULES
from ..watchlist import WatchlistEntry, WatchlistError, parse_entry, parse_watchlist

CSV_COLUMNS = ("symbol", "fair_value", "shares", "cost_basis")
#: A ``[[tickers]]`` header line: the Nth one starts entry N.
_TABLE_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*tickers[ \t]*\]\]", re.MULTILINE)
_ENTRY_WHERE = re.compile(r": entry (\d+)")
#: Bytes an imported file may have (a watchlist of thousands of tickers fits).
MAX_IMPORT_BYTES = 2_000_000


def parse_import(name: str, data: bytes) -> list[WatchlistEntry]:
    """The validated entries of the file ``name`` (``.csv``: CSV, else TOML); raises
    WatchlistError naming the file and the line of the first bad entry."""
    if len(data) > MAX_IMPORT_BYTES:
        raise WatchlistError(f"{name}: too large (over {MAX_IMPORT_BYTES:,} bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise WatchlistError(f"{name}: not UTF-8 text") from None
    if name.lower().endswith(".csv"):
        return parse_csv(text, name)
    return parse_toml(text, name)


def parse_toml(text: str, source: str) -> list[WatchlistEntry]:
    """The entries of watchlist TOML ``text``, validated as ``WATCHLIST_FILE`` is; a bad
    entry's message also names its line."""
    try:
        return list(parse_watchlist(text, source).entries)
    except WatchlistError as error:
        raise WatchlistError(_with_line(str(error), text, source)) from None


def _with_line(message: str, text: str, source: str) -> str:
    """``message`` with ``line N`` after the source when it names entry N."""
    found = _ENTRY_WHERE.search(message)
    if found is None:
        return message
    headers = [match.start() for match in _TABLE_HEADER.finditer(text)]
    index = int(found.group(1))
    if index > len(headers):
        return message
    line = text.count("\n", 0, headers[index - 1]) + 1
    return message.replace(f"{source}:", f"{source}: line {line}:", 1)


def parse_csv(text: str, source: str) -> list[WatchlistEntry]:
    """The entries of a CSV with the columns ``symbol,fair_value,shares,cost_basis`` (a
    header line optional; empty cells: not set), each validated as a TOML entry."""
    entries: list[WatchlistEntry] = []
    seen: set[str] = set()
    for number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not any(cell.strip() for cell in cells):
            continue
        if number == 1 and cells[0].strip().lower() == "symbol":
            continue
        where = f"{source}: line {number}"
        if len(cells) > len(CSV_COLUMNS):
            raise WatchlistError(
                f"{where}: {len(cells)} columns; expected at most {len(CSV_COLUMNS)}: "
                + ",".join(CSV_COLUMNS)
            )
        table = {
            column: cell_value(cell)
            for column, cell in zip(CSV_COLUMNS, cells, strict=False)
            if cell.strip()
        }
        entry = parse_entry(table, where)
        if entry.symbol in seen:
            raise WatchlistError(f"{where} ({entry.symbol}): duplicate symbol {entry.symbol}")
        seen.add(entry.symbol)
        entries.append(entry)
    if not entries:
        raise WatchlistError(f"{source}: no tickers; one line per ticker: " + ",".join(CSV_COLUMNS))
    return entries


def cell_value(cell: str) -> Any:
    """A text cell as the number it spells (whole numbers as int), else the text itself,
    so the validator's messages read as for TOML values."""
    text = cell.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def export_toml(entries: Iterable[WatchlistEntry]) -> str:
    """``entries`` as watchlist TOML, in their order, readable by ``WATCHLIST_FILE``."""
    blocks = []
    for entry in entries:
        lines = ["[[tickers]]", f'symbol = "{entry.symbol}"']
        if entry.fair_value is not None:
            lines.append(f"fair_value = {_number(entry.fair_value)}")
        if entry.position is not None:
            lines.append(f"shares = {entry.position.shares}")
            if entry.position.cost_basis is not None:
                lines.append(f"cost_basis = {_number(entry.position.cost_basis)}")
        lines += [
            f"{name} = {_toml_value(entry.assumptions[name])}"
            for name in RULES
            if name in entry.assumptions
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _number(value: float) -> str:
    """A float as TOML writes it, whole values with ``.0``."""
    return repr(float(value))


def _toml_value(value: Any) -> str:
    """An assumption's value as TOML: a string quoted, a number as it is."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
