"""The scan universe: every user's watchlist, each symbol once, read in one query.

One scan serves everyone, so what it needs per symbol is merged from every holder:
- calls are screened for a symbol when anyone holds at least 100 shares of it, down to the
  lowest cost basis among those holders (none when one of them has none), so that each
  holder's own calls (``scan.own_calls``) are among the rows;
- a symbol's fair value is estimated unless every holder set their own, and the estimate
  uses the symbol's own assumptions only when every holder set the same ones (else the
  app's defaults); each user's pages show their own fair value where they set one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, select

from ..db.account_tables import WatchlistRow
from ..watchlist import SHARES_PER_CONTRACT, Position


@dataclass(frozen=True)
class Holding:
    """One user's entry for a symbol, as the universe keeps it."""

    user_id: int
    symbol: str
    fair_value: float | None = None
    shares: int | None = None
    cost_basis: float | None = None
    assumptions: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The holding as JSON-ready data (the Redis copy)."""
        return {
            "user_id": self.user_id,
            "symbol": self.symbol,
            "fair_value": self.fair_value,
            "shares": self.shares,
            "cost_basis": self.cost_basis,
            "assumptions": self.assumptions,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Holding | None:
        """A holding from its JSON data; None when it is not one."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                int(data["user_id"]),
                str(data["symbol"]),
                data.get("fair_value"),
                data.get("shares"),
                data.get("cost_basis"),
                dict(data.get("assumptions") or {}),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Universe:
    """Every user's holdings; the scan reads it as it read the watchlist file."""

    holdings: tuple[Holding, ...] = ()

    def symbols(self) -> list[str]:
        """Every symbol anyone watches, once, in symbol order."""
        return sorted(self._holders)

    def __len__(self) -> int:
        return len(self._holders)

    def by_user(self) -> dict[int, list[str]]:
        """Each user's symbols."""
        found: dict[int, list[str]] = defaultdict(list)
        for holding in self.holdings:
            found[holding.user_id].append(holding.symbol)
        return dict(found)

    @cached_property
    def _holders(self) -> dict[str, list[Holding]]:
        """Each symbol's holdings, in symbol order of first appearance."""
        found: dict[str, list[Holding]] = defaultdict(list)
        for holding in self.holdings:
            found[holding.symbol].append(holding)
        return found

    def positions(self) -> dict[str, Position]:
        """The symbols to screen calls for, with the largest holding's shares and the lowest
        cost basis of those who hold a contract's worth (None when one of them has none)."""
        found = {}
        for symbol, holders in self._holders.items():
            covered = [h for h in holders if (h.shares or 0) >= SHARES_PER_CONTRACT]
            if not covered:
                continue
            bases = [h.cost_basis for h in covered]
            lowest = None if None in bases else min(bases)
            found[symbol] = Position(max(h.shares or 0 for h in covered), lowest)
        return found

    def fair_value(self, symbol: str) -> float | None:
        """The fair value every holder of ``symbol`` set, when they all set the same one;
        else None (the scan estimates it)."""
        values = {h.fair_value for h in self._holders.get(symbol.upper(), [])}
        return values.pop() if len(values) == 1 else None

    def assumptions(self, symbol: str) -> dict[str, Any]:
        """The assumptions every holder of ``symbol`` set, when they all agree; else none
        (the app's defaults)."""
        found = [h.assumptions for h in self._holders.get(symbol.upper(), [])]
        if found and all(own == found[0] for own in found):
            return dict(found[0])
        return {}

    def to_list(self) -> list[dict[str, Any]]:
        """The holdings as JSON-ready data."""
        return [holding.to_dict() for holding in self.holdings]

    @classmethod
    def from_list(cls, data: Any) -> Universe | None:
        """The universe from its JSON data; None when it is not one."""
        if not isinstance(data, list):
            return None
        holdings = [Holding.from_dict(item) for item in data]
        if any(holding is None for holding in holdings):
            return None
        return cls(tuple(holdings))


def holdings_of(rows: Iterable[Any]) -> Universe:
    """The universe of selected ``watchlist_entries`` rows."""
    return Universe(
        tuple(
            Holding(
                row.user_id,
                row.symbol,
                row.fair_value,
                row.shares,
                row.cost_basis,
                dict(row.assumptions or {}),
            )
            for row in rows
        )
    )


def read_universe(engine: Engine) -> Universe:
    """Every user's entries in ONE query, whatever the number of users; raises
    SQLAlchemyError when the database does not answer."""
    query = select(
        WatchlistRow.user_id,
        WatchlistRow.symbol,
        WatchlistRow.fair_value,
        WatchlistRow.shares,
        WatchlistRow.cost_basis,
        WatchlistRow.assumptions,
    ).order_by(WatchlistRow.symbol, WatchlistRow.user_id)
    with engine.connect() as connection:
        return holdings_of(connection.execute(query))
