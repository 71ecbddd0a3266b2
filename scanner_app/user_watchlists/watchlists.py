"""The watchlists as the app uses them: the store's changes, each followed by the Redis
copies (the universe and the user's symbols), and the universe a scan reads, from the
database or, when it is down, from the last copy."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import redis
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..db import describe_database_error
from ..redis_door import REDIS_ERRORS, Keys
from ..watchlist import WatchlistEntry
from .copies import load_universe, save_universe, save_user_symbols
from .entries import ImportOutcome, UserWatchlist, WatchlistStore
from .seeding import seed_once
from .universe import Universe, read_universe

log = logging.getLogger(__name__)


class Watchlists:
    """Every user's watchlist: the database (``store``) and its copies in Redis.

    The changing methods raise SQLAlchemyError when the database does not answer (then
    nothing changed); a Redis failure after a change is logged, and the copies are
    rewritten at the next change or scan."""

    def __init__(self, engine: Engine, client: redis.Redis, keys: Keys) -> None:
        self.store = WatchlistStore(engine)
        self.engine = engine
        self.client = client
        self.keys = keys

    def read(self, user_id: int) -> UserWatchlist:
        """``user_id``'s watchlist and cash."""
        return self.store.read(user_id)

    def add_symbols(self, user_id: int, symbols: Iterable[str]) -> list[str]:
        """Add the symbols not listed yet; those added."""
        added = self.store.add_symbols(user_id, symbols)
        self.publish(user_id)
        return added

    def update(self, user_id: int, entry_id: int, entry: WatchlistEntry) -> bool:
        """Replace the figures of an entry of ``user_id``'s; False when not theirs."""
        changed = self.store.update(user_id, entry_id, entry)
        if changed:
            self.publish(user_id)
        return changed

    def remove(self, user_id: int, entry_id: int) -> str | None:
        """Remove an entry of ``user_id``'s; its symbol, None when not theirs."""
        symbol = self.store.remove(user_id, entry_id)
        if symbol is not None:
            self.publish(user_id)
        return symbol

    def import_entries(
        self, user_id: int, entries: list[WatchlistEntry], replace: bool = False
    ) -> ImportOutcome:
        """Add and update ``entries`` (``replace``: the list becomes exactly them)."""
        outcome = self.store.import_entries(user_id, entries, replace)
        self.publish(user_id)
        return outcome

    def publish(self, user_id: int | None = None) -> Universe:
        """Read the universe (one query) and rewrite its Redis copies, with ``user_id``'s
        set even when they have no entry left; a Redis failure is logged."""
        universe = read_universe(self.engine)
        try:
            save_universe(self.client, self.keys, universe, [] if user_id is None else [user_id])
        except REDIS_ERRORS as error:
            log.warning("watchlist copies not stored in Redis: %s", error)
        return universe

    def universe(self) -> Universe:
        """The universe to scan: the database's (its copies refreshed), or the last copy
        in Redis when the database does not answer (empty when there is none either)."""
        try:
            return self.publish()
        except SQLAlchemyError as error:
            reason = describe_database_error(error)
        try:
            copy = load_universe(self.client, self.keys)
        except REDIS_ERRORS as error:
            log.error("no universe to scan: %s, and Redis: %s", reason, error)
            return Universe()
        if copy is None:
            log.error("no universe to scan: %s, and no copy in Redis", reason)
            return Universe()
        log.warning("%s: scanning the last known universe (%d tickers)", reason, len(copy))
        return copy

    def own_symbols(self, user_id: int) -> list[str]:
        """``user_id``'s symbols, from the database, their Redis set rewritten (for a page
        that found the set missing); [] when the database does not answer (logged)."""
        try:
            symbols = list(self.store.read(user_id).watchlist.symbols())
        except SQLAlchemyError as error:
            log.warning("symbols of user %s unreadable: %s", user_id, error)
            return []
        try:
            save_user_symbols(self.client, self.keys, user_id, symbols)
        except REDIS_ERRORS as error:
            log.warning("symbols of user %s not stored in Redis: %s", user_id, error)
        return symbols

    def start(self, path: Path, local_mode: bool) -> Universe:
        """At the app's start: seed from ``WATCHLIST_FILE`` once (or log that it changed)
        and refresh the copies; the universe known then. A database that does not answer
        is logged, never raised: the app starts all the same."""
        try:
            seed_once(self.engine, path, local_mode)
            return self.publish()
        except SQLAlchemyError as error:
            log.warning(
                "watchlists not read at start-up: %s; the last known universe is scanned "
                "until the database answers",
                describe_database_error(error),
            )
            return Universe()
