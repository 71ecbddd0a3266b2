"""One user's watchlist in the database: read it, add symbols, edit, remove and import
entries, and their cash for sizing. Every call names the user; an entry id that is not
theirs is treated as missing."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Text, cast, delete, func, select
from sqlalchemy.orm import Session

from ..db.account_tables import User, WatchlistRow
from ..watchlist import Position, Watchlist, WatchlistEntry

#: How an empty ``assumptions`` object comes back as text (SQLite; PostgreSQL's json).
EMPTY_JSON = frozenset({"{}", "null"})


def entry_of(row: Any, assumptions: dict[str, Any] | None = None) -> WatchlistEntry:
    """The validated entry a stored row holds (an ORM object, or a plain row with its
    ``assumptions`` given already decoded)."""
    position = None if row.shares is None else Position(row.shares, row.cost_basis)
    if assumptions is None:
        assumptions = dict(row.assumptions or {})
    return WatchlistEntry(row.symbol, row.fair_value, position, assumptions)


def _decoded(stored: str | None) -> dict[str, Any]:
    """Assumptions from their stored JSON text: most entries have none, and a page reads
    every entry on every request, so an empty object is not parsed."""
    return {} if stored is None or stored in EMPTY_JSON else dict(json.loads(stored))


def _fill(row: WatchlistRow, entry: WatchlistEntry) -> None:
    """Copy ``entry``'s figures into ``row`` (its symbol stays)."""
    row.fair_value = entry.fair_value
    row.shares = entry.position.shares if entry.position else None
    row.cost_basis = entry.position.cost_basis if entry.position else None
    row.assumptions = dict(entry.assumptions)


@dataclass(frozen=True)
class UserWatchlist:
    """A user's entries in their order, each entry's id by symbol, and their own cash
    (None: ``CASH_AVAILABLE``)."""

    watchlist: Watchlist
    ids: dict[str, int] = field(default_factory=dict)
    cash: float | None = None

    @property
    def entries(self) -> tuple[WatchlistEntry, ...]:
        """The entries, in the user's order."""
        return self.watchlist.entries


@dataclass(frozen=True)
class ImportOutcome:
    """What an import changed: symbols added, updated and (with replace) removed."""

    added: list[str]
    updated: list[str]
    removed: list[str]

    def summary(self) -> str:
        """``3 added, 1 updated, 0 removed``."""
        return f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed"


class WatchlistStore:
    """The ``watchlist_entries`` rows and ``users.cash_available`` of one database.

    Raises SQLAlchemyError when the database does not answer (nothing is half written:
    each change is one transaction)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def read(self, user_id: int) -> UserWatchlist:
        """``user_id``'s watchlist and cash (plain rows, not ORM objects: a page reads the
        whole list on every request)."""
        table = WatchlistRow.__table__
        columns = [table.c[name] for name in ("id", "symbol", "fair_value", "shares", "cost_basis")]
        with Session(self.engine) as session:
            rows = session.execute(
                select(*columns, cast(table.c.assumptions, Text).label("assumptions"))
                .where(table.c.user_id == user_id)
                .order_by(table.c.position, table.c.id)
            ).all()
            cash = session.scalar(select(User.cash_available).where(User.id == user_id))
            return UserWatchlist(
                Watchlist(tuple(entry_of(row, _decoded(row.assumptions)) for row in rows)),
                {row.symbol: row.id for row in rows},
                cash,
            )

    def entry(self, user_id: int, entry_id: int) -> WatchlistEntry | None:
        """The entry ``entry_id`` if it is ``user_id``'s, else None."""
        with Session(self.engine) as session:
            row = self._owned(session, user_id, entry_id)
            return None if row is None else entry_of(row)

    @staticmethod
    def _owned(session: Session, user_id: int, entry_id: int) -> WatchlistRow | None:
        """The row ``entry_id`` if it is ``user_id``'s, else None."""
        row = session.get(WatchlistRow, entry_id)
        return row if row is not None and row.user_id == user_id else None

    @staticmethod
    def _next_position(session: Session, user_id: int) -> int:
        """The place after ``user_id``'s last entry."""
        last = session.scalar(
            select(func.max(WatchlistRow.position)).where(WatchlistRow.user_id == user_id)
        )
        return 0 if last is None else last + 1

    def add_symbols(self, user_id: int, symbols: Iterable[str]) -> list[str]:
        """Append the (valid, upper-case) ``symbols`` not on the list yet; those added."""
        with Session(self.engine) as session, session.begin():
            have = set(
                session.scalars(select(WatchlistRow.symbol).where(WatchlistRow.user_id == user_id))
            )
            added = [symbol for symbol in dict.fromkeys(symbols) if symbol not in have]
            start = self._next_position(session, user_id)
            session.add_all(
                WatchlistRow(
                    user_id=user_id, symbol=symbol, position=start + offset, assumptions={}
                )
                for offset, symbol in enumerate(added)
            )
        return added

    def update(self, user_id: int, entry_id: int, entry: WatchlistEntry) -> bool:
        """Replace the figures of ``user_id``'s entry ``entry_id`` with ``entry``'s; False
        when it is not theirs (or gone)."""
        with Session(self.engine) as session, session.begin():
            row = self._owned(session, user_id, entry_id)
            if row is None:
                return False
            _fill(row, entry)
        return True

    def remove(self, user_id: int, entry_id: int) -> str | None:
        """Remove ``user_id``'s entry ``entry_id``; its symbol, None when not theirs."""
        with Session(self.engine) as session, session.begin():
            row = self._owned(session, user_id, entry_id)
            if row is None:
                return None
            session.delete(row)
            return row.symbol

    def import_entries(
        self, user_id: int, entries: list[WatchlistEntry], replace: bool = False
    ) -> ImportOutcome:
        """Add the new symbols of ``entries`` and update the listed ones; with ``replace``
        also remove the others, so the list becomes exactly ``entries`` (in their order)."""
        with Session(self.engine) as session, session.begin():
            rows = {
                row.symbol: row
                for row in session.scalars(
                    select(WatchlistRow).where(WatchlistRow.user_id == user_id)
                )
            }
            wanted = {entry.symbol for entry in entries}
            removed = sorted(set(rows) - wanted) if replace else []
            if removed:
                session.execute(
                    delete(WatchlistRow).where(
                        WatchlistRow.user_id == user_id, WatchlistRow.symbol.in_(removed)
                    )
                )
            start = self._next_position(session, user_id) if not replace else 0
            added, updated = [], []
            for offset, entry in enumerate(entries):
                row = rows.get(entry.symbol)
                if row is None:
                    row = WatchlistRow(user_id=user_id, symbol=entry.symbol, position=0)
                    session.add(row)
                    added.append(entry.symbol)
                else:
                    updated.append(entry.symbol)
                if replace or row in session.new:
                    row.position = start + offset
                _fill(row, entry)
        return ImportOutcome(added, updated, removed)

    def set_cash(self, user_id: int, cash: float | None) -> None:
        """Set ``user_id``'s cash for sizing (None: back to ``CASH_AVAILABLE``)."""
        with Session(self.engine) as session, session.begin():
            user = session.get(User, user_id)
            if user is not None:
                user.cash_available = cash

    def holds_any(self) -> bool:
        """Whether anyone has a watchlist entry."""
        with Session(self.engine) as session:
            return session.scalar(select(WatchlistRow.id).limit(1)) is not None

    def holds_symbol(self, symbol: str) -> bool:
        """Whether ``symbol`` is on anyone's watchlist (an indexed lookup)."""
        with Session(self.engine) as session:
            found = select(WatchlistRow.id).where(WatchlistRow.symbol == symbol).limit(1)
            return session.scalar(found) is not None
