"""NYSE hours and weekly expirations, on frozen instants."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from scanner_app.market.calendar import (
    NY,
    expiration_window_end,
    is_market_open,
    market_today,
    next_open,
    weekly_expirations,
)


def ny(*args: int) -> datetime:
    """A New York wall-clock time."""
    return datetime(*args, tzinfo=NY)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (ny(2025, 6, 10, 9, 29, 59), False),
        (ny(2025, 6, 10, 9, 30), True),
        (ny(2025, 6, 10, 12, 0), True),
        (ny(2025, 6, 10, 15, 59, 59), True),
        (ny(2025, 6, 10, 16, 0), False),
        (ny(2025, 6, 10, 20, 0), False),
    ],
)
def test_regular_session_is_open_from_930_up_to_but_not_at_1600(now, expected):
    assert is_market_open(now) is expected


@pytest.mark.parametrize(
    "now",
    [
        ny(2025, 7, 4, 11, 0),  # Independence Day
        ny(2025, 12, 25, 11, 0),  # Christmas
        ny(2025, 6, 7, 11, 0),  # Saturday
        ny(2025, 6, 8, 11, 0),  # Sunday
    ],
)
def test_closed_all_day_on_holidays_and_weekends(now):
    assert is_market_open(now) is False


@pytest.mark.parametrize("day", [date(2025, 11, 28), date(2025, 12, 24)])
def test_early_close_days_close_at_1300(day):
    assert is_market_open(ny(day.year, day.month, day.day, 12, 59)) is True
    assert is_market_open(ny(day.year, day.month, day.day, 12, 59, 59)) is True
    assert is_market_open(ny(day.year, day.month, day.day, 13, 0)) is False
    assert is_market_open(ny(day.year, day.month, day.day, 13, 30)) is False


@pytest.mark.parametrize(
    ("open_in_utc", "hour_before"),
    [
        # Monday after clocks went forward (EDT, UTC-4): 9:30 ET is 13:30 UTC.
        (datetime(2025, 3, 10, 13, 30, tzinfo=UTC), datetime(2025, 3, 10, 12, 30, tzinfo=UTC)),
        # Monday after clocks went back (EST, UTC-5): 9:30 ET is 14:30 UTC.
        (datetime(2025, 11, 3, 14, 30, tzinfo=UTC), datetime(2025, 11, 3, 13, 30, tzinfo=UTC)),
    ],
)
def test_open_follows_new_york_across_dst_switches(open_in_utc, hour_before):
    as_new_york = open_in_utc.astimezone(NY)
    assert (as_new_york.hour, as_new_york.minute) == (9, 30)
    assert is_market_open(as_new_york) is True
    assert is_market_open(open_in_utc) is True
    assert is_market_open(open_in_utc - timedelta(seconds=1)) is False
    assert is_market_open(hour_before) is False


def test_the_same_instant_in_any_zone_gives_the_same_answer():
    instant = ny(2025, 6, 10, 15, 59, 59)
    for zone in ("UTC", "Asia/Tokyo", "Pacific/Auckland", "America/Los_Angeles"):
        assert is_market_open(instant.astimezone(ZoneInfo(zone))) is True
        assert is_market_open((instant + timedelta(seconds=1)).astimezone(ZoneInfo(zone))) is False


def test_answers_do_not_depend_on_the_servers_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert is_market_open(ny(2025, 6, 10, 9, 30)) is True
        assert is_market_open(ny(2025, 6, 10, 9, 29)) is False
        assert market_today(datetime(2025, 6, 10, 1, 0, tzinfo=UTC)) == date(2025, 6, 9)
        assert next_open(ny(2025, 6, 6, 18, 0)) == ny(2025, 6, 9, 9, 30)
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (ny(2025, 6, 10, 8, 0), ny(2025, 6, 10, 9, 30)),  # before today's open
        (ny(2025, 6, 10, 9, 30), ny(2025, 6, 11, 9, 30)),  # at the open: strictly after
        (ny(2025, 6, 10, 12, 0), ny(2025, 6, 11, 9, 30)),  # during the session
        (ny(2025, 6, 6, 18, 0), ny(2025, 6, 9, 9, 30)),  # Friday evening -> Monday
        (ny(2025, 6, 7, 12, 0), ny(2025, 6, 9, 9, 30)),  # Saturday
        (ny(2025, 7, 3, 17, 0), ny(2025, 7, 7, 9, 30)),  # eve of a Friday holiday
        (ny(2025, 7, 4, 8, 0), ny(2025, 7, 7, 9, 30)),  # the holiday morning itself
        (ny(2025, 12, 24, 14, 0), ny(2025, 12, 26, 9, 30)),  # after an early close
        (ny(2025, 3, 7, 18, 0), ny(2025, 3, 10, 9, 30)),  # across the spring DST switch
    ],
)
def test_next_open(now, expected):
    result = next_open(now)
    assert result == expected
    assert result.utcoffset() == expected.utcoffset()  # New York wall time, not just the instant
    assert (result.hour, result.minute) == (9, 30)


def test_next_open_across_a_dst_switch_is_the_right_instant():
    assert next_open(ny(2025, 3, 7, 18, 0)) == datetime(2025, 3, 10, 13, 30, tzinfo=UTC)
    assert next_open(ny(2025, 10, 31, 18, 0)) == datetime(2025, 11, 3, 14, 30, tzinfo=UTC)


def test_market_today_is_the_new_york_date():
    assert market_today(datetime(2025, 6, 10, 3, 0, tzinfo=UTC)) == date(2025, 6, 9)
    assert market_today(datetime(2025, 6, 10, 5, 0, tzinfo=UTC)) == date(2025, 6, 10)
    tokyo_morning = datetime(2025, 6, 10, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert market_today(tokyo_morning) == date(2025, 6, 9)


def test_market_today_defaults_to_now_in_new_york():
    before = datetime.now(NY).date()
    result = market_today()
    after = datetime.now(NY).date()
    assert result in {before, after}


@pytest.mark.parametrize("function", [is_market_open, next_open, market_today])
def test_naive_datetimes_are_rejected(function):
    with pytest.raises(ValueError, match="timezone-aware"):
        function(datetime(2025, 6, 10, 10, 0))


def test_a_plain_date_is_rejected_where_a_datetime_is_needed():
    with pytest.raises(ValueError, match="timezone-aware"):
        is_market_open(date(2025, 6, 10))


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        # Good Friday 2026-04-03: that week's expiration moves to Thursday.
        (date(2026, 3, 30), [date(2026, 4, 2), date(2026, 4, 10), date(2026, 4, 17)]),
        # Independence Day 2025 falls on a Friday.
        (date(2025, 6, 30), [date(2025, 7, 3), date(2025, 7, 11), date(2025, 7, 18)]),
        # New Year's Day 2027 is a Friday: the expiration is in the old year.
        (date(2026, 12, 28), [date(2026, 12, 31), date(2027, 1, 8), date(2027, 1, 15)]),
        # An expiration day counts for itself.
        (date(2025, 6, 6), [date(2025, 6, 6), date(2025, 6, 13), date(2025, 6, 20)]),
        # On a Saturday the week's expiration is already past.
        (date(2025, 6, 7), [date(2025, 6, 13), date(2025, 6, 20), date(2025, 6, 27)]),
        # On Good Friday itself, Thursday's expiration is past.
        (date(2026, 4, 3), [date(2026, 4, 10), date(2026, 4, 17), date(2026, 4, 24)]),
    ],
)
def test_weekly_expirations(today, expected):
    assert weekly_expirations(today, 3) == expected


def test_weekly_expirations_returns_exactly_the_weeks_asked_for():
    expirations = weekly_expirations(date(2025, 6, 10), 12)
    assert len(expirations) == 12
    gaps = {(later - earlier).days for earlier, later in pairwise(expirations)}
    assert gaps <= {6, 7, 8}  # consecutive weeks; a holiday Friday shifts one day


def test_weekly_expirations_rejects_zero_weeks():
    with pytest.raises(ValueError, match="weeks"):
        weekly_expirations(date(2025, 6, 10), 0)


def test_expiration_window_end_is_the_last_weekly_expiration():
    assert expiration_window_end(date(2026, 3, 30), 1) == date(2026, 4, 2)
    assert expiration_window_end(date(2026, 3, 30), 4) == date(2026, 4, 24)


def test_dates_years_away_still_work():
    # Independence Day 2030 is a Thursday; the following Friday is a trading day.
    assert is_market_open(ny(2030, 7, 4, 11, 0)) is False
    assert is_market_open(ny(2030, 7, 5, 11, 0)) is True


# -- monthly expirations in the window -------------------------------------------------------


def third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def test_twelve_weeks_hold_every_monthly_expiration_they_reach():
    today = date(2026, 3, 30)
    expirations = weekly_expirations(today, 12)

    assert third_friday(2026, 4) in expirations
    assert third_friday(2026, 5) in expirations
    # June's third Friday is Juneteenth: its monthly expires the Thursday before
    assert third_friday(2026, 6) == date(2026, 6, 19)
    assert expirations[-1] == date(2026, 6, 18)


def test_a_30_to_45_day_window_includes_the_monthly_expiration():
    today = date(2026, 12, 2)
    in_window = [day for day in weekly_expirations(today, 7) if 30 <= (day - today).days <= 45]

    assert in_window == [date(2027, 1, 8), third_friday(2027, 1)]
    assert expiration_window_end(today, 7) == date(2027, 1, 15)
