"""A ticker's puts sorted by any column, either way."""

from __future__ import annotations

from dataclasses import fields

import pytest

from scanner_app.market.models import ScreenedPut
from scanner_app.screens.query import PUT_SORT_KEYS
from scanner_app.web.columns import VOLATILITY, sort_rows_by


def strikes(rows) -> list[float]:
    return [row["strike"] for row in rows]


ROWS = [
    {"strike": 90.0, "bid": 0.5, "volume": 10, "delta": -0.10},
    {"strike": 95.0, "bid": 1.5, "volume": None, "delta": -0.15},
    {"strike": 85.0, "bid": 0.2, "volume": 40, "delta": -0.05},
]


@pytest.mark.parametrize(
    ("column", "ascending"),
    [("strike", [85.0, 90.0, 95.0]), ("bid", [85.0, 90.0, 95.0]), ("delta", [95.0, 90.0, 85.0])],
)
def test_rows_sort_by_a_column_both_ways(column, ascending):
    assert strikes(sort_rows_by(ROWS, column, "asc")) == ascending
    assert strikes(sort_rows_by(ROWS, column, "desc")) == ascending[::-1]


def test_rows_missing_the_column_come_last_either_way():
    assert strikes(sort_rows_by(ROWS, "volume", "asc")) == [90.0, 85.0, 95.0]
    assert strikes(sort_rows_by(ROWS, "volume", "desc")) == [85.0, 90.0, 95.0]


def test_ties_keep_their_order_and_non_numbers_count_as_missing():
    rows = [
        {"strike": 1, "iv": 0.3},
        {"strike": 2, "iv": "high"},
        {"strike": 3, "iv": 0.3},
        {"strike": 4, "iv": float("nan")},
        {"strike": 5, "iv": 0.2},
    ]
    assert strikes(sort_rows_by(rows, "iv", "desc")) == [1, 3, 5, 2, 4]
    assert strikes(sort_rows_by(rows, "iv", "asc")) == [5, 1, 3, 2, 4]


def test_every_sortable_column_is_a_field_of_a_put():
    names = {field.name for field in fields(ScreenedPut)} | {c.name for c in VOLATILITY}
    assert set(PUT_SORT_KEYS) <= names
