"""Plain, JSON-able data that flows from a market provider to the screen, and the helpers
that clean a provider's raw numbers into it."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Literal

from .errors import UnusableAnswer

logger = logging.getLogger(__name__)

#: Implied volatilities outside this range are placeholders, not market data.
PLAUSIBLE_IV = (0.01, 5.0)
#: Yahoo's placeholder implied volatilities, sent when it has none (outside regular hours).
PLACEHOLDER_IVS = (0.500005, 0.250007, 0.125009, 1e-05)

SpotSource = Literal["regular", "pre", "post"]
DeltaSource = Literal["api", "black_scholes"]


@dataclass(frozen=True)
class OptionQuote:
    """One option contract as a provider reports it, cleaned: missing numbers are None."""

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
    delta: float | None = None  # the provider's own delta, when it sends one


@dataclass(frozen=True)
class PutChain:
    """The puts of one expiration of one ticker, with the underlying's spot price and the
    session that price comes from; ``calls`` only when the feed was opened for calls."""

    ticker: str
    expiration: date
    spot: float
    puts: tuple[OptionQuote, ...]
    spot_source: SpotSource = "regular"
    calls: tuple[OptionQuote, ...] = ()


@dataclass(frozen=True)
class DailyBar:
    """A ticker's close on one trading day, and its IV30 where the provider knows it (the
    demo market's synthetic year)."""

    day: date
    close: float
    iv30: float | None = None


@dataclass(frozen=True)
class ScreenedPut:
    """A put with every computed field, plus the inputs it was computed from.

    ``prob_otm`` comes from Black-Scholes with T = dte / 365, the row's ``spot``, ``strike``
    and ``iv`` and the risk-free rate of the scan, so anyone can reproduce it from the row
    alone; so does ``delta`` when ``delta_source`` is ``black_scholes``. With ``api`` the
    delta is the provider's own. ``spot_source`` says which session's price ``spot`` is.
    ``earnings_date`` is the ticker's next earnings date when known (ISO date), and
    ``earnings_before_expiry`` says whether the put expires on or after it.
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
    delta_source: DeltaSource = "black_scholes"
    spot_source: SpotSource = "regular"
    earnings_date: str | None = None
    earnings_before_expiry: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The row as a JSON-able dict."""
        return asdict(self)


@dataclass(frozen=True)
class ScreenedCall(ScreenedPut):
    """A covered call on held shares, with the put's fields read for a call: ``delta`` and
    ``prob_otm`` are the call's, ``pct_otm`` is (strike - spot) / spot * 100, ``collateral``
    is the value of the 100 shares one contract covers, and ``breakeven`` is the cost basis
    (else the spot) less the premium. ``contracts`` is how many contracts the shares
    cover (shares // 100). ``called_away_annualized`` is the return if the shares are
    called away: premium plus strike minus the cost basis (else the spot), over that basis,
    as a simple yearly return in percent.
    """

    contracts: int = 0
    cost_basis: float | None = None
    called_away_annualized: float | None = None


def finite(value: Any) -> float | None:
    """``value`` as a finite float, or None (NaN, None, text, booleans)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def positive(value: Any) -> float | None:
    """``value`` as a float above 0, or None."""
    number = finite(value)
    return number if number is not None and number > 0 else None


def non_negative(value: Any) -> float | None:
    """``value`` as a float of 0 or more, or None."""
    number = finite(value)
    return number if number is not None and number >= 0 else None


def count(value: Any) -> int | None:
    """``value`` as a whole count of 0 or more, or None."""
    number = non_negative(value)
    return None if number is None else int(number)


def implied_volatility(contract: str, value: Any) -> float | None:
    """``value`` as an implied volatility, or None when missing, implausible or a placeholder."""
    iv = finite(value)
    if iv is None:
        return None
    low, high = PLAUSIBLE_IV
    placeholder = any(math.isclose(iv, known, rel_tol=1e-9) for known in PLACEHOLDER_IVS)
    if placeholder or not low <= iv <= high:
        logger.debug(
            "%s: implied volatility %r is implausible or a placeholder, treated as unknown",
            contract,
            iv,
        )
        return None
    return iv


def require_live(chain: PutChain) -> PutChain:
    """``chain`` itself, unless it has puts and not one with a bid: then the market sent a
    closed-hours snapshot (zero bids, placeholder volatilities) and ``UnusableAnswer``."""
    if chain.puts and not any(quote.bid for quote in chain.puts):
        raise UnusableAnswer(
            f"the {chain.expiration.isoformat()} chain of {chain.ticker} is not live: "
            f"none of its {len(chain.puts)} puts has a bid"
        )
    return chain
