"""The criteria in force, said in one sentence: the scan's settings and the view's filters."""

from __future__ import annotations

from ..scan.screen import Criteria
from .query import ResultFilters

#: A ``MAX_SPREAD_PCT`` this high is the default: no limit on the spread.
NO_SPREAD_LIMIT = 1000.0


def _tightest(setting: float | None, chosen: float | None, pick=max) -> float | None:
    """The stricter of a setting and a filter (either may be unset)."""
    values = [value for value in (setting, chosen) if value is not None]
    return pick(values) if values else None


def _join(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _days(criteria: Criteria, filters: ResultFilters) -> str | None:
    low = _tightest(criteria.min_dte or None, filters.min_dte)
    high = filters.max_dte
    if low is not None and high is not None:
        return f"{low}-{high} days to expiration"
    if low is not None:
        return f"at least {low} days to expiration"
    if high is not None:
        return f"at most {high} days to expiration"
    return None


def criteria_sentence(criteria: Criteria, filters: ResultFilters) -> str:
    """e.g. "Puts with annualized >= 30 % and delta >= -0.20 in the next 4 weekly
    expirations.": the limits a listed put meets, the stricter of setting and filter."""
    annualized = _tightest(criteria.min_annualized, filters.min_annualized)
    delta = _tightest(criteria.min_delta, filters.min_delta)
    parts = [f"annualized >= {annualized:g} %", f"delta >= {delta:.2f}"]
    days = _days(criteria, filters)
    if days:
        parts.append(days)
    open_interest = _tightest(criteria.min_open_interest or None, filters.min_open_interest)
    if open_interest:
        parts.append(f"open interest >= {open_interest:,}")
    volume = _tightest(criteria.min_volume or None, filters.min_volume)
    if volume:
        parts.append(f"volume >= {volume:,}")
    if filters.min_vol_oi is not None:
        parts.append(f"volume/open interest >= {filters.min_vol_oi:g}")
    setting_spread = criteria.max_spread_pct
    if setting_spread is not None and setting_spread >= NO_SPREAD_LIMIT:
        setting_spread = None
    spread = _tightest(setting_spread, filters.max_spread, pick=min)
    if spread is not None:
        parts.append(f"spread <= {spread:g} %")
    if filters.min_iv_rank is not None:
        parts.append(f"IV rank >= {filters.min_iv_rank:g}")
    weeks = criteria.weeks
    window = "weekly expiration" if weeks == 1 else f"{weeks} weekly expirations"
    sentence = f"Puts with {_join(parts)} in the next {window}"
    if filters.exclude_earnings:
        sentence += ", expiring before earnings"
    return sentence + "."
