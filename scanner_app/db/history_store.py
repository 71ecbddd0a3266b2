"""The history's queries: days and contracts written in batches (upserts, never
read-then-write), the IV30 windows a scan ranks against (summed up by the database), a
ticker's stored days, pruning.

Every write is a multi-row ``INSERT ... ON CONFLICT`` on SQLite and PostgreSQL alike, so
several workers writing at once neither lose nor duplicate a day; a scan's batch (its days,
the bars it backfills, its contracts and the windows it ranks against) is one transaction
on one connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from .tables import QUALIFIED_CONTRACTS, TICKER_DAYS

#: Figures of a stored day, in the order of the table's columns.
FIGURES = ("close", "iv30", "hv20")
#: The columns a qualifying contract brings: (contract symbol, ticker, side).
CONTRACT_COLUMNS = ("contract_symbol", "symbol", "side")
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


@dataclass(frozen=True)
class IvStanding:
    """A ticker's IV30 window summed up: its latest stored day with an IV30, how many days
    the window holds, its lowest and highest IV30, and how many of its days have an IV30
    below the latest's."""

    latest: StoredDay
    days: int
    lowest: float
    highest: float
    below: int

    @property
    def latest_iv30(self) -> float:
        """The latest day's IV30 (the window holds days with one only)."""
        assert self.latest.iv30 is not None
        return self.latest.iv30


@dataclass(frozen=True)
class DayBatch:
    """What one batch of a scan writes under ``day``: the tickers' ``days``, the provider's
    bars that ``backfill`` what is missing, and the (contract, ticker, side) that
    qualified."""

    day: date
    days: Sequence[StoredDay]
    backfill: Sequence[StoredDay] = ()
    contracts: Sequence[tuple[str, str, str]] = ()


def _missing(bars: Sequence[StoredDay], spans: dict[str, tuple]) -> list[StoredDay]:
    """The backfill's bars a day lacks: all of a symbol's when its stored days start after
    its first bar (its first backfill, or only a few days imported); else only those after
    its last stored day (a year already filled in, then a day or a few more each day)."""
    firsts: dict[str, date] = {}
    for bar in bars:
        firsts[bar.symbol] = min(bar.day, firsts.get(bar.symbol, bar.day))
    missing = []
    for bar in bars:
        first, last = spans.get(bar.symbol, (None, None))
        if first is None or first > firsts[bar.symbol] or bar.day > last:
            missing.append(bar)
    return missing


def _chunks(rows: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _standings_query() -> Select:
    """Per symbol of ``:symbols``, its window: the last ``:back`` + 1 days with an IV30 up
    to ``:up_to`` (the bounds found by walking the primary key's index from the newest
    day), summed up: the latest day's figures, the count, the extremes and how many days
    lie below the latest's IV30."""
    table = TICKER_DAYS
    listed = (
        select(table.c.symbol)
        .where(table.c.symbol.in_(bindparam("symbols", expanding=True)))
        .group_by(table.c.symbol)
        .cte("listed")
    )

    def newest(offset: Any) -> Any:
        """The date of the ``offset``-th newest day with an IV30 of ``listed``'s symbol."""
        inner = table.alias()
        query = (
            select(inner.c.date)
            .where(
                inner.c.symbol == listed.c.symbol,
                inner.c.iv30.is_not(None),
                inner.c.date <= bindparam("up_to", type_=Date),
            )
            .order_by(inner.c.date.desc())
        )
        return query.limit(1).offset(offset).scalar_subquery()

    # materialized: each symbol's bounds are found once, not once per row joined
    bounds = (
        select(listed.c.symbol, newest(0).label("last"), newest(bindparam("back")).label("first"))
        .cte("bounds")
        .prefix_with("MATERIALIZED")
    )
    latest, day = table.alias("latest"), table.alias("day")
    in_window = and_(
        day.c.symbol == bounds.c.symbol,
        day.c.iv30.is_not(None),
        day.c.date <= bounds.c.last,
        day.c.date >= func.coalesce(bounds.c.first, date.min),
    )
    figures = [latest.c.symbol, latest.c.date, *(latest.c[name] for name in FIGURES)]
    return (
        select(
            *figures,
            func.count(),
            func.min(day.c.iv30),
            func.max(day.c.iv30),
            func.sum(case((day.c.iv30 < latest.c.iv30, 1), else_=0)),
        )
        .select_from(
            bounds.join(
                latest, and_(latest.c.symbol == bounds.c.symbol, latest.c.date == bounds.c.last)
            ).join(day, in_window)
        )
        .group_by(*figures)
    )


#: Built once: a scan runs it for every batch, and building it cost more than running it.
STANDINGS = _standings_query()


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
        with self.engine.begin() as connection:
            self._upsert_days(connection, days, keep_stored=keep_stored)

    def save_contracts(self, contracts: Sequence[tuple[str, str, str]], day: date) -> set[str]:
        """Record that each (contract symbol, ticker, side) qualified on ``day``, in one
        transaction; returns the contracts of those tickers that first qualified on ``day``."""
        with self.engine.begin() as connection:
            return self._upsert_contracts(connection, contracts, day)

    def save_batch(self, batch: DayBatch, size: int) -> tuple[set[str], dict[str, IvStanding]]:
        """Write ``batch`` and read its tickers' IV30 windows of ``size`` days up to its day,
        in one transaction on one connection: the contracts of its tickers that first
        qualified on its day, and the standings."""
        symbols = {day.symbol for day in batch.days}
        with self.engine.begin() as connection:
            if self._dialect is postgresql:
                # the scan does not wait for the disk: a crash may lose the last moments'
                # batches (the next scan writes them again), never leave one half-written
                connection.execute(text("SET LOCAL synchronous_commit = off"))
            if batch.backfill:
                spans = self._stored_spans(connection, symbols)
                self._upsert_days(connection, _missing(batch.backfill, spans), keep_stored=True)
            self._upsert_days(connection, batch.days)
            news = self._upsert_contracts(connection, batch.contracts, batch.day)
            return news, self._standings(connection, symbols, batch.day, size)

    def _stored_spans(self, connection: Connection, symbols: set[str]) -> dict[str, tuple]:
        """Each symbol's first and last stored day."""
        table = TICKER_DAYS
        query = (
            select(table.c.symbol, func.min(table.c.date), func.max(table.c.date))
            .where(table.c.symbol.in_(sorted(symbols)))
            .group_by(table.c.symbol)
        )
        return {symbol: (first, last) for symbol, first, last in connection.execute(query)}

    def _upsert_days(
        self, connection: Connection, days: Sequence[StoredDay], *, keep_stored: bool = False
    ) -> None:
        rows = [day.values() for day in sorted(days, key=lambda day: (day.symbol, day.day))]
        insert = self._dialect.insert(TICKER_DAYS)
        new, old = insert.excluded, TICKER_DAYS.c
        if keep_stored:  # fill in what is missing; a complete day is not written again
            figures = {name: func.coalesce(old[name], new[name]) for name in FIGURES}
            lacking = [old[name].is_(None) & new[name].is_not(None) for name in FIGURES]
            statement = insert.on_conflict_do_update(
                index_elements=[old.symbol, old.date], set_=figures, where=or_(*lacking)
            )
        else:
            figures = {name: func.coalesce(new[name], old[name]) for name in FIGURES}
            statement = insert.on_conflict_do_update(
                index_elements=[old.symbol, old.date], set_=figures
            )
        for chunk in _chunks(rows):
            connection.execute(statement, list(chunk))

    def _upsert_contracts(
        self, connection: Connection, contracts: Sequence[tuple[str, str, str]], day: date
    ) -> set[str]:
        """Upsert ``contracts`` (a contract's last day only ever moves on; one already
        recorded on ``day``, as after an earlier scan of the day, is not sent again), then
        read which of their tickers' contracts first qualified on ``day``."""
        if not contracts:
            return set()
        table = QUALIFIED_CONTRACTS
        symbols = sorted({symbol for _contract, symbol, _side in contracts})
        recorded = select(table.c.contract_symbol, table.c.first_date).where(
            table.c.symbol.in_(symbols), table.c.last_date >= day
        )
        firsts = dict(connection.execute(recorded).all())
        rows = sorted({row for row in contracts if row[0] not in firsts})
        if not rows:  # a later scan of the day: everything is recorded already
            return {contract for contract, first in firsts.items() if first == day}
        self._send_contracts(connection, rows, day)
        news = select(table.c.contract_symbol).where(
            table.c.symbol.in_(symbols), table.c.first_date == day
        )
        return set(connection.scalars(news))

    def _send_contracts(
        self, connection: Connection, rows: Sequence[tuple[str, str, str]], day: date
    ) -> None:
        """The upsert of ``rows`` as qualifying on ``day``: one statement of three arrays on
        PostgreSQL, chunks of rows on SQLite."""
        table = QUALIFIED_CONTRACTS
        if self._dialect is postgresql:  # the rows as three arrays: one row of parameters
            source = (
                func.unnest(*(cast(bindparam(name), ARRAY(String)) for name in CONTRACT_COLUMNS))
                .table_valued(*CONTRACT_COLUMNS)
                .render_derived()
            )
            first = bindparam("day", type_=Date)
            insert = postgresql.insert(table).from_select(
                [*CONTRACT_COLUMNS, "first_date", "last_date"], select(*source.c, first, first)
            )
            columns = [list(values) for values in zip(*rows, strict=True)]
            parameters: list[dict[str, Any]] = [
                {**dict(zip(CONTRACT_COLUMNS, columns, strict=True)), "day": day}
            ]
        else:
            insert = sqlite.insert(table)
            parameters = [
                {
                    **dict(zip(CONTRACT_COLUMNS, row, strict=True)),
                    "first_date": day,
                    "last_date": day,
                }
                for row in rows
            ]
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.contract_symbol],
            set_={"last_date": insert.excluded.last_date},
            where=table.c.last_date < insert.excluded.last_date,
        )
        for chunk in _chunks(parameters):
            connection.execute(statement, list(chunk))

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

    def fill(self, days: Sequence[StoredDay]) -> None:
        """Store the figures of ``days`` that are missing, never overwriting a stored one."""
        with self.engine.begin() as connection:
            self._upsert_days(connection, days, keep_stored=True)

    def iv_standings(
        self, symbols: Iterable[str], up_to: date | None, size: int
    ) -> dict[str, IvStanding]:
        """Each symbol's window (its last ``size`` days with an IV30, up to and including
        ``up_to``; None: every day) summed up by the database, in one query; a symbol
        without a stored IV30 is left out."""
        with self.engine.connect() as connection:
            return self._standings(connection, set(symbols), up_to, size)

    def _standings(
        self, connection: Connection, symbols: set[str], up_to: date | None, size: int
    ) -> dict[str, IvStanding]:
        """Each symbol's window summed up by ``STANDINGS``, one query."""
        if not symbols:
            return {}
        if self._dialect is postgresql:
            # compiling this short query costs PostgreSQL's JIT more than it ever saves
            connection.execute(text("SET LOCAL jit = off"))
        parameters = {"symbols": sorted(symbols), "up_to": up_to or date.max, "back": size - 1}
        standings = {}
        rows = connection.execute(STANDINGS, parameters)
        for symbol, day_, close, iv30, hv20, days, lowest, highest, below in rows:
            latest_day = StoredDay(symbol, day_, close, iv30, hv20)
            standings[symbol] = IvStanding(latest_day, days, lowest, highest, int(below))
        return standings

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
