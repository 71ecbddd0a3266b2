"""Rows as CSV text: the table's declared columns, each cell as the page shows it and safe
to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from ...numbers import finite_number
from ..columns import Table

#: A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    """Whether ``text`` reads as a finite number."""
    try:
        return finite_number(float(text)) is not None
    except ValueError:
        return False


def csv_safe(value: Any) -> Any:
    """``value`` for a CSV cell: text a spreadsheet would run as a formula gets a leading "'".

    Numbers, and text that is a plain number such as "-1.5", are left as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _is_number(value):
        return "'" + value
    return value


def csv_lines(tickers: Iterator[tuple[str, list[dict[str, Any]]]], table: Table) -> Iterator[str]:
    """A header of ``table``'s CSV columns, then a row per contract, a ticker at a time,
    each cell written by its column (prices to 2 decimals, greeks to 4, ...)."""
    buffer = io.StringIO()
    columns = table.csv_header
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writeheader()
    yield flush()
    for _symbol, rows in tickers:
        for row in rows:
            writer.writerow({name: csv_safe(cell) for name, cell in table.csv_row(row).items()})
        yield flush()
