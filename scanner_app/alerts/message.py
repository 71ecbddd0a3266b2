"""An alert's message: a title that counts the new contracts, a compact table of them, and
a link to the dashboard with the screen applied."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ..numbers import finite_number
from ..screens.definition import applied_args

#: Rows a message lists; the rest are counted ("and N more").
MAX_ROWS = 25
#: (header, row field, format) of the table's columns
COLUMNS = (
    ("Ticker", "ticker", "{}"),
    ("Expiration", "expiration", "{}"),
    ("Strike", "strike", "{:,.2f}"),
    ("Bid", "bid", "{:,.2f}"),
    ("Annualized", "annualized", "{:.1f}%"),
    ("Delta", "delta", "{:.2f}"),
    ("IV rank", "iv_rank", "{:.0f}"),
)
#: The dashboard's path for each view of a screen.
VIEW_PATHS = {"puts": "/", "calls": "/calls"}


@dataclass(frozen=True)
class AlertMessage:
    """What one delivery sends: a title and a plain-text body."""

    title: str
    body: str


def _cell(row: Mapping[str, Any], field: str, pattern: str) -> str:
    """One cell: the row's value in ``pattern``; "-" when missing."""
    value = row.get(field)
    if pattern == "{}":
        return str(value) if value not in (None, "") else "-"
    number = finite_number(value)
    return "-" if number is None else pattern.format(number)


def table(rows: Sequence[Mapping[str, Any]], total: int) -> str:
    """The first of ``total`` rows as a fixed-width text table (at most ``MAX_ROWS``), then
    "and N more" for the rest."""
    shown = [
        [_cell(row, field, pattern) for _h, field, pattern in COLUMNS] for row in rows[:MAX_ROWS]
    ]
    headers = [header for header, _field, _pattern in COLUMNS]
    widths = [max(len(line[i]) for line in [headers, *shown]) for i in range(len(headers))]
    lines = [
        "  ".join(
            cell.ljust(width) if index < 2 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in [headers, *shown]
    ]
    if total > len(shown):
        lines.append(f"and {total - len(shown)} more")
    return "\n".join(lines)


def screen_link(public_url: str, view: str, query: str) -> str:
    """The dashboard's URL with the screen applied, on ``public_url``'s host."""
    args = urlencode(dict(applied_args(query)))
    return f"{public_url.rstrip('/')}{VIEW_PATHS[view]}" + (f"?{args}" if args else "")


def alert_message(
    name: str, view: str, query: str, rows: Sequence[Mapping[str, Any]], total: int, public_url: str
) -> AlertMessage:
    """The message for ``total`` contracts that started matching the screen ``name``;
    ``rows`` are the first of them (``MAX_ROWS`` are enough)."""
    kind = view if total != 1 else view.removesuffix("s")
    title = f"{total} new {kind} for {name}"
    link = screen_link(public_url, view, query)
    return AlertMessage(title, f"{table(rows, total)}\n\nOpen the screen: {link}")


def trial_message(name: str, view: str, query: str, public_url: str) -> AlertMessage:
    """The message the "Send test" button sends."""
    link = screen_link(public_url, view, query)
    return AlertMessage(
        f"Test alert for {name}",
        f"This target will receive the new {view} of the screen “{name}”.\n\n"
        f"Open the screen: {link}",
    )
