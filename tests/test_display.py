"""How stored values are shown: a dash for anything that is not a usable value."""

from __future__ import annotations

import pytest

from scanner_app.web.display import MISSING, eastern_time, money


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2026-11-18T16:00:00+00:00", "Nov 18, 2026 11:00 AM EST"),
        ("9999-12-31T23:59:59-23:59", MISSING),  # past year 9999 in New York
        ("0001-01-01T00:00:00+14:00", MISSING),  # before year 1 in New York
        ("2026-11-18T16:00:00", MISSING),  # no offset: no moment
        ("soon", MISSING),
        (1795017600, MISSING),
    ],
)
def test_eastern_time_shows_a_moment_or_a_dash(value, shown):
    assert eastern_time(value) == shown


@pytest.mark.parametrize("value", [10**400, float("nan"), "12", None])
def test_money_shows_a_dash_for_what_is_not_a_finite_number(value):
    assert money(value) == MISSING
