"""Dashboard filters and sort: parsing the query, filtering rows, summaries and their order."""

from __future__ import annotations

import pytest

from scanner_app.web.filters import (
    MAX_PARAM_LENGTH,
    SORT_KEYS,
    ResultFilters,
    TickerSummary,
    apply_filters,
    filter_rows,
    parse_filters,
    sort_summaries,
    strike_badge,
    summarize,
    summary_badge,
)


def _row(**fields: object) -> dict:
    """A put row with the fields the filters read; any can be overridden."""
    row = {"strike": 100.0, "spot": 110.0, "annualized": 40.0, "delta": -0.15, "dte": 9}
    row["open_interest"] = 500
    row.update(fields)
    return row


# -- parse_filters -------------------------------------------------------------------------


def test_no_arguments_give_the_defaults_without_messages():
    assert parse_filters({}) == (ResultFilters(), [])


def test_every_parameter_is_read_under_its_query_name():
    args = {
        "min_annualized": "55.5",
        "min_delta": "-0.12",
        "max_dte": "14",
        "min_oi": "250",
        "sort": "annualized",
        "dir": "desc",
    }
    filters, messages = parse_filters(args)
    assert messages == []
    assert filters == ResultFilters(
        min_annualized=55.5,
        min_delta=-0.12,
        max_dte=14,
        min_open_interest=250,
        sort="annualized",
        direction="desc",
    )


def test_empty_and_blank_values_mean_no_filter():
    args = {"min_annualized": "", "min_delta": "  ", "max_dte": "", "sort": "", "dir": ""}
    assert parse_filters(args) == (ResultFilters(), [])


def test_surrounding_spaces_and_case_are_forgiven():
    filters, messages = parse_filters({"min_oi": " 7 ", "sort": " Spot ", "dir": "DESC"})
    assert messages == []
    assert (filters.min_open_interest, filters.sort, filters.direction) == (7, "spot", "desc")


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("min_annualized", "abc"),
        ("min_annualized", "nan"),
        ("min_annualized", "inf"),
        ("min_annualized", "-5"),
        ("min_annualized", "1e308"),
        ("min_annualized", "1" * (MAX_PARAM_LENGTH + 1)),
        ("min_annualized", "１２"),  # full-width digits: Python's float() would take them
        ("min_annualized", "٣"),
        ("min_annualized", "1_000"),
        ("min_delta", "0.5"),
        ("min_delta", "-1.01"),
        ("min_delta", "−0.2"),  # a Unicode minus sign
        ("max_dte", "7.5"),
        ("max_dte", "99999999999999999999999"),
        ("max_dte", "-1"),
        ("min_oi", "1e3"),
        ("min_oi", "ten"),
        ("min_oi", "<script>"),
    ],
)
def test_a_bad_number_is_ignored_with_a_message_naming_it(name, raw):
    filters, messages = parse_filters({name: raw})
    assert filters == ResultFilters()
    assert len(messages) == 1
    assert messages[0].startswith(f"{name} must be ")
    assert messages[0].endswith("; ignored.")


def test_the_message_states_the_accepted_range():
    _, messages = parse_filters({"min_delta": "2"})
    assert messages == ["min_delta must be a number from -1 to 0; ignored."]
    _, messages = parse_filters({"max_dte": "x"})
    assert messages == ["max_dte must be a whole number from 0 to 1000; ignored."]


@pytest.mark.parametrize(
    ("name", "raw"), [("sort", "price; drop table"), ("sort", "x" * 500), ("dir", "sideways")]
)
def test_an_unknown_sort_key_or_direction_falls_back_with_a_message(name, raw):
    filters, messages = parse_filters({name: raw})
    assert (filters.sort, filters.direction) == ("ticker", "asc")
    assert len(messages) == 1 and messages[0].startswith(f"{name} must be one of ")


def test_good_values_survive_next_to_bad_ones():
    filters, messages = parse_filters({"min_annualized": "bad", "max_dte": "21"})
    assert filters.max_dte == 21 and filters.min_annualized is None
    assert len(messages) == 1


def test_the_range_limits_themselves_are_accepted():
    filters, messages = parse_filters({"min_delta": "-1", "min_annualized": "10000"})
    assert messages == []
    assert (filters.min_delta, filters.min_annualized) == (-1.0, 10000.0)


# -- query_args ----------------------------------------------------------------------------


def test_query_args_carry_only_non_default_values():
    assert ResultFilters().query_args() == {}
    assert ResultFilters(max_dte=7, sort="spot").query_args() == {"max_dte": "7", "sort": "spot"}


@pytest.mark.parametrize(
    "filters",
    [
        ResultFilters(min_annualized=30.0, min_delta=-0.2),
        ResultFilters(min_annualized=0.1 + 0.2, max_dte=0, min_open_interest=10_000_000),
        ResultFilters(min_annualized=1e-05, sort="delta", direction="desc"),
    ],
)
def test_query_args_round_trip_through_parse_filters(filters):
    assert parse_filters(filters.query_args()) == (filters, [])


def test_whole_floats_are_written_without_a_fraction():
    assert ResultFilters(min_annualized=30.0).query_args() == {"min_annualized": "30"}


def test_filter_args_leave_out_the_sort():
    filters = ResultFilters(max_dte=5, sort="spot", direction="desc")
    assert filters.filter_args() == {"max_dte": "5"}


def test_active_is_about_filters_not_sorting():
    assert not ResultFilters(sort="spot", direction="desc").active
    assert ResultFilters(min_open_interest=0).active


def test_sorting_by_a_new_column_starts_with_its_interesting_end():
    assert ResultFilters().sorted_by("annualized").direction == "desc"
    assert ResultFilters().sorted_by("spot").direction == "asc"


def test_sorting_by_the_current_column_flips_the_direction():
    ascending = ResultFilters(sort="spot", direction="asc", max_dte=3)
    assert ascending.sorted_by("spot") == ResultFilters(sort="spot", direction="desc", max_dte=3)
    assert ascending.sorted_by("spot").sorted_by("spot") == ascending


# -- filter_rows / apply_filters -------------------------------------------------------------


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


def test_a_malformed_row_is_dropped_rather_than_crashing():
    rows = ["not a row", _row(annualized="high"), _row(annualized=float("nan")), _row()]
    assert filter_rows(rows, ResultFilters(min_annualized=10)) == [_row()]


def test_apply_filters_drops_tickers_left_without_rows():
    options = {"AAA": [_row(dte=5)], "BBB": [_row(dte=40), _row(dte=3)], "CCC": [_row(dte=50)]}
    filtered = apply_filters(options, ResultFilters(max_dte=10))
    assert filtered == {"AAA": [_row(dte=5)], "BBB": [_row(dte=3)]}


# -- badges --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strike", "fair_value", "badge"),
    [(95, 100, "good"), (100, 100, "good"), (100.01, 100, "high"), (95, None, "n/a")],
)
def test_strike_badge(strike, fair_value, badge):
    assert strike_badge(strike, fair_value) == badge


def test_summary_badge_is_good_when_any_strike_is_at_or_below_the_fair_value():
    rows = [_row(strike=120), _row(strike=100), _row(strike=130)]
    assert summary_badge(rows, 100) == "good"
    assert summary_badge(rows, 99.99) == "high"
    assert summary_badge(rows, None) == "n/a"
    assert summary_badge([], 100) == "n/a"


# -- summaries -----------------------------------------------------------------------------


def test_summarize_computes_the_best_numbers_per_ticker():
    options = {
        "AAA": [
            _row(strike=90, annualized=35.0, delta=-0.05, spot=101.0),
            _row(strike=95, annualized=61.5, delta=-0.18, spot=101.0),
        ]
    }
    [summary] = summarize(options, {"AAA": "2026-11-18T16:00:00+00:00"}, {}, {"AAA": 92.0}.get)
    assert summary == TickerSummary(
        symbol="AAA",
        badge="good",
        puts=2,
        spot=101.0,
        best_annualized=61.5,
        lowest_abs_delta=0.05,
        scanned_at="2026-11-18T16:00:00+00:00",
        fair_value=92.0,
        error=None,
    )


def test_a_ticker_that_only_failed_still_gets_a_summary_with_its_error():
    summaries = summarize({"AAA": [_row()]}, {}, {"ZZZ": "rate limited"}, lambda symbol: None)
    assert [s.symbol for s in summaries] == ["AAA", "ZZZ"]
    failed = summaries[1]
    assert (failed.puts, failed.best_annualized, failed.error) == (0, None, "rate limited")


def _summary(symbol: str, **fields: object) -> TickerSummary:
    values = dict(
        badge="n/a", puts=1, spot=10.0, best_annualized=40.0, lowest_abs_delta=0.1,
        scanned_at=None, fair_value=None, error=None,
    )  # fmt: skip
    values.update(fields)
    return TickerSummary(symbol=symbol, **values)


def test_sort_by_a_number_in_both_directions():
    summaries = [
        _summary("B", best_annualized=50.0),
        _summary("A", best_annualized=70.0),
        _summary("C", best_annualized=60.0),
    ]
    down = sort_summaries(summaries, ResultFilters(sort="annualized", direction="desc"))
    assert [s.symbol for s in down] == ["A", "C", "B"]
    up = sort_summaries(summaries, ResultFilters(sort="annualized", direction="asc"))
    assert [s.symbol for s in up] == ["B", "C", "A"]


def test_missing_values_go_last_in_either_direction_and_ties_go_by_symbol():
    summaries = [
        _summary("D", spot=None),
        _summary("C", spot=5.0),
        _summary("A", spot=5.0),
        _summary("B", spot=None),
    ]
    for direction in ("asc", "desc"):
        ordered = sort_summaries(summaries, ResultFilters(sort="spot", direction=direction))
        assert [s.symbol for s in ordered] == ["A", "C", "B", "D"]


def test_sort_by_badge_puts_good_before_high_before_none():
    summaries = [
        _summary("A", badge="n/a"),
        _summary("B", badge="high"),
        _summary("C", badge="good"),
    ]
    ordered = sort_summaries(summaries, ResultFilters(sort="value"))
    assert [s.symbol for s in ordered] == ["C", "B", "A"]


@pytest.mark.parametrize("key", SORT_KEYS)
def test_every_sort_key_sorts_without_error(key):
    summaries = [_summary("A", error="x", puts=0, spot=None), _summary("B")]
    ordered = sort_summaries(summaries, ResultFilters(sort=key, direction="desc"))
    assert sorted(s.symbol for s in ordered) == ["A", "B"]
