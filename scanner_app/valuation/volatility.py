"""Volatility figures of a ticker: the at-the-money IV of an expiration, IV30 (constant
30-day maturity), HV20, IV rank and IV percentile, and the expected move to an expiration.

IVs and HVs are fractions (0.25 = 25 %); IV rank and IV percentile run from 0 to 100.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

#: The constant maturity of IV30, in calendar days.
IV30_DAYS = 30
#: With expirations on one side of 30 days only, the nearest serves if within this many days.
NEAREST_REACH_DAYS = 15
#: With strikes on one side of the spot only, the nearest serves if within this share of it.
ONE_SIDED_REACH = 0.05
#: Trading days in a year: HV20's annualization, and the IV rank's window.
TRADING_DAYS = 252
#: Daily returns in HV20.
HV_RETURNS = 20
#: Fewer stored IV30 values than this: no IV rank or percentile.
MIN_RANK_DAYS = 20
#: The rank of a flat window (highest = lowest): the middle, neither high nor low.
FLAT_RANK = 50.0


def atm_iv(spot: float, points: Iterable[tuple[float, float]]) -> float | None:
    """The IV at ``spot`` of one expiration from its (strike, IV) ``points``, puts and calls
    together (two IVs at one strike are averaged): interpolated linearly between the nearest
    strikes on either side of the spot; with strikes on one side only, the nearest one's IV
    if it lies within ``ONE_SIDED_REACH`` of the spot, else None."""
    points = list(points)
    if spot <= 0 or not points:
        return None
    below = max((strike for strike, _iv in points if strike <= spot), default=None)
    above = min((strike for strike, _iv in points if strike >= spot), default=None)

    def iv_at(wanted: float) -> float:
        return statistics.fmean([iv for strike, iv in points if strike == wanted])

    if below is not None and above is not None:
        if above == below:
            return iv_at(below)
        share = (spot - below) / (above - below)
        low = iv_at(below)
        return low + share * (iv_at(above) - low)
    nearest = below if below is not None else above
    assert nearest is not None
    return iv_at(nearest) if abs(nearest - spot) <= ONE_SIDED_REACH * spot else None


def iv30(points: Iterable[tuple[int, float]]) -> float | None:
    """IV at a constant 30-day maturity from (days to expiration, ATM IV) ``points``.

    Between the two expirations around 30 days, total variance (IV squared times T) is
    interpolated linearly in T and the root taken over T = 30/365. With expirations on one
    side only, the nearest one's IV if it is within ``NEAREST_REACH_DAYS`` of 30, else None.
    """
    known = sorted((days, iv) for days, iv in points if days > 0 and iv > 0)
    before = [point for point in known if point[0] <= IV30_DAYS]
    after = [point for point in known if point[0] >= IV30_DAYS]
    if before and after:
        (near_days, near_iv), (far_days, far_iv) = before[-1], after[0]
        if near_days == far_days:
            return near_iv
        near_var = near_iv**2 * near_days / 365
        far_var = far_iv**2 * far_days / 365
        share = (IV30_DAYS - near_days) / (far_days - near_days)
        variance = near_var + share * (far_var - near_var)
        return math.sqrt(variance / (IV30_DAYS / 365)) if variance > 0 else None
    nearest = before[-1] if before else after[0] if after else None
    if nearest is None or abs(nearest[0] - IV30_DAYS) > NEAREST_REACH_DAYS:
        return None
    return nearest[1]


def hv20(closes: Sequence[float]) -> float | None:
    """The annualized standard deviation of the last 20 daily log returns of ``closes``
    (oldest first), times sqrt(252); None with fewer than 21 positive closes."""
    recent = [close for close in closes if close and close > 0][-(HV_RETURNS + 1) :]
    if len(recent) < HV_RETURNS + 1:
        return None
    returns = [
        math.log(today / yesterday) for yesterday, today in zip(recent, recent[1:], strict=False)
    ]
    mean = math.fsum(returns) / len(returns)
    variance = math.fsum((value - mean) ** 2 for value in returns) / (len(returns) - 1)
    return math.sqrt(variance * TRADING_DAYS)


def iv_rank(window: Sequence[float]) -> float | None:
    """(latest - lowest) / (highest - lowest) x 100 over ``window`` (oldest first, the latest
    last); ``FLAT_RANK`` when highest = lowest; None with fewer than ``MIN_RANK_DAYS``."""
    if len(window) < MIN_RANK_DAYS:
        return None
    return rank_in(window[-1], min(window), max(window), len(window))


def rank_in(latest: float, lowest: float, highest: float, days: int) -> float | None:
    """The IV rank of ``latest`` in a window of ``days`` values from ``lowest`` to
    ``highest`` (``iv_rank`` from the window's extremes, as the database sums it up)."""
    if days < MIN_RANK_DAYS:
        return None
    if highest == lowest:
        return FLAT_RANK
    return (latest - lowest) / (highest - lowest) * 100


def iv_percentile(window: Sequence[float]) -> float | None:
    """The share, in %, of the window's days before the latest whose IV30 is below the
    latest's (ties do not count); None with fewer than ``MIN_RANK_DAYS``."""
    if len(window) < MIN_RANK_DAYS:
        return None
    *earlier, latest = window
    return percentile_in(sum(1 for value in earlier if value < latest), len(window))


def percentile_in(below: int, days: int) -> float | None:
    """The IV percentile of a window of ``days`` values, ``below`` of the earlier ones under
    the latest (``iv_percentile`` from that count, as the database sums it up)."""
    if days < MIN_RANK_DAYS:
        return None
    return below / (days - 1) * 100


def expected_move(spot: float, iv: float | None, dte: int) -> float | None:
    """The one-standard-deviation move to expiration, in dollars: spot x IV30 x
    sqrt(DTE / 365); None without an IV."""
    if iv is None or spot <= 0 or dte <= 0:
        return None
    return spot * iv * math.sqrt(dte / 365)


def strike_in_expected_moves(
    spot: float, strike: float, move: float | None, side: str
) -> float | None:
    """How many expected moves the strike lies out of the money: (spot - strike) / move for a
    put, (strike - spot) / move for a call; None without a move."""
    if not move:
        return None
    distance = spot - strike if side == "put" else strike - spot
    return distance / move
