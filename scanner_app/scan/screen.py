"""Turning raw put quotes into computed rows and keeping the ones worth selling."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..market import pricing
from ..market.models import OptionQuote, PutChain, ScreenedPut, SpotSource

MAX_USABLE_IV = 5.0


@dataclass(frozen=True)
class Criteria:
    """The thresholds a put must meet to be listed."""

    min_annualized: float = 30.0
    min_delta: float = -0.20
    weeks: int = 4
    min_dte: int = 0
    min_open_interest: int = 0
    min_volume: int = 0
    max_spread_pct: float | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Criteria:
        """The criteria configured in a settings dict from ``config.load_settings``."""
        return cls(
            min_annualized=settings["MIN_ANNUALIZED"],
            min_delta=settings["MIN_DELTA"],
            weeks=settings["WEEKS"],
            min_dte=settings["MIN_DTE"],
            min_open_interest=settings["MIN_OPEN_INTEREST"],
            min_volume=settings["MIN_VOLUME"],
            max_spread_pct=settings["MAX_SPREAD_PCT"],
        )


def _usable(value: float | None, upper: float = math.inf) -> bool:
    """Whether ``value`` is a real number with 0 < value <= upper."""
    return value is not None and math.isfinite(value) and 0 < value <= upper


def _api_delta(quote: OptionQuote) -> float | None:
    """The provider's delta of the put, when it sent a plausible one (-1 to 0)."""
    delta = quote.delta
    return delta if delta is not None and math.isfinite(delta) and -1.0 <= delta <= 0.0 else None


def evaluate_put(
    ticker: str,
    quote: OptionQuote,
    spot: float,
    today: date,
    rate: float,
    spot_source: SpotSource = "regular",
) -> ScreenedPut | None:
    """The put with every computed field, or None when its quote can't be priced.

    The delta is the provider's when it sent one, else Black-Scholes (``delta_source``).
    An ask of 0 beside a positive bid is no quote: the ask is missing, the spread unknown.
    """
    if not (
        _usable(quote.bid)
        and _usable(quote.implied_volatility, MAX_USABLE_IV)
        and _usable(quote.strike)
        and _usable(spot)
    ):
        return None
    dte = pricing.days_to_expiry(quote.expiration, today)
    model_inputs = (spot, quote.strike, dte / 365.0, rate, quote.implied_volatility)
    ask = quote.ask if _usable(quote.ask) else None
    api_delta = _api_delta(quote)
    return ScreenedPut(
        ticker=ticker,
        contract_symbol=quote.contract_symbol,
        expiration=quote.expiration.isoformat(),
        strike=quote.strike,
        bid=quote.bid,
        ask=ask,
        last=quote.last,
        volume=quote.volume,
        open_interest=quote.open_interest,
        iv=quote.implied_volatility,
        spot=spot,
        dte=dte,
        annualized=pricing.annualized_return(quote.bid, quote.strike, dte),
        pct_otm=pricing.pct_otm(spot, quote.strike),
        delta=pricing.bs_put_delta(*model_inputs) if api_delta is None else api_delta,
        prob_otm=pricing.prob_expire_otm(*model_inputs),
        breakeven=quote.strike - quote.bid,
        premium=quote.bid * 100.0,
        collateral=quote.strike * 100.0,
        spread_pct=pricing.spread_pct(quote.bid, ask),
        delta_source="black_scholes" if api_delta is None else "api",
        spot_source=spot_source,
    )


def _meets(row: ScreenedPut, criteria: Criteria) -> bool:
    """Whether a computed row passes every filter of ``criteria``."""
    spread_too_wide = (
        criteria.max_spread_pct is not None
        and row.spread_pct is not None
        and row.spread_pct > criteria.max_spread_pct
    )
    return (
        row.strike < row.spot
        and row.annualized >= criteria.min_annualized
        and row.delta >= criteria.min_delta
        and row.dte >= criteria.min_dte
        and (row.open_interest or 0) >= criteria.min_open_interest
        and (row.volume or 0) >= criteria.min_volume
        and not spread_too_wide
    )


def sort_puts(rows: Iterable[ScreenedPut]) -> list[ScreenedPut]:
    """Rows by expiration, then strike from highest to lowest."""
    return sorted(rows, key=lambda row: (row.expiration, -row.strike))


def screen_chain(
    chain: PutChain, today: date, criteria: Criteria, rate: float
) -> list[ScreenedPut]:
    """The out-of-the-money puts of ``chain`` that meet ``criteria``, in display order."""
    rows = (
        evaluate_put(chain.ticker, quote, chain.spot, today, rate, chain.spot_source)
        for quote in chain.puts
    )
    return sort_puts(row for row in rows if row is not None and _meets(row, criteria))
