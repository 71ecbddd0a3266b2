"""What the watchlist page shows: the user's entries with whether a scan has reached each
one, their cash, and whether ``WATCHLIST_FILE`` changed since it was imported."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...services import current_scanner
from ...user_watchlists.seeding import CHANGED_NOTICE, changed_file
from ...user_watchlists.text_entries import ENTRY_FIELDS
from ...valuation.assumptions import RULES
from ...watchlist import WatchlistEntry

WAITING = "waiting for the next scan"


def entry_fields(entry: WatchlistEntry) -> dict[str, Any]:
    """An entry's fields by name (None: not set)."""
    position = entry.position
    return {
        "symbol": entry.symbol,
        "fair_value": entry.fair_value,
        "shares": position.shares if position else None,
        "cost_basis": position.cost_basis if position else None,
        **{name: entry.assumptions.get(name) for name in RULES},
    }


def entry_json(entry: WatchlistEntry) -> dict[str, Any]:
    """An entry for ``/api/watchlist``: symbol, fair value, shares, cost basis and the
    assumptions it sets."""
    fields = entry_fields(entry)
    return {
        **{name: fields[name] for name in ("symbol", "fair_value", "shares", "cost_basis")},
        **entry.assumptions,
    }


def row_context(
    entry_id: int,
    entry: WatchlistEntry,
    editing: bool = False,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
    message: str | None = None,
    waiting: bool | None = None,
) -> dict[str, Any]:
    """One row: the entry, in a form when ``editing`` (with the text ``typed`` and the
    ``error`` when a save was refused), and whether a scan has reached it (read from
    Redis unless given)."""
    fields = entry_fields(entry)
    if waiting is None:
        waiting = entry.symbol not in current_scanner().reader.change_versions([entry.symbol])
    shown = {
        name: typed.get(name, "") if typed is not None else _text(fields[name])
        for name in ENTRY_FIELDS
    }
    return {
        "entry_id": entry_id,
        "entry": entry,
        "fields": fields,
        "shown": shown,
        "editing": editing,
        "error": error,
        "message": message,
        "waiting": waiting,
        "assumption_names": list(RULES),
    }


def _text(value: Any) -> str:
    """A field's value as the form shows it (empty: not set)."""
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def page_context(
    user_id: int, messages: list[str], errors: list[str], typed: str = ""
) -> dict[str, Any]:
    """The page: messages, the rows, the cash and the changed-file notice."""
    scanner = current_scanner()
    mine = scanner.watchlists.read(user_id)
    symbols = mine.watchlist.symbols()
    reached = scanner.reader.change_versions(symbols)
    path = Path(scanner.settings["WATCHLIST_FILE"])
    return {
        "messages": messages,
        "errors": errors,
        "typed": typed,
        "rows": [
            row_context(mine.ids[entry.symbol], entry, waiting=entry.symbol not in reached)
            for entry in mine.entries
        ],
        "cash": mine.cash,
        "default_cash": scanner.settings["CASH_AVAILABLE"],
        "file_changed": CHANGED_NOTICE.format(name=path.name)
        if changed_file(scanner.database, path, user_id)
        else None,
    }
