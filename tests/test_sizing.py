"""Position sizing: contracts the cash secures and the premium they bring."""

from __future__ import annotations

import pytest

from scanner_app.web.ticker.sizing import Position, position, sizing_cash


@pytest.mark.parametrize(
    ("cash", "strike", "bid", "expected"),
    [
        (10_000, 50.0, 1.25, Position(2, 250.0)),  # 10,000 / 5,000 = 2
        (9_999.99, 50.0, 1.25, Position(1, 125.0)),  # one cent short of two
        (4_999, 50.0, 1.25, Position(0, 0.0)),  # not even one
        (3_330, 33.3, 0.40, Position(1, 40.0)),  # exact despite binary fractions
        (100_000, 7.5, 0.05, Position(133, 665.0)),  # floor(100,000 / 750)
        (0, 10.0, 0.5, Position(0, 0.0)),
    ],
)
def test_floor_of_cash_over_collateral_and_premium_at_the_bid(cash, strike, bid, expected):
    result = position({"strike": strike, "bid": bid}, cash)
    assert result.contracts == expected.contracts
    assert result.premium == pytest.approx(expected.premium)


@pytest.mark.parametrize(
    "row", [{"strike": None, "bid": 1.0}, {"strike": 0.0, "bid": 1.0}, {"strike": 50.0}, {}]
)
def test_a_row_without_a_usable_strike_or_bid_has_no_position(row):
    assert position(row, 10_000) is None


def test_the_form_s_cash_wins_over_the_setting():
    assert sizing_cash(5_000.0, 20_000.0) == 5_000.0
    assert sizing_cash(None, 20_000.0) == 20_000.0
    assert sizing_cash(None, None) is None
