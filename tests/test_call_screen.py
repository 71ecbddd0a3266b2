"""Screening covered calls on held shares, worked out by hand on a small chain."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from scanner_app.market.models import OptionQuote, PutChain, ScreenedCall
from scanner_app.market.pricing import bs_call_delta
from scanner_app.scan.screen import (
    Criteria,
    call_delta_target,
    evaluate_call,
    screen_calls,
)
from scanner_app.watchlist import Position

TODAY = date(2025, 6, 6)  # a Friday
RATE = 0.04
SPOT = 100.0
HELD = Position(shares=250, cost_basis=None)
#: only the call filters that matter here: no liquidity limits
CRITERIA = Criteria(min_call_annualized=20.0)


def call(strike: float, bid: float, days: int = 7, delta: float | None = 0.10) -> OptionQuote:
    """A call quote ``days`` out, with the provider's ``delta`` (None: Black-Scholes)."""
    return OptionQuote(
        contract_symbol=f"XYZ-C{strike}-{days}",
        expiration=TODAY + timedelta(days=days),
        strike=strike,
        bid=bid,
        ask=bid + 0.05,
        last=bid,
        volume=10,
        open_interest=100,
        implied_volatility=0.4,
        last_trade=None,
        delta=delta,
    )


def chain(*calls: OptionQuote, days: int = 7) -> PutChain:
    return PutChain(
        ticker="XYZ", expiration=TODAY + timedelta(days=days), spot=SPOT, puts=(), calls=calls
    )


def screened(*calls: OptionQuote, position: Position = HELD, days: int = 7) -> list:
    return screen_calls(chain(*calls, days=days), TODAY, CRITERIA, RATE, position)


@pytest.mark.parametrize(
    ("dte", "target"),
    [(1, 0.20), (7, 0.20), (8, 0.24), (14, 0.24), (15, 0.28), (21, 0.28), (22, 0.32),
     (28, 0.32), (29, 0.36), (60, 0.36)],
)  # fmt: skip
def test_the_delta_target_follows_the_seeds_table(dte, target):
    assert call_delta_target(dte) == target


def test_a_call_row_is_computed_by_hand():
    row = evaluate_call("XYZ", call(105.0, bid=0.50), SPOT, TODAY, RATE, HELD)
    assert isinstance(row, ScreenedCall)
    # 0.50 / 105 x 365 / 7 x 100 = 24.83 % a year
    assert row.annualized == pytest.approx(0.50 / 105 * 365 / 7 * 100)
    assert row.annualized == pytest.approx(24.83, abs=0.01)
    assert row.pct_otm == pytest.approx(5.0)
    assert row.contracts == 2  # 250 shares cover two contracts
    assert row.premium == pytest.approx(50.0)
    assert row.collateral == pytest.approx(100.0 * SPOT)
    assert row.breakeven == pytest.approx(99.50)  # the spot less the premium, no cost basis
    assert (row.delta, row.delta_source) == (0.10, "api")


def test_without_an_api_delta_black_scholes_gives_the_calls():
    row = evaluate_call("XYZ", call(105.0, 0.50, delta=None), SPOT, TODAY, RATE, HELD)
    assert row.delta_source == "black_scholes"
    assert row.delta == pytest.approx(bs_call_delta(SPOT, 105.0, 7 / 365, RATE, 0.4))
    assert 0 < row.delta < 0.5


def test_a_put_shaped_api_delta_is_not_a_calls():
    row = evaluate_call("XYZ", call(105.0, 0.50, delta=-0.3), SPOT, TODAY, RATE, HELD)
    assert row.delta_source == "black_scholes"


def test_calls_at_or_below_the_spot_are_not_sold():
    rows = screened(call(95.0, 6.0), call(100.0, 2.0), call(102.0, 1.0))
    assert [row.strike for row in rows] == [102.0]


def test_the_annualized_floor_is_min_call_annualized():
    # 0.40 / 102 x 365 / 7 x 100 = 20.45 % passes; 0.39 -> 19.94 % does not
    assert [row.bid for row in screened(call(102.0, 0.40))] == [0.40]
    assert screened(call(102.0, 0.39)) == []


def test_the_delta_target_depends_on_the_days_to_expiration():
    # delta 0.22 is over the 0.20 target at 7 days, under the 0.24 target at 8 days
    assert screened(call(110.0, 1.0, days=7, delta=0.22), days=7) == []
    rows = screened(call(110.0, 1.0, days=8, delta=0.22), days=8)
    assert [(row.dte, row.delta) for row in rows] == [(8, 0.22)]
    # at 29 days the target is 0.36: 0.36 passes, 0.37 does not
    month = screened(call(110.0, 3.0, 29, 0.36), call(112.0, 3.0, 29, 0.37), days=29)
    assert [row.strike for row in month] == [110.0]


def test_the_cost_basis_is_a_floor_for_the_strike():
    position = Position(shares=100, cost_basis=104.0)
    rows = screened(call(103.0, 1.0), call(104.0, 0.8), call(105.0, 0.6), position=position)
    assert [row.strike for row in rows] == [104.0, 105.0]
    assert rows[0].cost_basis == 104.0
    assert rows[0].breakeven == pytest.approx(104.0 - 0.8)


def test_the_contracts_are_the_shares_in_hundreds():
    for shares, contracts in ((100, 1), (199, 1), (200, 2), (1050, 10)):
        (row,) = screened(call(105.0, 0.5), position=Position(shares))
        assert row.contracts == contracts


def test_liquidity_limits_apply_to_calls_too():
    thin = replace(call(105.0, 0.5), open_interest=3)
    criteria = replace(CRITERIA, min_open_interest=10)
    assert screen_calls(chain(thin), TODAY, criteria, RATE, HELD) == []


def test_rows_come_by_expiration_then_strike_upward():
    rows = screened(call(108.0, 0.9), call(104.0, 0.9), call(106.0, 0.9))
    assert [row.strike for row in rows] == [104.0, 106.0, 108.0]
