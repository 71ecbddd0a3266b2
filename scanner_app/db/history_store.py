"""The history's queries: days and contracts written in batches (upserts, never
read-then-write), the IV30 windows a scan ranks against, a ticker's stored days, pruning.

Every write is one statement per batch in one transaction, on SQLite and PostgreSQL alike
(``INSERT ... ON CONFLICT``), so several workers writing at once neither lose nor duplicate
a day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from .tables import QUALIFIED_CONTRACTS, TICKER_DAYS

#: Figures of a stored day, in the order of the table's columns.
FIGURES = ("close", "iv30", "hv20")
#: Rows per statement: SQLite allows 32766 bound parameters in one.
CHUNK = 1000


@dataclass(frozen=True)
class StoredDay:
    """One ticker's figures on one trading day (None where unknown)."""

    symbol: str
    day: date
    close: float | None = None
    iv30: float | None = None
    hv20: float | None = None

    def values(self) -> dict[str, Any]:
        """The row to write."""
        return {
            "symbol": self.symbol,
            "date": self.day,
            "close": self.close,
            "iv30": self.iv30,
            "hv20": self.hv20,
        }


def _chunks(rows: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


class HistoryStore:
    """Reads and writes the history through one engine (SQLite or PostgreSQL).

    Raises SQLAlchemy's errors when the database fails; callers decide what that means.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = postgresql if engine.dialect.name == "postgresql" else sqlite

    # -- writing ---------------------------------------------------------------------------

    def save_days(self, days: Sequence[StoredDay], *, keep_stored: bool = False) -> None:
        """Upsert ``days`` in one transaction. A figure given replaces the stored one (the
        day's last scan wins, an import sets what it brings); a None never erases one. With
        ``keep_stored`` only the figures a day lacks are filled in (backfills)."""
        if not days:
            return
        rows = [day.values() for day in days]
        with self.engine.begin() as connection:
            for chunk in _chunks(rows):
                insert = self._dialect.insert(TICKER_DAYS)
                new, old = insert.excluded, TICKER_DAYS.c
                first, second = (old, new) if keep_stored else (new, old)
                statement = insert.on_conflict_do_update(
                    index_elements=[old.symbol, old.date],
                    set_={name: func.coalesce(first[name], second[name]) for name in FIGURES},
                )
                connection.execute(statement, list(chunk))

    def save_contracts(
        self, contracts: Sequence[tuple[str, str, str]], day: date
    ) -> dict[str, date]:
        """Record that each (contract symbol, ticker, side) qualified on ``day``; returns
        each contract's first qualifying day, in one transaction."""
        if not contracts:
            return {}
        firsts: dict[str, date] = {}
        table = QUALIFIED_CONTRACTS
        with self.engine.begin() as connection:
            for chunk in _chunks(sorted(set(contracts))):
                insert = self._dialect.insert(table)
                statement = insert.on_conflict_do_update(
                    index_elements=[table.c.contract_symbol],
                    set_={"last_date": insert.excluded.last_date, "symbol": table.c.symbol},
                ).returning(table.c.contract_symbol, table.c.first_date)
                rows = [
                    {
                        "contract_symbol": contract,
                        "symbol": symbol,
                        "side": side,
                        "first_date": day,
                        "last_date": day,
                    }
                    for contract, symbol, side in chunk
                ]
                for contract, first in connection.execute(statement, rows):
                    firsts[contract] = first
        return firsts

    def prune(self, before: date) -> int:
        """Delete the days before ``before`` and the contracts last seen before it; how many
        days went."""
        with self.engine.begin() as connection:
            gone = connection.execute(delete(TICKER_DAYS).where(TICKER_DAYS.c.date < before))
            connection.execute(
                delete(QUALIFIED_CONTRACTS).where(QUALIFIED_CONTRACTS.c.last_date < before)
            )
        return gone.rowcount or 0

    # -- reading ---------------------------------------------------------------------------

    def iv_windows(
        self, symbols: Iterable[str], up_to: date | None, size: int
    ) -> dict[str, list[StoredDay]]:
        """Each symbol's last ``size`` days with an IV30, up to and including ``up_to``
        (None: every day), newest first, in one query."""
        symbols = sorted(set(symbols))
        if not symbols:
            return {}
        table = TICKER_DAYS
        conditions = [table.c.symbol.in_(symbols), table.c.iv30.is_not(None)]
        if up_to is not None:
            conditions.append(table.c.date <= up_to)
        rank = func.row_number().over(partition_by=table.c.symbol, order_by=table.c.date.desc())
        ranked = select(*table.c, rank.label("rank")).where(*conditions).subquery()
        query = (
            select(*(ranked.c[name] for name in ("symbol", "date", *FIGURES)))
            .where(ranked.c.rank <= size)
            .order_by(ranked.c.symbol, ranked.c.date.desc())
        )
        windows: dict[str, list[StoredDay]] = {symbol: [] for symbol in symbols}
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                windows[row.symbol].append(StoredDay(row.symbol, row.date, *row[2:]))
        return windows

    def days(self, symbol: str) -> list[StoredDay]:
        """Every stored day of ``symbol``, oldest first."""
        table = TICKER_DAYS
        query = select(*table.c).where(table.c.symbol == symbol).order_by(table.c.date)
        with self.engine.connect() as connection:
            return [StoredDay(row.symbol, row.date, *row[2:]) for row in connection.execute(query)]

    def has_days(self, symbol: str) -> bool:
        """Whether ``symbol`` has any stored day."""
        table = TICKER_DAYS
        query = select(table.c.symbol).where(table.c.symbol == symbol).limit(1)
        with self.engine.connect() as connection:
            return connection.execute(query).first() is not None
