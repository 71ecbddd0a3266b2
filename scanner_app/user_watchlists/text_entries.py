"""Watchlist entries typed into the page: many symbols at once ("Add tickers"), and one
entry's fields as text, each validated as the watchlist file is, with its messages."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..valuation.assumptions import RULES
from ..watchlist import WatchlistEntry, WatchlistError, normalize_symbol, parse_entry
from .imports import cell_value

#: The fields of an entry besides its symbol, as the page's form names them.
ENTRY_FIELDS = ("fair_value", "shares", "cost_basis", *RULES)
#: The most symbols one "Add tickers" may add.
MAX_ADDED = 1000
_SEPARATORS = re.compile(r"[\s,]+")
ADD_FIELD = "Add tickers"


def split_symbols(text: str) -> list[str]:
    """The symbols in ``text`` (separated by spaces, commas or new lines), upper-cased, in
    order, once each; raises WatchlistError naming the first that is not a symbol."""
    raws = [raw for raw in _SEPARATORS.split(text) if raw]
    if not raws:
        raise WatchlistError(f"{ADD_FIELD}: type one or more ticker symbols, like AAPL MSFT")
    if len(raws) > MAX_ADDED:
        raise WatchlistError(f"{ADD_FIELD}: at most {MAX_ADDED} symbols at once")
    symbols = []
    for raw in raws:
        symbol = normalize_symbol(raw)
        if symbol is None:
            parse_entry({"symbol": raw}, ADD_FIELD)  # raises the file's message
        symbols.append(symbol)
    return list(dict.fromkeys(symbols))


def entry_from_fields(symbol: str, fields: Mapping[str, str], where: str) -> WatchlistEntry:
    """``symbol``'s entry from the text of ``ENTRY_FIELDS`` (empty: not set), validated as
    a ``[[tickers]]`` table; raises WatchlistError starting with ``where``."""
    table: dict[str, object] = {"symbol": symbol}
    for name in ENTRY_FIELDS:
        raw = (fields.get(name) or "").strip()
        if raw:
            table[name] = cell_value(raw)
    return parse_entry(table, where)
