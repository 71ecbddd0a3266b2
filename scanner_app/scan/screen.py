"""Turning raw option quotes into computed rows and keeping the ones worth selling: puts
that secure cash, and covered calls on held shares."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..market import pricing
from ..market.models import OptionQuote, PutChain, ScreenedCall, ScreenedPut, SpotSource
from ..watchlist import Position

MAX_USABLE_IV = 5.0
#: The highest call delta sold, by days to expiration: (up to DTE, target); beyond the
#: last step, ``LATE_CALL_DELTA``.
CALL_DELTA_TARGETS = ((7, 0.20), (14, 0.24), (21, 0.28), (28, 0.32))
LATE_CALL_DELTA = 0.36


@dataclass(frozen=True)
class Criteria:
    """The thresholds a put (and, for ``min_call_annualized``, a call) must meet to be listed."""

    min_annualized: float = 30.0
    min_call_annualized: float = 20.0
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
            min_call_annualized=settings["MIN_CALL_ANNUALIZED"],
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


@dataclass(frozen=True)
class _Side:
    """What tells a put's maths from a call's."""

    delta_range: tuple[float, float]
    bs_delta: Callable[..., float]
    prob_otm: Callable[..., float]
    pct_otm: Callable[[float, float], float]


_PUT = _Side((-1.0, 0.0), pricing.bs_put_delta, pricing.prob_expire_otm, pricing.pct_otm)
_CALL = _Side((0.0, 1.0), pricing.bs_call_delta, pricing.call_prob_expire_otm, pricing.call_pct_otm)


def _api_delta(quote: OptionQuote, side: _Side) -> float | None:
    """The provider's delta, when it sent a plausible one for the side (-1 to 0 for a put,
    0 to 1 for a call)."""
    delta = quote.delta
    low, high = side.delta_range
    return delta if delta is not None and math.isfinite(delta) and low <= delta <= high else None


def _evaluate(
    side: _Side,
    ticker: str,
    quote: OptionQuote,
    spot: float,
    today: date,
    rate: float,
    spot_source: SpotSource,
) -> ScreenedPut | None:
    """The contract with every computed field (put-shaped), or None when it can't be priced.

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
    api_delta = _api_delta(quote, side)
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
        pct_otm=side.pct_otm(spot, quote.strike),
        delta=side.bs_delta(*model_inputs) if api_delta is None else api_delta,
        prob_otm=side.prob_otm(*model_inputs),
        breakeven=quote.strike - quote.bid,
        premium=quote.bid * 100.0,
        collateral=quote.strike * 100.0,
        spread_pct=pricing.spread_pct(quote.bid, ask),
        delta_source="black_scholes" if api_delta is None else "api",
        spot_source=spot_source,
    )


def evaluate_put(
    ticker: str,
    quote: OptionQuote,
    spot: float,
    today: date,
    rate: float,
    spot_source: SpotSource = "regular",
) -> ScreenedPut | None:
    """The put with every computed field, or None when its quote can't be priced."""
    return _evaluate(_PUT, ticker, quote, spot, today, rate, spot_source)


def evaluate_call(
    ticker: str,
    quote: OptionQuote,
    spot: float,
    today: date,
    rate: float,
    position: Position,
    spot_source: SpotSource = "regular",
) -> ScreenedCall | None:
    """The covered call with every computed field, or None when its quote can't be priced.

    Its ``collateral`` is the 100 shares at the spot, its ``breakeven`` the cost basis
    (else the spot) less the bid, and ``called_away_annualized`` its return if called away.
    """
    row = _evaluate(_CALL, ticker, quote, spot, today, rate, spot_source)
    if row is None:
        return None
    basis = position.cost_basis
    owned_at = spot if basis is None else basis
    shared = {**row.to_dict(), "collateral": spot * 100.0}
    shared["breakeven"] = owned_at - quote.bid
    called_away = pricing.called_away_return(quote.bid, quote.strike, owned_at, row.dte)
    return ScreenedCall(
        **shared,
        contracts=position.contracts,
        cost_basis=basis,
        called_away_annualized=called_away,
    )


def call_delta_target(dte: int) -> float:
    """The highest call delta worth selling ``dte`` days out (``CALL_DELTA_TARGETS``)."""
    return next((target for days, target in CALL_DELTA_TARGETS if dte <= days), LATE_CALL_DELTA)


def _liquid(row: ScreenedPut, criteria: Criteria) -> bool:
    """Whether a row's open interest, volume and spread pass ``criteria``."""
    spread_too_wide = (
        criteria.max_spread_pct is not None
        and row.spread_pct is not None
        and row.spread_pct > criteria.max_spread_pct
    )
    return (
        (row.open_interest or 0) >= criteria.min_open_interest
        and (row.volume or 0) >= criteria.min_volume
        and not spread_too_wide
    )


def _meets(row: ScreenedPut, criteria: Criteria) -> bool:
    """Whether a computed put passes every filter of ``criteria``."""
    return (
        row.strike < row.spot
        and row.annualized >= criteria.min_annualized
        and row.delta >= criteria.min_delta
        and row.dte >= criteria.min_dte
        and _liquid(row, criteria)
    )


def _call_meets(row: ScreenedCall, criteria: Criteria) -> bool:
    """Whether a computed call passes: above the spot and the cost basis, paying at least
    ``min_call_annualized``, at or under the delta target of its DTE, and liquid."""
    return (
        row.strike > row.spot
        and (row.cost_basis is None or row.strike >= row.cost_basis)
        and row.annualized >= criteria.min_call_annualized
        and row.delta <= call_delta_target(row.dte)
        and row.dte >= criteria.min_dte
        and _liquid(row, criteria)
    )


def sort_puts(rows: Iterable[ScreenedPut]) -> list[ScreenedPut]:
    """Rows by expiration, then strike from highest to lowest."""
    return sorted(rows, key=lambda row: (row.expiration, -row.strike))


def sort_calls(rows: Iterable[ScreenedCall]) -> list[ScreenedCall]:
    """Rows by expiration, then strike from lowest to highest (nearest the spot first)."""
    return sorted(rows, key=lambda row: (row.expiration, row.strike))


def screen_chain(
    chain: PutChain, today: date, criteria: Criteria, rate: float
) -> list[ScreenedPut]:
    """The out-of-the-money puts of ``chain`` that meet ``criteria``, in display order."""
    rows = (
        evaluate_put(chain.ticker, quote, chain.spot, today, rate, chain.spot_source)
        for quote in chain.puts
    )
    return sort_puts(row for row in rows if row is not None and _meets(row, criteria))


def screen_calls(
    chain: PutChain, today: date, criteria: Criteria, rate: float, position: Position
) -> list[ScreenedCall]:
    """The calls of ``chain`` worth selling against ``position``, in display order."""
    rows = (
        evaluate_call(chain.ticker, quote, chain.spot, today, rate, position, chain.spot_source)
        for quote in chain.calls
    )
    return sort_calls(row for row in rows if row is not None and _call_meets(row, criteria))
