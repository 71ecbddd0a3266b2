"""The criteria in force, said in one sentence: the scan's settings and the view's filters;
and, when the view asks for days to expiration the scan does not fetch, what to change."""

from __future__ import annotations

from datetime import date, datetime

from ..market.calendar import expiration_window_end, market_today
from ..scan.screen import Criteria
from ..screens.query import ResultFilters

#: The most weekly expirations a scan can fetch (``WEEKS``).
MAX_WEEKS = 12

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


def _reach(today: date, weeks: int) -> int:
    """How many days out the last expiration of a ``weeks``-week window is."""
    return (expiration_window_end(today, weeks) - today).days


def _window_hint(criteria: Criteria, filters: ResultFilters, now: datetime) -> str | None:
    """What to set when the view asks for days to expiration past the scan's window."""
    today = market_today(now)
    reach = _reach(today, criteria.weeks)
    low = _tightest(criteria.min_dte or None, filters.min_dte)
    wanted = filters.max_dte if filters.max_dte is not None else low
    if wanted is None or wanted <= reach:
        return None
    fetched = f"The scan fetches expirations up to {reach} days out"
    weeks = next((w for w in range(1, MAX_WEEKS + 1) if _reach(today, w) >= wanted), None)
    if weeks is None:
        return f"{fetched}; even WEEKS={MAX_WEEKS} reaches only {_reach(today, MAX_WEEKS)}."
    if low is not None and filters.max_dte is not None:
        screen = f"a {low}-{filters.max_dte} DTE screen"
    elif low is not None:
        screen = f"puts at least {low} days out"
    else:
        screen = f"puts up to {wanted} days out"
    return f"{fetched}; set WEEKS={weeks} for {screen}."


def criteria_sentence(
    criteria: Criteria,
    filters: ResultFilters,
    *,
    today: datetime | None = None,
    cash: float | None = None,
) -> str:
    """e.g. "Puts with annualized >= 30 % and delta >= -0.20 in the next 4 weekly
    expirations.": every limit a listed put meets, the stricter of setting and filter,
    and the cash the puts are sized with. Given ``today`` (now), a DTE filter the scan's
    window cannot reach adds what to set."""
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
    if filters.at_or_below_fair_value:
        parts.append("strike at or below the fair value")
    sentence = f"Puts with {_join(parts)} in the next {window}"
    if filters.exclude_earnings:
        sentence += ", expiring before earnings"
    if cash is not None:
        sentence += f", sized with ${cash:,.0f} of cash"
    hint = _window_hint(criteria, filters, today) if today is not None else None
    return sentence + "." + (f" {hint}" if hint else "")


def filters_phrase(filters: ResultFilters) -> str | None:
    """The view's own filters in words ("annualized >= 50 % and 30-45 days to
    expiration"), for a table whose settings are said apart; None when none is set."""
    parts = []
    if filters.min_annualized is not None:
        parts.append(f"annualized >= {filters.min_annualized:g} %")
    if filters.min_delta is not None:
        parts.append(f"|delta| <= {abs(filters.min_delta):.2f}")
    days = _days(Criteria(), filters)
    if days:
        parts.append(days)
    if filters.min_open_interest is not None:
        parts.append(f"open interest >= {filters.min_open_interest:,}")
    if filters.min_volume is not None:
        parts.append(f"volume >= {filters.min_volume:,}")
    if filters.min_vol_oi is not None:
        parts.append(f"volume/open interest >= {filters.min_vol_oi:g}")
    if filters.max_spread is not None:
        parts.append(f"spread <= {filters.max_spread:g} %")
    if filters.min_iv_rank is not None:
        parts.append(f"IV rank >= {filters.min_iv_rank:g}")
    if filters.exclude_earnings:
        parts.append("expiring before earnings")
    return _join(parts) if parts else None
