"""The tables' column declarations: every stored field is in the CSV and the JSON, the page
shows only declared columns, and the sort keys come from them."""

from __future__ import annotations

from dataclasses import fields

import pytest

from scanner_app.market.models import ScreenedCall, ScreenedPut
from scanner_app.scan.summary import SCORED_SORTS
from scanner_app.screens.query import CALL_SORT_KEYS, PUT_SORT_KEYS, SORT_KEYS
from scanner_app.web.columns import (
    CALLS,
    PUTS,
    SUMMARY,
    VOLATILITY,
    Column,
    Table,
    sort_rows_by,
)


@pytest.mark.parametrize(("table", "model"), [(PUTS, ScreenedPut), (CALLS, ScreenedCall)])
def test_the_csv_and_json_carry_every_stored_field_in_order(table: Table, model: type) -> None:
    stored = tuple(field.name for field in fields(model))
    history = tuple(column.name for column in VOLATILITY)
    assert table.csv_header == (*stored, "stale", *history)
    assert table.json_fields == (*stored, *history)


@pytest.mark.parametrize("table", [PUTS, CALLS, SUMMARY])
def test_the_page_shows_declared_labelled_columns_once(table: Table) -> None:
    names = [column.name for column in table.columns]
    assert len(names) == len(set(names))
    assert len(table.page) == len(set(table.page)) and set(table.page) <= set(names)
    assert all(column.label for column in table.page_columns())


def test_the_sort_keys_are_the_sortable_columns_in_page_order() -> None:
    assert PUT_SORT_KEYS == PUTS.sort_keys
    assert (
        PUT_SORT_KEYS[:3] == ("strike", "expiration", "bid") and "fair_value" not in PUT_SORT_KEYS
    )
    assert CALL_SORT_KEYS == CALLS.sort_keys and CALL_SORT_KEYS[0] == "ticker"
    assert SORT_KEYS == SUMMARY.sort_keys
    assert SORT_KEYS == ("ticker", "annualized", "delta", "spot", "value", "iv_rank", "puts")


def test_the_dashboard_line_starts_with_the_ticker_then_its_best_put() -> None:
    """At phone width the ticker, the best annualized, its strike and delta come first."""
    assert SUMMARY.page[:4] == ("ticker", "annualized", "strike", "delta")
    best = [column.name for column in SUMMARY.page_columns() if column.cell == "best_put"]
    assert best == ["annualized", "strike", "delta", "expiration", "dte", "bid"]


def test_a_short_header_has_its_full_name_for_hover() -> None:
    assert PUTS.column("prob_otm").label == "P(OTM)"
    assert PUTS.labels()["prob_otm"] == "Probability of expiring out of the money"
    assert PUTS.labels()["strike"] == "Strike"


def test_the_csv_writes_each_value_as_the_page_shows_it() -> None:
    row = {
        "strike": 230.0,
        "bid": 1.1,
        "iv": 0.31254,
        "annualized": 52.03456,
        "delta": -0.193345,
        "prob_otm": 0.785,
        "volume": 12,
        "earnings_before_expiry": False,
        "stale": True,
        "ask": None,
    }
    cells = PUTS.csv_row(row)
    assert (cells["strike"], cells["bid"], cells["ask"]) == ("230.00", "1.10", "")
    assert (cells["iv"], cells["annualized"], cells["prob_otm"]) == ("31.25", "52.03", "78.50")
    assert (cells["delta"], cells["volume"]) == ("-0.1933", 12)
    assert (cells["earnings_before_expiry"], cells["stale"]) == ("false", "true")
    assert list(cells) == list(PUTS.csv_header)


def test_the_csv_writes_the_historys_figures_as_the_page_shows_them() -> None:
    row = {
        "iv30": 0.28456,
        "hv20": 0.2,
        "iv_rank": 41.256,
        "iv_percentile": 60,
        "iv_history_days": 252,
        "expected_move": 7.1234,
        "strike_in_expected_moves": 1.23456,
        "new": True,
    }
    cells = PUTS.csv_row(row)
    assert (cells["iv30"], cells["hv20"]) == ("28.46", "20.00")
    assert (cells["iv_rank"], cells["iv_percentile"], cells["iv_history_days"]) == (
        "41.26",
        "60.00",
        252,
    )
    assert (cells["expected_move"], cells["strike_in_expected_moves"]) == ("7.12", "1.23")
    assert cells["new"] == "true" and cells["iv_as_of"] is None


def test_a_text_column_sorts_as_text_and_anything_else_comes_last() -> None:
    rows = [{"t": "B"}, {"t": None}, {"t": "A"}, {"t": 3}]
    assert [row["t"] for row in sort_rows_by(rows, "t", "asc", text=True)] == ["A", "B", None, 3]
    assert [row["t"] for row in sort_rows_by(rows, "t", "desc", text=True)] == ["B", "A", None, 3]
    calls = [{"ticker": "NVDA"}, {"ticker": "AAPL"}]
    assert CALLS.sort_rows(calls, "ticker", "asc") == [{"ticker": "AAPL"}, {"ticker": "NVDA"}]


def test_every_stored_dashboard_sort_has_a_score_from_the_scan() -> None:
    """``ticker`` and ``value`` are ordered by the web; the rest by the stored sort scores."""
    assert set(SORT_KEYS) - {"ticker", "value"} <= set(SCORED_SORTS)


def test_a_column_shown_with_something_needs_the_view_to_have_it() -> None:
    shown = [column.name for column in PUTS.page_columns([])]
    with_cash = [column.name for column in PUTS.page_columns(["cash"])]
    assert "contracts" not in shown and "total_premium" not in shown
    assert with_cash.index("contracts") == with_cash.index("collateral") + 1
    assert [column.name for column in CALLS.page_columns(["ticker"])][0] == "ticker"
    assert "ticker" not in [column.name for column in CALLS.page_columns([])]


def test_the_json_row_keeps_the_declared_fields_it_has_in_order() -> None:
    table = Table((Column("b"), Column("a"), Column("page", json=False)), page=())
    assert list(table.json_row({"a": 1, "page": 2, "b": 3, "extra": 4})) == ["b", "a"]
