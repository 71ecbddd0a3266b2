"""Which put rows meet the dashboard's filters."""

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


def _passes(row: Any, filters: ResultFilters, fair_value: float | None) -> bool:
    """Whether ``row`` meets every set filter; a missing open interest or volume counts as
    0, a row without a spread (no ask) or a volume/open-interest ratio fails a limit on it,
    a row without an IV rank (too few stored days) fails ``min_iv_rank``,
    a row without an earnings mark passes ``exclude_earnings``, and no row of a ticker
    without a fair value passes ``at_or_below_fair_value``."""
    if not isinstance(row, Mapping):
        return False
    dte = finite_number(row.get("dte"))
    return (
        _at_least(finite_number(row.get("annualized")), filters.min_annualized)
        and _at_least(finite_number(row.get("delta")), filters.min_delta)
        and _at_least(finite_number(row.get("open_interest")) or 0, filters.min_open_interest)
        and _at_least(finite_number(row.get("volume")) or 0, filters.min_volume)
        and _at_least(volume_to_open_interest(row), filters.min_vol_oi)
        and _at_most(finite_number(row.get("spread_pct")), filters.max_spread)
        and _at_least(finite_number(row.get("iv_rank")), filters.min_iv_rank)
        and _at_least(dte, filters.min_dte)
        and _at_most(dte, filters.max_dte)
        and not (filters.exclude_earnings and row.get("earnings_before_expiry") is True)
        and not (
            filters.at_or_below_fair_value and strike_badge(row.get("strike"), fair_value) != GOOD
        )
    )


def filter_rows(
    rows: list[dict], filters: ResultFilters, fair_value: float | None = None
) -> list[dict]:
    """The rows (of one ticker, whose fair value is ``fair_value``) that meet every set
    filter, in their order (malformed rows are dropped)."""
    return [row for row in rows if _passes(row, filters, fair_value)]
