"""Plain, JSON-able data that flows from a market provider to the screen."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class OptionQuote:
    """One put contract as a provider reports it, cleaned: missing numbers are None."""

    contract_symbol: str
    expiration: date
    strike: float
    bid: float | None
    ask: float | None
    last: float | None
    volume: int | None
    open_interest: int | None
    implied_volatility: float | None
    last_trade: datetime | None


@dataclass(frozen=True)
class PutChain:
    """The puts of one expiration of one ticker, with the underlying's spot price."""

    ticker: str
    expiration: date
    spot: float
    puts: tuple[OptionQuote, ...]


@dataclass(frozen=True)
class ScreenedPut:
    """A put with every computed field, plus the inputs it was computed from.

    ``delta`` and ``prob_otm`` come from Black-Scholes with T = dte / 365, the row's
    ``spot``, ``strike`` and ``iv`` and the risk-free rate of the scan, so anyone can
    reproduce them from the row alone.
    """

    ticker: str
    contract_symbol: str
    expiration: str  # ISO date
    strike: float
    bid: float
    ask: float | None
    last: float | None
    volume: int | None
    open_interest: int | None
    iv: float
    spot: float
    dte: int
    annualized: float  # % per year on collateral
    pct_otm: float  # (spot - strike) / strike * 100
    delta: float
    prob_otm: float  # 0..1
    breakeven: float
    premium: float  # per contract, bid x 100
    collateral: float  # per contract, strike x 100
    spread_pct: float | None  # (ask - bid) / mid * 100

    def to_dict(self) -> dict[str, Any]:
        """The row as a JSON-able dict."""
        return asdict(self)
