"""Which put rows meet the dashboard's filters, and the filtered view built from them."""

from __future__ import annotations

from scanner_app.screens.query import ResultFilters
from scanner_app.screens.row_filters import filter_rows, volume_to_open_interest
from scanner_app.web.dashboard.listing import read_results_page

from .scan_results import SCANNED_AT, publish_scan


def _row(**fields: object) -> dict:
    """A put row with the fields the filters read; any can be overridden."""
    row = {"strike": 100.0, "spot": 110.0, "annualized": 40.0, "delta": -0.15, "dte": 9}
    row["open_interest"] = 500
    row.update(fields)
    return row


# -- filter_rows ---------------------------------------------------------------------------


def test_no_filter_keeps_every_row_in_order():
    rows = [_row(strike=s) for s in (90, 95, 100)]
    assert filter_rows(rows, ResultFilters()) == rows


def test_each_filter_keeps_rows_at_its_limit_and_drops_the_others():
    rows = [
        _row(strike=1, annualized=29.9),
        _row(strike=2, annualized=30.0),
        _row(strike=3, delta=-0.31),
        _row(strike=4, dte=31),
        _row(strike=5, open_interest=99),
        _row(strike=6, open_interest=None),
    ]
    filters = ResultFilters(min_annualized=30, min_delta=-0.3, max_dte=30, min_open_interest=0)
    kept = [row["strike"] for row in filter_rows(rows, filters)]
    assert kept == [2, 5, 6]
    kept = [row["strike"] for row in filter_rows(rows, ResultFilters(min_open_interest=100))]
    assert kept == [1, 2, 3, 4]


def test_exclude_earnings_drops_only_rows_expiring_on_or_after_earnings():
    rows = [
        _row(strike=1, earnings_date="2026-11-24", earnings_before_expiry=True),
        _row(strike=2, earnings_date="2026-11-24", earnings_before_expiry=False),
        _row(strike=3),  # no earnings date known
    ]
    kept = [row["strike"] for row in filter_rows(rows, ResultFilters(exclude_earnings=True))]
    assert kept == [2, 3]
    assert filter_rows(rows, ResultFilters()) == rows


def test_at_or_below_fair_value_keeps_strikes_up_to_it_and_nothing_without_one():
    rows = [_row(strike=s) for s in (95, 100, 100.5)] + [_row(strike="cheap")]
    filters = ResultFilters(at_or_below_fair_value=True)
    assert [row["strike"] for row in filter_rows(rows, filters, 100.0)] == [95, 100]
    assert filter_rows(rows, filters, None) == []
    assert filter_rows(rows, ResultFilters(), None) == rows


def test_min_dte_keeps_rows_at_or_beyond_it_and_pairs_with_max_dte():
    rows = [_row(strike=s, dte=d) for s, d in ((1, 29), (2, 30), (3, 45), (4, 46), (5, None))]
    kept = [row["strike"] for row in filter_rows(rows, ResultFilters(min_dte=30, max_dte=45))]
    assert kept == [2, 3]
    assert [row["strike"] for row in filter_rows(rows, ResultFilters(min_dte=30))] == [2, 3, 4]


def test_min_volume_counts_a_missing_volume_as_zero():
    rows = [_row(strike=1, volume=None), _row(strike=2, volume=9), _row(strike=3, volume=10)]
    assert [row["strike"] for row in filter_rows(rows, ResultFilters(min_volume=10))] == [3]
    assert len(filter_rows(rows, ResultFilters(min_volume=0))) == 3


def test_min_vol_oi_compares_volume_over_open_interest():
    rows = [
        _row(strike=1, volume=49, open_interest=100),  # 0.49
        _row(strike=2, volume=50, open_interest=100),  # 0.5
        _row(strike=3, volume=300, open_interest=100),  # 3.0
        _row(strike=4, volume=50, open_interest=0),  # no ratio without open interest
        _row(strike=5, volume=None, open_interest=100),  # 0
    ]
    kept = [row["strike"] for row in filter_rows(rows, ResultFilters(min_vol_oi=0.5))]
    assert kept == [2, 3]
    assert len(filter_rows(rows, ResultFilters())) == 5


def test_volume_to_open_interest():
    assert volume_to_open_interest({"volume": 30, "open_interest": 120}) == 0.25
    assert volume_to_open_interest({"volume": 30, "open_interest": None}) is None
    assert volume_to_open_interest({"open_interest": 50}) == 0


def test_max_spread_drops_wide_and_unknown_spreads():
    rows = [
        _row(strike=1, spread_pct=9.9),
        _row(strike=2, spread_pct=10.0),
        _row(strike=3, spread_pct=10.1),
        _row(strike=4, spread_pct=None),  # no ask: the spread is unknown
    ]
    kept = [row["strike"] for row in filter_rows(rows, ResultFilters(max_spread=10))]
    assert kept == [1, 2]
    assert len(filter_rows(rows, ResultFilters())) == 4


def test_a_malformed_row_is_dropped_rather_than_crashing():
    rows = ["not a row", _row(annualized="high"), _row(annualized=float("nan")), _row()]
    assert filter_rows(rows, ResultFilters(min_annualized=10)) == [_row()]


def test_the_filtered_view_drops_tickers_left_without_rows(app):
    scanner = app.extensions["put_scanner"]
    options = {"AAA": [_row(dte=5)], "BBB": [_row(dte=40), _row(dte=3)], "CCC": [_row(dte=50)]}
    publish_scan(scanner.store, options)

    page = read_results_page(scanner.reader, ResultFilters(max_dte=10), [], lambda symbol: None)

    assert page.symbols == ["AAA", "BBB"] and page.listed == 2
    assert [summary.puts for summary in page.summaries] == [1, 1]
    assert page.summaries[1].scanned_at == SCANNED_AT
    assert page.has_results and page.available
