"""The fair-value badge: judged from facts (a strike, a fair value) when a page renders."""

from __future__ import annotations

import pytest

from scanner_app.scan.summary import summarize_rows
from scanner_app.screens.badges import GOOD, HIGH, NO_FAIR_VALUE, strike_badge
from scanner_app.web.dashboard.ticker_summaries import TickerSummary


def _row(**fields: object) -> dict:
    """A put row with the fields a summary reads; any can be overridden."""
    row = {"strike": 100.0, "spot": 110.0, "annualized": 40.0, "delta": -0.15, "dte": 9}
    row["open_interest"] = 500
    row.update(fields)
    return row


def test_the_badges_are_named_as_the_pages_show_them():
    assert (GOOD, HIGH, NO_FAIR_VALUE) == ("good", "high", "n/a")


@pytest.mark.parametrize(
    ("strike", "fair_value", "badge"),
    [
        (95, 100, "good"),
        (100, 100, "good"),
        (100.01, 100, "high"),
        (95, None, "n/a"),
        (None, 100, "n/a"),
        (float("nan"), 100, "n/a"),
        (True, 100, "n/a"),
        ("95", 100, "n/a"),
    ],
)
def test_strike_badge(strike, fair_value, badge):
    assert strike_badge(strike, fair_value) == badge


def _ticker_badge(rows: list[dict], fair_value: float | None) -> str:
    """The dashboard badge of a ticker with ``rows``, as its stored summary gives it."""
    return TickerSummary.of("AAA", summarize_rows(rows, None), None, fair_value).badge


def test_a_tickers_badge_is_good_when_any_strike_is_at_or_below_the_fair_value():
    rows = [_row(strike=120), _row(strike=100), _row(strike=130)]
    assert _ticker_badge(rows, 100) == "good"
    assert _ticker_badge(rows, 99.99) == "high"
    assert _ticker_badge(rows, None) == "n/a"
    assert _ticker_badge([], 100) == "n/a"


def test_the_stored_summary_holds_the_lowest_strike_not_a_verdict():
    summary = summarize_rows([_row(strike=120), _row(strike=100)], None)
    assert summary["lowest_strike"] == 100
    assert "badge" not in summary and "fair_value" not in summary
    # the same stored facts give a new badge when the fair value changes, without a scan
    badges = [TickerSummary.of("AAA", summary, None, value).badge for value in (150, 99, None)]
    assert badges == ["good", "high", "n/a"]
