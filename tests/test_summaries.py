"""Dashboard rows: one summary per ticker, and the order every way to a page agrees on."""

from __future__ import annotations

import pytest

from scanner_app.scan.store import Progress, TickerResult
from scanner_app.scan.summary import sort_scores, summarize_rows
from scanner_app.screens.query import SORT_KEYS, ResultFilters
from scanner_app.web.dashboard.listing import read_results_page
from scanner_app.web.dashboard.ticker_summaries import TickerSummary, badge_scores, order_symbols

from .scan_results import STARTED_AT, publish_scan


def _row(**fields: object) -> dict:
    """A put row with the fields a summary reads; any can be overridden."""
    row = {"strike": 100.0, "spot": 110.0, "annualized": 40.0, "delta": -0.15, "dte": 9}
    row["open_interest"] = 500
    row.update(fields)
    return row


# -- summaries -----------------------------------------------------------------------------


def test_a_summary_has_the_best_numbers_of_the_tickers_puts():
    rows = [
        _row(strike=90, annualized=35.0, delta=-0.05, spot=101.0),
        _row(strike=95, annualized=61.5, delta=-0.18, spot=101.0),
    ]
    facts = summarize_rows(rows, "2026-11-18T16:00:00+00:00")
    summary = TickerSummary.of("AAA", facts, None, 92.0)
    assert summary == TickerSummary(
        symbol="AAA",
        badge="good",
        puts=2,
        spot=101.0,
        best_annualized=61.5,
        lowest_abs_delta=0.05,
        lowest_strike=90,
        scanned_at="2026-11-18T16:00:00+00:00",
        fair_value=92.0,
        error=None,
    )


def test_unusable_numbers_are_left_out_of_a_summary():
    rows = [_row(annualized=float("nan"), delta="low", spot=None), _row(annualized=20.0)]
    facts = summarize_rows(rows, None)
    assert (facts["puts"], facts["best_annualized"], facts["lowest_abs_delta"]) == (2, 20.0, 0.15)
    assert facts["spot"] == 110.0


def test_malformed_stored_facts_read_as_missing():
    facts = {"puts": -3, "spot": "high", "best_annualized": float("inf"), "scanned_at": 7}
    summary = TickerSummary.of("AAA", facts, None, None)
    assert (summary.puts, summary.spot, summary.best_annualized) == (0, None, None)
    assert summary.scanned_at is None and summary.error is None


def test_a_ticker_that_only_failed_still_gets_a_row_with_its_error(app):
    scanner = app.extensions["put_scanner"]
    publish_scan(scanner.store, {"AAA": [_row()]}, {"ZZZ": "rate limited"})

    page = read_results_page(scanner.reader, ResultFilters(), [], lambda symbol: None)

    assert page.symbols == ["AAA", "ZZZ"]
    failed = page.summaries[1]
    assert (failed.puts, failed.best_annualized, failed.error) == (0, None, "rate limited")
    assert page.failed == 1 and page.failed_sample == {"ZZZ": "rate limited"}


# -- order ---------------------------------------------------------------------------------


def test_order_by_a_number_in_both_directions():
    scores = {"B": 50.0, "A": 70.0, "C": 60.0}
    assert order_symbols(scores, descending=True) == ["A", "C", "B"]
    assert order_symbols(scores, descending=False) == ["B", "C", "A"]


def test_missing_values_go_last_in_either_direction_by_symbol():
    scores = {"D": None, "C": 5.0, "A": 5.0, "B": None}
    assert order_symbols(scores, descending=False) == ["A", "C", "B", "D"]
    # ties reverse with the direction, as Redis orders a sorted set backwards
    assert order_symbols(scores, descending=True) == ["C", "A", "B", "D"]


def test_order_by_badge_puts_good_before_high_before_none():
    lowest = {"A": 100.0, "B": 100.0, "C": 100.0}
    fair_values = {"A": None, "B": 99.0, "C": 101.0}
    scores = badge_scores(["A", "B", "C"], lowest, fair_values.get)
    assert order_symbols(scores, descending=False) == ["C", "B", "A"]


#: Six tickers with ties, missing values and one that failed, for the agreement test.
TICKERS = {
    "AAA": [_row(strike=90.0, spot=50.0, annualized=61.0, delta=-0.1)],
    "BBB": [_row(strike=90.0, spot=50.0, annualized=35.0), _row(strike=95.0, spot=50.0)],
    "CCC": [_row(strike=120.0, spot=None, annualized=None, delta=None)],
    "DDD": [_row(strike=80.0, spot=70.0, annualized=61.0, delta=-0.3)],
    "EEE": [_row(strike=100.0, spot=10.0, annualized=45.0, delta=-0.05)] * 3,
}
FAIR_VALUES = {"AAA": 100.0, "BBB": 85.0, "DDD": 80.0, "EEE": None, "FFF": 50.0}
SCAN_TIMES = {
    "AAA": "2026-11-18T16:00:03+00:00",
    "BBB": "2026-11-18T10:00:01-05:00",
    "CCC": "2026-11-18T16:00:03+00:00",
    "DDD": "2026-11-18T16:00:02+00:00",
    "EEE": "2026-11-18T16:00:09+00:00",
}


@pytest.fixture
def varied(app):
    """The reader after a scan of TICKERS, each at its own time, FFF failed."""
    scanner = app.extensions["put_scanner"]
    store = scanner.store
    assert store.acquire_lock("varied")
    store.begin(Progress(scan_id="varied", total=6, started_at=STARTED_AT))
    results = [TickerResult(symbol, SCAN_TIMES[symbol], rows) for symbol, rows in TICKERS.items()]
    store.publish("varied", [*results, TickerResult("FFF", STARTED_AT, [], "timed out")], None)
    assert store.release_lock("varied")
    return scanner.reader


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort", SORT_KEYS)
def test_stored_and_computed_orders_agree(varied, sort, direction):
    stored_view = ResultFilters(sort=sort, direction=direction)
    # a filter that keeps every row: the page is computed here, from the rows
    computed_view = ResultFilters(sort=sort, direction=direction, min_open_interest=0)

    stored = read_results_page(varied, stored_view, [], FAIR_VALUES.get)
    computed = read_results_page(varied, computed_view, [], FAIR_VALUES.get)

    assert stored.available and computed.available
    assert stored.symbols == computed.symbols
    assert sorted(stored.symbols) == ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
    assert stored.summaries == computed.summaries
    assert stored.listed == computed.listed == 6


@pytest.mark.parametrize(
    ("sort", "direction", "expected"),
    [
        ("ticker", "desc", ["FFF", "EEE", "DDD", "CCC", "BBB", "AAA"]),
        ("spot", "asc", ["EEE", "AAA", "BBB", "DDD", "CCC", "FFF"]),
        ("annualized", "desc", ["DDD", "AAA", "EEE", "BBB", "CCC", "FFF"]),
        ("puts", "desc", ["EEE", "BBB", "DDD", "CCC", "AAA", "FFF"]),
        ("delta", "asc", ["EEE", "AAA", "BBB", "DDD", "CCC", "FFF"]),
        ("value", "asc", ["AAA", "DDD", "BBB", "CCC", "EEE", "FFF"]),
    ],
)
def test_each_sort_key_orders_the_tickers(varied, sort, direction, expected):
    page = read_results_page(
        varied, ResultFilters(sort=sort, direction=direction), [], FAIR_VALUES.get
    )
    assert page.symbols == expected


def test_every_stored_sort_key_has_a_score_per_summary():
    rows = [{**row, "iv_rank": 42.0} for row in TICKERS["AAA"]]
    scores = sort_scores(summarize_rows(rows, SCAN_TIMES["AAA"]))
    assert set(scores) == set(SORT_KEYS) - {"ticker", "value"} | {"strike"}
    assert all(isinstance(score, float | int) for score in scores.values())


def test_tickers_without_a_qualifying_put_are_counted_and_named(app):
    scanner = app.extensions["put_scanner"]
    publish_scan(scanner.store, {"AAA": [_row()], "BBB": [], "CCC": []}, {"ZZZ": "timed out"})
    for filters in (
        ResultFilters(),
        ResultFilters(min_annualized=1.0),
        ResultFilters(sort="value"),
    ):
        page = read_results_page(scanner.reader, filters, [], lambda symbol: None)
        assert (page.unlisted_count, page.unlisted) == (2, ["BBB", "CCC"])
    # a ticker that finds puts again, or fails, leaves the list
    publish_scan(scanner.store, {"BBB": [_row()]}, {"CCC": "timed out"}, scan_id="second")
    page = read_results_page(scanner.reader, ResultFilters(), [], lambda symbol: None)
    assert (page.unlisted_count, page.unlisted) == (0, [])


def test_the_best_put_is_the_first_under_the_sort_computed_when_the_scan_publishes():
    rows = [
        _row(strike=90, annualized=35.0, delta=-0.05, expiration="2026-11-27", bid=0.4),
        _row(strike=95, annualized=61.5, delta=-0.18, expiration="2026-11-20", bid=0.9),
    ]
    summary = TickerSummary.of("AAA", summarize_rows(rows, None), None, None)
    assert summary.best_put("annualized")["strike"] == 95
    assert summary.best_put("delta") == {
        "strike": 90,
        "expiration": "2026-11-27",
        "dte": 9,
        "bid": 0.4,
        "delta": -0.05,
        "annualized": 35.0,
    }
    for per_ticker in ("ticker", "spot", "puts", "value"):
        assert summary.best_put(per_ticker) == summary.best_put("annualized")
    malformed = TickerSummary.of("AAA", {"best": {"annualized": [1, 2]}}, None, None)
    assert malformed.best_put("annualized") is None
