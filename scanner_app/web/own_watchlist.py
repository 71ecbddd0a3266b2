"""The current user's watchlist for the pages: read once per request from the database,
with the Redis key of their symbols. A database that does not answer leaves the pages
with an empty list and says so (``unavailable``), never a 500."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import request
from sqlalchemy.exc import SQLAlchemyError

from ..db import describe_database_error
from ..scan.own_calls import own_calls
from ..screens.query import ROW_HASHES
from ..services import current_scanner
from ..user_watchlists.entries import UserWatchlist
from ..watchlist import Position, Watchlist
from .auth.identity import current_user_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OwnWatchlist:
    """The user's id, watchlist (empty when unreadable) and why it could not be read."""

    user_id: int | None
    mine: UserWatchlist = field(default_factory=lambda: UserWatchlist(Watchlist(())))
    unavailable: str | None = None

    @property
    def watchlist(self) -> Watchlist:
        """The user's entries as a ``Watchlist`` (fair values, positions, membership)."""
        return self.mine.watchlist

    def cash(self, default: float | None) -> float | None:
        """The user's cash for sizing, else ``default`` (``CASH_AVAILABLE``)."""
        return self.mine.cash if self.mine.cash is not None else default


#: Where a request keeps the user's watchlist once read (its WSGI environ: one per request,
#: where ``g`` may outlive it, as under a test client).
_ENVIRON_KEY = "put_scanner.own_watchlist"


def own_watchlist() -> OwnWatchlist:
    """The current user's watchlist, read once per request."""
    found = request.environ.get(_ENVIRON_KEY)
    if found is None:
        found = request.environ[_ENVIRON_KEY] = _read()
    return found


def _read() -> OwnWatchlist:
    """The user's watchlist from the database, or why it could not be read."""
    user_id = None
    try:
        user_id = current_user_id()
        return OwnWatchlist(user_id, current_scanner().watchlists.read(user_id))
    except SQLAlchemyError as error:
        reason = describe_database_error(error)
        log.warning("watchlist unreadable: %s", reason)
        return OwnWatchlist(user_id, unavailable=reason)


def own_symbols_key(user_id: int) -> str:
    """The Redis key of ``user_id``'s symbols."""
    return current_scanner().watchlists.keys.user_symbols(user_id)


def shown_rows(side: str, everyone: bool) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The rows a user's views list, a batch of tickers at a time: the puts of their own
    symbols (everyone's with ``scope=all``), or the calls of their own positions, sized to
    their shares and cut at their cost basis. Raises CacheUnavailable when Redis fails."""
    reader = current_scanner().reader
    mine = own_watchlist().watchlist
    if side == "call":
        positions = mine.positions()
        return (
            (symbol, own)
            for symbol, rows in reader.rows_of(ROW_HASHES[side], positions)
            if (own := own_calls(rows, positions[symbol]))
        )
    if everyone:
        return reader.stream_rows(ROW_HASHES[side])
    return reader.rows_of(ROW_HASHES[side], mine.symbols())


def is_watched(symbol: str) -> bool:
    """Whether ``symbol`` is on anyone's watchlist (market data is shared); when the
    database does not answer, whether a scan has reached it."""
    try:
        return current_scanner().watchlists.store.holds_symbol(symbol)
    except SQLAlchemyError:
        return bool(current_scanner().reader.change_versions([symbol]))


def position_of(symbol: str) -> Position | None:
    """The current user's position in ``symbol``, if they hold one."""
    return own_watchlist().watchlist.positions().get(symbol)


def own_rows(symbol: str, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ticker's stored ``calls`` as the current user sees them (none without shares)."""
    position = position_of(symbol)
    return [] if position is None else own_calls(calls, position)
