"""Black-Scholes put and call maths and the plain ratios the screen reports."""

from __future__ import annotations

import math
from datetime import date


def norm_cdf(x: float) -> float:
    """The standard normal cumulative distribution function."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _require_positive(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive, finite number, got {value!r}")


def _d1_d2(
    spot: float, strike: float, t_years: float, rate: float, sigma: float
) -> tuple[float, float]:
    """Black-Scholes d1 and d2, after checking every input is usable."""
    _require_positive("spot", spot)
    _require_positive("strike", strike)
    _require_positive("t_years", t_years)
    _require_positive("sigma", sigma)
    if not math.isfinite(rate):
        raise ValueError(f"rate must be a finite number, got {rate!r}")
    vol_sqrt_t = sigma * math.sqrt(t_years)
    d1 = (math.log(spot / strike) + (rate + sigma * sigma / 2.0) * t_years) / vol_sqrt_t
    return d1, d1 - vol_sqrt_t


def bs_put_price(spot: float, strike: float, t_years: float, rate: float, sigma: float) -> float:
    """The Black-Scholes price of a European put on a non-dividend-paying stock."""
    d1, d2 = _d1_d2(spot, strike, t_years, rate, sigma)
    return strike * math.exp(-rate * t_years) * norm_cdf(-d2) - spot * norm_cdf(-d1)


def bs_put_delta(spot: float, strike: float, t_years: float, rate: float, sigma: float) -> float:
    """The Black-Scholes delta of a put, N(d1) - 1, between -1 and 0."""
    d1, _ = _d1_d2(spot, strike, t_years, rate, sigma)
    return norm_cdf(d1) - 1.0


def bs_call_price(spot: float, strike: float, t_years: float, rate: float, sigma: float) -> float:
    """The Black-Scholes price of a European call on a non-dividend-paying stock."""
    d1, d2 = _d1_d2(spot, strike, t_years, rate, sigma)
    return spot * norm_cdf(d1) - strike * math.exp(-rate * t_years) * norm_cdf(d2)


def bs_call_delta(spot: float, strike: float, t_years: float, rate: float, sigma: float) -> float:
    """The Black-Scholes delta of a call, N(d1), between 0 and 1."""
    d1, _ = _d1_d2(spot, strike, t_years, rate, sigma)
    return norm_cdf(d1)


def call_prob_expire_otm(
    spot: float, strike: float, t_years: float, rate: float, sigma: float
) -> float:
    """The risk-neutral probability, N(-d2), that a call expires out of the money."""
    _, d2 = _d1_d2(spot, strike, t_years, rate, sigma)
    return norm_cdf(-d2)


def prob_expire_otm(spot: float, strike: float, t_years: float, rate: float, sigma: float) -> float:
    """The risk-neutral probability, N(d2), that a put expires out of the money."""
    _, d2 = _d1_d2(spot, strike, t_years, rate, sigma)
    return norm_cdf(d2)


def days_to_expiry(expiration: date, today: date) -> int:
    """Calendar days from ``today`` to ``expiration``, at least 1 (expiration day counts as 1)."""
    return max(1, (expiration - today).days)


def annualized_return(bid: float, strike: float, dte: int) -> float:
    """The premium as a simple yearly return on the collateral, in percent."""
    _require_positive("strike", strike)
    if dte < 1:
        raise ValueError(f"dte must be at least 1 day, got {dte!r}")
    return bid / strike * 365.0 / dte * 100.0


def called_away_return(bid: float, strike: float, basis: float, dte: int) -> float:
    """A covered call's yearly return in percent if the shares are called away at
    ``strike``: the premium plus the gain over ``basis``, over ``basis``."""
    _require_positive("basis", basis)
    if dte < 1:
        raise ValueError(f"dte must be at least 1 day, got {dte!r}")
    return (bid + strike - basis) / basis * 365.0 / dte * 100.0


def pct_otm(spot: float, strike: float) -> float:
    """How far the spot is above the strike, in percent of the strike."""
    _require_positive("strike", strike)
    return (spot - strike) / strike * 100.0


def call_pct_otm(spot: float, strike: float) -> float:
    """How far the strike is above the spot, in percent of the spot."""
    _require_positive("spot", spot)
    return (strike - spot) / spot * 100.0


def spread_pct(bid: float, ask: float | None) -> float | None:
    """The bid-ask spread in percent of the mid price, or None when it can't be known."""
    if ask is None or not math.isfinite(ask):
        return None
    mid = (bid + ask) / 2.0
    if not mid > 0:
        return None
    return (ask - bid) / mid * 100.0
