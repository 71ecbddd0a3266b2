"""The tables' column declarations: every stored field is in the CSV and the JSON, the page
shows only declared columns, and the sort keys come from them."""

from __future__ import annotations

from dataclasses import fields

import pytest

from scanner_app.market.models import ScreenedCall, ScreenedPut
from scanner_app.scan.summary import SCORED_SORTS
from scanner_app.web.columns import CALLS, PUTS, SUMMARY, VOLATILITY, Column, Table
from scanner_app.web.query import PUT_SORT_KEYS, SORT_KEYS


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
    assert PUT_SORT_KEYS[:3] == ("strike", "bid", "ask") and "fair_value" not in PUT_SORT_KEYS
    assert SORT_KEYS == SUMMARY.sort_keys == SUMMARY.page


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
