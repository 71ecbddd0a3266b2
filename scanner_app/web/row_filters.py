"""Which put rows meet the dashboard's filters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..numbers import finite_number
from .badges import GOOD, strike_badge
from .query import ResultFilters


def _at_least(value: float | None, limit: float | None) -> bool:
    return limit is None or (value is not None and value >= limit)


def _passes(row: Any, filters: ResultFilters, fair_value: float | None) -> bool:
    """Whether ``row`` meets every set filter; a missing open interest counts as 0, a row
    without an earnings mark passes ``exclude_earnings``, and no row of a ticker without a
    fair value passes ``at_or_below_fair_value``."""
    if not isinstance(row, Mapping):
        return False
    dte = finite_number(row.get("dte"))
    return (
        _at_least(finite_number(row.get("annualized")), filters.min_annualized)
        and _at_least(finite_number(row.get("delta")), filters.min_delta)
        and _at_least(finite_number(row.get("open_interest")) or 0, filters.min_open_interest)
        and (filters.max_dte is None or (dte is not None and dte <= filters.max_dte))
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
