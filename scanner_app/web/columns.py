"""A ticker's puts in the order of one column, either way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..numbers import finite_number


def sort_puts_by(
    rows: Iterable[Mapping[str, Any]], column: str, direction: str
) -> list[Mapping[str, Any]]:
    """``rows`` by ``column`` (``asc`` or ``desc``); rows missing it come last either way,
    and ties keep their order."""
    rows = list(rows)
    known = [row for row in rows if finite_number(row.get(column)) is not None]
    missing = [row for row in rows if finite_number(row.get(column)) is None]
    known.sort(key=lambda row: row[column], reverse=direction == "desc")
    return known + missing
