"""Which rows meet a view's filters: the dashboard's, and a saved screen's after a scan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..numbers import finite_number
from .badges import GOOD, strike_badge
from .query import ResultFilters


def _at_least(value: float | None, limit: float | None) -> bool:
    return limit is None or (value is not None and value >= limit)


def _at_most(value: float | None, limit: float | None) -> bool:
    return limit is None or (value is not None and value <= limit)


def volume_to_open_interest(row: Mapping[str, Any]) -> float | None:
    """The day's volume over the open interest (a missing volume counts as 0); None
    without a positive open interest."""
    open_interest = finite_number(row.get("open_interest"))
    if open_interest is None or open_interest <= 0:
        return None
    return (finite_number(row.get("volume")) or 0) / open_interest


def _delta_passes(delta: float | None, filters: ResultFilters, side: str) -> bool:
    """A put's delta at least ``min_delta`` (-0.15 keeps |delta| <= 0.15); a call's delta,
    positive, at most ``-min_delta``: the same |delta| limit."""
    if side == "call":
        return _at_most(delta, None if filters.min_delta is None else -filters.min_delta)
    return _at_least(delta, filters.min_delta)


def _passes(row: Any, filters: ResultFilters, fair_value: float | None, side: str) -> bool:
    """Whether ``row`` meets every set filter; a missing open interest or volume counts as
    0, a row without a spread (no ask) or a volume/open-interest ratio fails a limit on it,
    a row without an IV rank (too few stored days) fails ``min_iv_rank``,
    a row without an earnings mark passes ``exclude_earnings``, and no put of a ticker
    without a fair value passes ``at_or_below_fair_value`` (which calls ignore)."""
    if not isinstance(row, Mapping):
        return False
    dte = finite_number(row.get("dte"))
    at_or_below = filters.at_or_below_fair_value and side == "put"
    return (
        _at_least(finite_number(row.get("annualized")), filters.min_annualized)
        and _delta_passes(finite_number(row.get("delta")), filters, side)
        and _at_least(finite_number(row.get("open_interest")) or 0, filters.min_open_interest)
        and _at_least(finite_number(row.get("volume")) or 0, filters.min_volume)
        and _at_least(volume_to_open_interest(row), filters.min_vol_oi)
        and _at_most(finite_number(row.get("spread_pct")), filters.max_spread)
        and _at_least(finite_number(row.get("iv_rank")), filters.min_iv_rank)
        and _at_least(dte, filters.min_dte)
        and _at_most(dte, filters.max_dte)
        and not (filters.exclude_earnings and row.get("earnings_before_expiry") is True)
        and not (at_or_below and strike_badge(row.get("strike"), fair_value) != GOOD)
    )


def filter_rows(
    rows: list[dict], filters: ResultFilters, fair_value: float | None = None, side: str = "put"
) -> list[dict]:
    """The rows (puts, or calls with ``side="call"``, of one ticker, whose fair value is
    ``fair_value``) that meet every set filter, in their order (malformed rows are
    dropped)."""
    return [row for row in rows if _passes(row, filters, fair_value, side)]
