"""The dashboard's view from the query string: filters, sort order and page."""

from __future__ import annotations

import pytest

from scanner_app.screens.query import (
    DEFAULT_PER_PAGE,
    LABELS,
    MAX_PAGE,
    MAX_PARAM_LENGTH,
    MAX_PER_PAGE,
    PUT_SORT_KEYS,
    ResultFilters,
    parse_filters,
)

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
    assert messages[0].startswith(f"{LABELS[name]} must be ")
    assert messages[0].endswith("; ignored.")


def test_the_message_states_the_accepted_range():
    _, messages = parse_filters({"min_delta": "2"})
    assert messages == ["Min delta must be a number from -1 to 0; ignored."]
    _, messages = parse_filters({"max_dte": "x"})
    assert messages == ["Max days to expiry must be a whole number from 0 to 1000; ignored."]


@pytest.mark.parametrize(
    ("name", "raw"), [("sort", "price; drop table"), ("sort", "x" * 500), ("dir", "sideways")]
)
def test_an_unknown_sort_key_or_direction_falls_back_with_a_message(name, raw):
    filters, messages = parse_filters({name: raw})
    assert (filters.sort, filters.direction) == ("ticker", "asc")
    assert len(messages) == 1 and messages[0].startswith(f"{LABELS[name]} must be one of ")


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
        ResultFilters(sort="puts", direction="desc", page=7, per_page=500),
        ResultFilters(layout="table", put_sort="expiration", put_direction="asc"),
        ResultFilters(exclude_earnings=True, max_dte=14),
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
    assert ResultFilters(exclude_earnings=True).active


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), (" ON ", True), ("true", True), ("0", False), ("off", False)]
)
def test_exclude_earnings_is_a_flag(raw, expected):
    filters, messages = parse_filters({"exclude_earnings": raw})
    assert (filters.exclude_earnings, messages) == (expected, [])
    assert filters.filter_args() == ({"exclude_earnings": "1"} if expected else {})


def test_at_or_below_fair_value_is_a_flag_and_a_filter():
    filters, messages = parse_filters({"at_or_below_fair_value": "1"})
    assert (filters.at_or_below_fair_value, messages) == (True, [])
    assert filters.active and filters.filter_args() == {"at_or_below_fair_value": "1"}
    _filters, messages = parse_filters({"at_or_below_fair_value": "yes"})
    assert messages == ["Only strikes at or below fair value must be 1 or 0; ignored."]


@pytest.mark.parametrize("raw", ["yes please", "2", "x" * (MAX_PARAM_LENGTH + 1)])
def test_a_bad_exclude_earnings_is_ignored_with_a_message(raw):
    filters, messages = parse_filters({"exclude_earnings": raw})
    assert filters == ResultFilters()
    assert messages == ["Exclude puts expiring on or after earnings must be 1 or 0; ignored."]


def test_sorting_by_a_new_column_starts_with_its_interesting_end():
    assert ResultFilters().sorted_by("annualized").direction == "desc"
    assert ResultFilters().sorted_by("spot").direction == "asc"


def test_sorting_by_the_current_column_flips_the_direction():
    ascending = ResultFilters(sort="spot", direction="asc", max_dte=3)
    assert ascending.sorted_by("spot") == ResultFilters(sort="spot", direction="desc", max_dte=3)
    assert ascending.sorted_by("spot").sorted_by("spot") == ascending


def test_sorting_by_a_column_goes_back_to_the_first_page():
    on_page_three = ResultFilters(sort="spot", page=3, per_page=25)
    assert on_page_three.sorted_by("spot") == ResultFilters(
        sort="spot", direction="desc", per_page=25
    )
    assert on_page_three.sorted_by("annualized").page == 1


# -- page and per_page ---------------------------------------------------------------------


def test_the_default_page_is_the_first_of_fifty_tickers():
    filters = ResultFilters()
    assert (filters.page, filters.per_page, filters.offset) == (1, DEFAULT_PER_PAGE, 0)
    assert DEFAULT_PER_PAGE == 50 and MAX_PER_PAGE == 500


def test_page_and_per_page_are_read_and_give_the_offset():
    filters, messages = parse_filters({"page": "3", "per_page": "25"})
    assert messages == []
    assert (filters.page, filters.per_page, filters.offset) == (3, 25, 50)


def test_the_page_limits_themselves_are_accepted():
    filters, messages = parse_filters({"page": str(MAX_PAGE), "per_page": str(MAX_PER_PAGE)})
    assert messages == []
    assert (filters.page, filters.per_page) == (MAX_PAGE, MAX_PER_PAGE)


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("per_page", "501", "Tickers per page must be a whole number from 1 to 500; ignored."),
        ("per_page", "0", "Tickers per page must be a whole number from 1 to 500; ignored."),
        ("per_page", "ten", "Tickers per page must be a whole number from 1 to 500; ignored."),
        ("page", "0", "Page must be a whole number from 1 to 100000; ignored."),
        ("page", "-2", "Page must be a whole number from 1 to 100000; ignored."),
        ("page", "1.5", "Page must be a whole number from 1 to 100000; ignored."),
        ("page", str(MAX_PAGE + 1), "Page must be a whole number from 1 to 100000; ignored."),
    ],
)
def test_a_bad_page_falls_back_to_the_default_with_a_message(name, raw, message):
    filters, messages = parse_filters({name: raw})
    assert filters == ResultFilters()
    assert messages == [message]


def test_the_page_is_in_the_url_but_not_a_filter():
    filters = ResultFilters(max_dte=5, page=2, per_page=100)
    assert filters.query_args() == {"max_dte": "5", "page": "2", "per_page": "100"}
    assert filters.filter_args() == {"max_dte": "5"}
    assert not ResultFilters(page=4, per_page=10).active
    assert ResultFilters(page=1, per_page=DEFAULT_PER_PAGE).query_args() == {}


def test_on_page_keeps_the_rest_of_the_view():
    filters = ResultFilters(min_annualized=30.0, sort="delta", direction="desc", per_page=25)
    assert filters.on_page(4) == ResultFilters(
        min_annualized=30.0, sort="delta", direction="desc", page=4, per_page=25
    )
    assert parse_filters(filters.on_page(4).query_args()) == (filters.on_page(4), [])


# -- the screens: DTE range, liquidity, cash and the puts' sort --------------------------------


def test_the_screen_parameters_are_read_under_their_query_names():
    args = {
        "min_dte": "30",
        "max_dte": "45",
        "min_volume": "10",
        "min_vol_oi": "0.5",
        "max_spread": "12.5",
        "cash": "25000",
        "put_sort": "annualized",
        "put_dir": "asc",
    }
    filters, messages = parse_filters(args)
    assert messages == []
    assert filters == ResultFilters(
        min_dte=30,
        max_dte=45,
        min_volume=10,
        min_vol_oi=0.5,
        max_spread=12.5,
        cash=25000.0,
        put_sort="annualized",
        put_direction="asc",
    )


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("min_dte", "30.5", "Min days to expiry must be a whole number from 0 to 1000; ignored."),
        ("min_volume", "-1", "Min volume must be a whole number from 0 to 10000000; ignored."),
        (
            "min_vol_oi",
            "lots",
            "Min volume / open interest must be a number from 0 to 1000; ignored.",
        ),
        ("max_spread", "nan", "Max spread % must be a number from 0 to 1000; ignored."),
        ("cash", "$5000", "Cash to size with, $ must be a number from 0 to 1000000000; ignored."),
        (
            "put_sort",
            "bogus",
            "Puts sort must be one of " + ", ".join(PUT_SORT_KEYS) + "; ignored.",
        ),
        ("put_dir", "up", "Puts sort direction must be one of asc, desc; ignored."),
    ],
)
def test_a_bad_screen_value_is_ignored_with_a_clear_message(name, raw, message):
    filters, messages = parse_filters({name: raw})
    assert filters == ResultFilters()
    assert messages == [message]


def test_cash_and_the_puts_sort_are_in_the_url_but_not_filters():
    filters = ResultFilters(min_volume=5, cash=10_000.0, put_sort="delta", put_direction="asc")
    assert not ResultFilters(cash=10_000.0, put_sort="iv").active
    assert filters.filter_args() == {"min_volume": "5"}
    assert filters.puts_args() == {
        "min_volume": "5",
        "cash": "10000",
        "put_sort": "delta",
        "put_dir": "asc",
    }
    assert parse_filters(filters.query_args()) == (filters, [])


def test_puts_args_leave_out_the_default_sort_of_puts():
    assert ResultFilters(sort="spot").puts_args() == {}


def test_sorting_puts_by_a_new_column_starts_descending_then_flips():
    by_bid = ResultFilters().puts_sorted_by("bid")
    assert (by_bid.put_sort, by_bid.put_direction) == ("bid", "desc")
    assert by_bid.puts_sorted_by("bid").put_direction == "asc"
    assert by_bid.puts_sorted_by("bid").puts_sorted_by("bid") == by_bid
    assert ResultFilters().puts_sorted_by("strike").put_direction == "asc"  # strike desc now


def test_the_calls_view_round_trips_its_filters_and_order():
    filters = ResultFilters(min_annualized=20.0, call_sort="annualized", call_direction="desc")
    assert parse_filters(filters.calls_args()) == (filters, [])


def test_a_first_click_sorts_dates_and_tickers_ascending_and_figures_descending():
    filters = ResultFilters()
    assert filters.puts_sorted_by("expiration").put_direction == "asc"
    assert filters.puts_sorted_by("annualized").put_direction == "desc"
    assert filters.calls_sorted_by("ticker").call_direction == "desc"  # already sorted: flips
    assert filters.calls_sorted_by("iv").call_direction == "desc"
