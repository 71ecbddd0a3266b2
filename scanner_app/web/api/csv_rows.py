"""Rows as CSV text: the table's declared columns, each cell safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from ...numbers import finite_number

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


def csv_lines(
    tickers: Iterator[tuple[str, list[dict[str, Any]]]], columns: tuple[str, ...]
) -> Iterator[str]:
    """A header of ``columns`` (a table's ``csv_header``), then a row per contract, a
    ticker at a time."""
    buffer = io.StringIO()
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
            writer.writerow({column: csv_safe(row.get(column)) for column in columns})
        yield flush()
