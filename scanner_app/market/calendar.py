"""New York Stock Exchange hours and weekly option expirations."""

from __future__ import annotations

import threading
import warnings
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import exchange_calendars
import pandas as pd

NY = ZoneInfo("America/New_York")

FRIDAY = 4
_BUILD_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _xnys(year: int) -> exchange_calendars.ExchangeCalendar:
    """The NYSE calendar from the start of ``year - 1`` to the end of ``year + 1``, built once.

    Keyed by the year asked about, so any date works, while a running app only ever
    builds the one or two calendars around the current year.
    """
    with warnings.catch_warnings():
        # exchange_calendars reads tz-aware Series.values while building its schedule,
        # which pandas 3 deprecates; nothing we can change from here.
        warnings.filterwarnings(
            "ignore",
            message="Series.values returning an ndarray",
            category=DeprecationWarning,
        )
        return exchange_calendars.get_calendar(
            "XNYS", start=date(year - 1, 1, 1), end=date(year + 1, 12, 31)
        )


def _calendar_for(day: date) -> exchange_calendars.ExchangeCalendar:
    # One builder at a time: warnings.catch_warnings() is process-wide, so two threads
    # building at once could restore the filters under each other's feet.
    with _BUILD_LOCK:
        return _xnys(day.year)


def _require_aware(now: datetime) -> None:
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {now!r}")


def _is_session(day: date) -> bool:
    return bool(_calendar_for(day).is_session(pd.Timestamp(day)))


def _session_open(day: date) -> datetime:
    return _calendar_for(day).session_open(pd.Timestamp(day)).to_pydatetime().astimezone(NY)


def _session_close(day: date) -> datetime:
    return _calendar_for(day).session_close(pd.Timestamp(day)).to_pydatetime().astimezone(NY)


def _next_session(day: date) -> date:
    """The first trading day strictly after ``day``."""
    return _calendar_for(day).date_to_session(pd.Timestamp(day + timedelta(days=1)), "next").date()


def _session_on_or_before(day: date) -> date:
    return _calendar_for(day).date_to_session(pd.Timestamp(day), "previous").date()


def market_today(now: datetime | None = None) -> date:
    """The calendar date in New York at ``now`` (default: the current time)."""
    if now is None:
        return datetime.now(NY).date()
    _require_aware(now)
    return now.astimezone(NY).date()


def is_market_open(now: datetime) -> bool:
    """Whether ``now`` falls in a regular NYSE session (open inclusive, close exclusive)."""
    today = market_today(now)
    if not _is_session(today):
        return False
    return _session_open(today) <= now < _session_close(today)


def next_open(now: datetime) -> datetime:
    """Today's open if ``now`` is before it on a trading day, else the next session's open (ET)."""
    today = market_today(now)
    if _is_session(today) and now < _session_open(today):
        return _session_open(today)
    return _session_open(_next_session(today))


def history_day(now: datetime) -> date | None:
    """The trading day a scan at ``now`` observes, the New York date of a session that has
    opened (during it or after its close); None before the open or on a day without one."""
    today = market_today(now)
    if not _is_session(today) or now < _session_open(today):
        return None
    return today


def sessions_between(first: date, last: date) -> list[date]:
    """The NYSE trading days from ``first`` to ``last``, both included."""
    if last < first:
        return []
    days: list[date] = []
    for year in range(first.year, last.year + 1):
        calendar = _calendar_for(date(year, 7, 1))
        start, end = max(first, date(year, 1, 1)), min(last, date(year, 12, 31))
        days += [stamp.date() for stamp in calendar.sessions_in_range(start, end)]
    return days


def weekly_expirations(today: date, weeks: int) -> list[date]:
    """The next ``weeks`` weekly expirations on or after ``today``.

    Each is that week's Friday, or the trading day before it when the Friday is a holiday.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks!r}")
    return list(_weekly_expirations(today, weeks))


@lru_cache(maxsize=64)
def _weekly_expirations(today: date, weeks: int) -> tuple[date, ...]:
    """``weekly_expirations``, remembered: every ticker of a scan asks the same question."""
    friday = today + timedelta(days=FRIDAY - today.weekday())
    expirations: list[date] = []
    while len(expirations) < weeks:
        expiration = _session_on_or_before(friday)
        if expiration >= today:
            expirations.append(expiration)
        friday += timedelta(weeks=1)
    return tuple(expirations)


def expiration_window_end(today: date, weeks: int) -> date:
    """The last of the next ``weeks`` weekly expirations."""
    return weekly_expirations(today, weeks)[-1]


def warm_up(now: datetime) -> None:
    """Build the calendars and expirations a scan will ask for, ahead of it.

    A worker calls this before it forks job processes, which then inherit them instead of
    each building its own (a few tenths of a second apiece).
    """
    today = market_today(now)
    for weeks in range(1, 13):
        weekly_expirations(today, weeks)
    _calendar_for(today + timedelta(days=366))


def eastern_text(moment: datetime) -> str:
    """``moment`` (aware) as every page and message writes a time: New York time with the
    zone named, ``Mon Dec 7, 2026 9:30 AM EST``."""
    local = moment.astimezone(NY)
    hour = local.hour % 12 or 12
    return f"{local:%a %b} {local.day}, {local.year} {hour}:{local:%M %p %Z}"
