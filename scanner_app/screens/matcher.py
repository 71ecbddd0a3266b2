"""Which stored rows meet each saved screen, for every screen in one pass.

The rows are read once (a stream over the working set), turned into columns of numbers,
and each screen's filters become a few comparisons over whole columns: 200 screens over
a 5000-ticker scan cost milliseconds each, not a page query per screen. The comparisons
mean exactly what ``row_filters.filter_rows`` means (``tests/test_matcher.py`` holds one
to the other): a missing open interest or volume counts as 0, any other missing figure
fails a limit on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from ..numbers import finite_number
from .query import ResultFilters
from .row_filters import volume_to_open_interest

#: (symbol, its rows) of one side, as ``ResultReader.stream_rows`` yields them
RowStream = Iterable[tuple[str, list[dict[str, Any]]]]


@dataclass(frozen=True)
class ScreenView:
    """What one screen asks for: its filters on one side, over ``symbols`` (None: every
    ticker)."""

    screen_id: int
    side: str
    filters: ResultFilters
    symbols: frozenset[str] | None = None


def _figure(value: Any) -> float:
    """A finite number, or NaN (which fails every comparison)."""
    number = finite_number(value)
    return np.nan if number is None else float(number)


class RowColumns:
    """One side's rows as columns: each figure a filter reads, one entry per row."""

    def __init__(self, stream: RowStream, fair_value: Callable[[str], float | None]) -> None:
        self.rows: list[dict[str, Any]] = []
        self.tickers: dict[str, int] = {}
        owners: list[int] = []
        figures: list[tuple[float, ...]] = []
        for symbol, rows in stream:
            fair = _figure(fair_value(symbol))
            code = self.tickers.setdefault(symbol, len(self.tickers))
            for row in rows:
                if not isinstance(row, Mapping):
                    continue
                self.rows.append(row)
                owners.append(code)
                figures.append(
                    (
                        _figure(row.get("annualized")),
                        _figure(row.get("delta")),
                        finite_number(row.get("open_interest")) or 0.0,
                        finite_number(row.get("volume")) or 0.0,
                        _figure(volume_to_open_interest(row)),
                        _figure(row.get("spread_pct")),
                        _figure(row.get("iv_rank")),
                        _figure(row.get("dte")),
                        1.0 if row.get("earnings_before_expiry") is True else 0.0,
                        _figure(row.get("strike")),
                        fair,
                    )
                )
        table = np.array(figures, dtype=float).reshape(len(figures), 11)
        (
            self.annualized,
            self.delta,
            self.open_interest,
            self.volume,
            self.vol_oi,
            self.spread,
            self.iv_rank,
            self.dte,
            self.earnings,
            self.strike,
            self.fair_value,
        ) = table.T
        self.owners = np.array(owners, dtype=np.int64)
        self.contracts = np.array(
            [str(row.get("contract_symbol")) for row in self.rows], dtype=object
        )
        self._by_symbols: dict[frozenset[str], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def among(self, symbols: frozenset[str]) -> np.ndarray:
        """Which rows belong to ``symbols`` (computed once per set of symbols)."""
        if symbols not in self._by_symbols:
            chosen = np.zeros(len(self.tickers), dtype=bool)
            chosen[[self.tickers[s] for s in symbols if s in self.tickers]] = True
            self._by_symbols[symbols] = chosen[self.owners]
        return self._by_symbols[symbols]

    def matching(self, filters: ResultFilters, side: str) -> np.ndarray:
        """Which rows meet ``filters`` (see ``row_filters._passes``)."""
        keep = np.ones(len(self.rows), dtype=bool)
        with np.errstate(invalid="ignore"):
            for column, limit in (
                (self.annualized, filters.min_annualized),
                (self.open_interest, filters.min_open_interest),
                (self.volume, filters.min_volume),
                (self.vol_oi, filters.min_vol_oi),
                (self.iv_rank, filters.min_iv_rank),
                (self.dte, filters.min_dte),
            ):
                if limit is not None:
                    keep &= column >= limit
            for column, limit in ((self.spread, filters.max_spread), (self.dte, filters.max_dte)):
                if limit is not None:
                    keep &= column <= limit
            if filters.min_delta is not None:
                # a call's positive delta is held to the same |delta| limit
                keep &= (
                    self.delta <= -filters.min_delta
                    if side == "call"
                    else self.delta >= filters.min_delta
                )
            if filters.exclude_earnings:
                keep &= self.earnings == 0.0
            if filters.at_or_below_fair_value and side == "put":
                keep &= self.strike <= self.fair_value
        return keep


@dataclass(frozen=True)
class Matches:
    """The rows of one side that meet one screen (positions in ``columns``)."""

    columns: RowColumns
    positions: np.ndarray

    def contracts(self) -> list[str]:
        """The matching contracts' symbols (each once: a side has a row per contract)."""
        return self.columns.contracts[self.positions].tolist()

    def rows(self, only: set[str] | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """The matching rows in symbol order (``only``: of these contracts alone; ``limit``:
        the first so many)."""
        positions: Iterable[int] = self.positions.tolist()
        if only is not None:
            contracts = self.columns.contracts[self.positions].tolist()
            positions = (
                position
                for position, contract in zip(positions, contracts, strict=True)
                if contract in only
            )
        return [self.columns.rows[position] for position in islice(positions, limit)]


def match_screens(
    screens: Sequence[ScreenView],
    stream: Callable[[str], RowStream],
    fair_value: Callable[[str], float | None],
) -> dict[int, Matches]:
    """Each screen's matching rows, in symbol order: every side's rows read once
    (``stream(side)``), whatever the number of screens."""
    matched: dict[int, Matches] = {}
    for side in sorted({screen.side for screen in screens}):
        columns = RowColumns(stream(side), fair_value)
        for screen in (screen for screen in screens if screen.side == side):
            keep = columns.matching(screen.filters, side)
            if screen.symbols is not None:
                keep &= columns.among(screen.symbols)
            matched[screen.screen_id] = Matches(columns, np.flatnonzero(keep))
    return matched
