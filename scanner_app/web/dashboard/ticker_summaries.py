"""Dashboard rows: one summary per ticker, and the order the sort puts them in.

The order is the one Redis keeps in its sorted sets, so a page read from an index and a
page computed here agree: by score then symbol (both reversed for a descending sort),
tickers without a value last, by symbol.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...numbers import finite_number
from ...scan.summary import BEST_PUT_FIELDS, BEST_PUT_RANKS
from ...screens.badges import BADGE_RANK, strike_badge

#: The numeric volatility figures of a summary.
FIGURE_NUMBERS = ("iv30", "hv20", "iv_rank", "iv_percentile")


@dataclass(frozen=True)
class TickerSummary:
    """One dashboard row: a ticker's stored facts, with the badge judged now."""

    symbol: str
    badge: str
    puts: int
    spot: float | None
    best_annualized: float | None
    lowest_abs_delta: float | None
    lowest_strike: float | None
    scanned_at: str | None
    fair_value: float | None
    error: str | None
    partial_expirations: tuple[str, ...] = ()
    #: The ticker's volatility figures (``scan.summary.TICKER_FIGURES``), when history is on.
    iv30: float | None = None
    hv20: float | None = None
    iv_rank: float | None = None
    iv_percentile: float | None = None
    iv_history_days: int | None = None
    iv_as_of: str | None = None
    #: The put each contract-figure sort ranks first (sort -> its named fields).
    best: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)

    @property
    def stale(self) -> bool:
        """Whether its puts are an earlier scan's (of ``scanned_at``): the latest fetch failed."""
        return bool(self.puts) and self.error is not None

    def best_put(self, sort: str) -> dict[str, Any] | None:
        """The put the line names under ``sort``: the first under a contract-figure sort,
        else the best annualized (None when the ticker has no put)."""
        return self.best.get(sort if sort in BEST_PUT_RANKS else "annualized")

    @classmethod
    def of(
        cls,
        symbol: str,
        facts: Mapping[str, Any],
        error: str | None,
        fair_value: float | None,
        partial_expirations: Iterable[str] = (),
    ) -> TickerSummary:
        """The row of ``symbol`` from its stored facts (any malformed fact is missing) and
        the expirations that failed in the scan of its puts."""
        puts = facts.get("puts")
        scanned_at = facts.get("scanned_at")
        return cls(
            symbol=symbol,
            badge=strike_badge(facts.get("lowest_strike"), fair_value),
            puts=puts if type(puts) is int and puts >= 0 else 0,
            spot=finite_number(facts.get("spot")),
            best_annualized=finite_number(facts.get("best_annualized")),
            lowest_abs_delta=finite_number(facts.get("lowest_abs_delta")),
            lowest_strike=finite_number(facts.get("lowest_strike")),
            scanned_at=scanned_at if isinstance(scanned_at, str) else None,
            fair_value=fair_value,
            error=error if isinstance(error, str) else None,
            partial_expirations=tuple(partial_expirations),
            best=_best_puts(facts.get("best")),
            **_figures(facts),
        )


def _figures(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The volatility figures among ``facts``; malformed ones are missing."""
    days, as_of = facts.get("iv_history_days"), facts.get("iv_as_of")
    return {
        **{name: finite_number(facts.get(name)) for name in FIGURE_NUMBERS},
        "iv_history_days": days if type(days) is int and days >= 0 else None,
        "iv_as_of": as_of if isinstance(as_of, str) else None,
    }


def _best_puts(stored: Any) -> dict[str, dict[str, Any]]:
    """The stored best puts (sort -> the put's ``BEST_PUT_FIELDS``, a list) by field name,
    without any that is malformed."""
    if not isinstance(stored, Mapping):
        return {}
    return {
        sort: dict(zip(BEST_PUT_FIELDS, put, strict=True))
        for sort, put in stored.items()
        if sort in BEST_PUT_RANKS and isinstance(put, list) and len(put) == len(BEST_PUT_FIELDS)
    }


def order_symbols(scores: Mapping[str, float | None], descending: bool) -> list[str]:
    """The symbols of ``scores`` in sort order, as Redis orders its sorted sets."""
    known = sorted(
        ((score, symbol) for symbol, score in scores.items() if score is not None),
        reverse=descending,
    )
    unknown = sorted(symbol for symbol, score in scores.items() if score is None)
    return [symbol for _score, symbol in known] + unknown


def badge_scores(
    symbols: Iterable[str],
    lowest_strikes: Mapping[str, float],
    fair_value: Any,
) -> dict[str, float | None]:
    """Each symbol's rank in the fair-value sort (None for n/a), judged with today's values."""
    return {
        symbol: BADGE_RANK.get(strike_badge(lowest_strikes.get(symbol), fair_value(symbol)))
        for symbol in symbols
    }
