"""Computing put rows and filtering a chain by the criteria."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import pytest

from scanner_app.market.models import OptionQuote, PutChain
from scanner_app.market.pricing import bs_put_delta, prob_expire_otm
from scanner_app.scan.screen import Criteria, evaluate_put, screen_chain, sort_puts

TODAY = date(2025, 6, 6)
NEXT_WEEK = TODAY + timedelta(days=7)
RATE = 0.04
SPOT = 100.0
#: keeps every OTM put with a bid, so each test can switch on just the filter it checks
KEEP_ALL = Criteria(min_annualized=0.0, min_delta=-1.0)


def put(strike: float, bid: float | None = 1.0, **changes) -> OptionQuote:
    """A put quote expiring next week, with fields overridable by keyword."""
    quote = OptionQuote(
        contract_symbol=f"XYZ-P{strike}",
        expiration=NEXT_WEEK,
        strike=strike,
        bid=bid,
        ask=None if bid is None else bid + 0.10,
        last=bid,
        volume=10,
        open_interest=100,
        implied_volatility=0.5,
        last_trade=None,
    )
    return replace(quote, **changes)


def chain(*puts: OptionQuote, spot: float = SPOT, expiration: date = NEXT_WEEK) -> PutChain:
    return PutChain(ticker="XYZ", expiration=expiration, spot=spot, puts=puts)


def strikes(rows) -> list[float]:
    return [row.strike for row in rows]


def test_evaluate_put_fills_every_field():
    row = evaluate_put("XYZ", put(95.0, bid=1.0, ask=1.10), SPOT, TODAY, RATE)
    assert row is not None
    assert row.ticker == "XYZ"
    assert row.contract_symbol == "XYZ-P95.0"
    assert row.expiration == "2025-06-13"
    assert (row.strike, row.bid, row.ask, row.iv, row.spot) == (95.0, 1.0, 1.10, 0.5, SPOT)
    assert (row.volume, row.open_interest, row.last) == (10, 100, 1.0)
    assert row.dte == 7
    # $1 on $95 for a week: 1/95 = 1.0526% a week, times 365/7 = 54.887% a year.
    assert row.annualized == pytest.approx(54.887218, abs=1e-6)
    assert row.pct_otm == pytest.approx(5 / 95 * 100)  # 5.263%
    assert row.breakeven == pytest.approx(94.0)
    assert row.premium == pytest.approx(100.0)
    assert row.collateral == pytest.approx(9500.0)
    assert row.spread_pct == pytest.approx(0.10 / 1.05 * 100)  # 9.524%
    assert -1.0 < row.delta < 0.0
    assert 0.0 < row.prob_otm < 1.0
    assert row.to_dict()["expiration"] == "2025-06-13"


def test_delta_and_prob_otm_can_be_recomputed_from_the_row_alone():
    row = evaluate_put("XYZ", put(97.5, implied_volatility=0.8), SPOT, TODAY, RATE)
    model_inputs = (row.spot, row.strike, row.dte / 365, RATE, row.iv)
    assert row.delta == pytest.approx(bs_put_delta(*model_inputs), abs=1e-12)
    assert row.prob_otm == pytest.approx(prob_expire_otm(*model_inputs), abs=1e-12)


def test_on_expiration_day_dte_is_one():
    row = evaluate_put("XYZ", put(95.0, expiration=TODAY), SPOT, TODAY, RATE)
    assert row.dte == 1
    assert row.annualized == pytest.approx(1.0 / 95 * 365 * 100)


@pytest.mark.parametrize(
    "quote",
    [
        put(95.0, bid=0.0),
        put(95.0, bid=None),
        put(95.0, bid=math.nan),
        put(95.0, bid=-0.05),
        put(95.0, implied_volatility=None),
        put(95.0, implied_volatility=math.nan),
        put(95.0, implied_volatility=0.0),
        put(95.0, implied_volatility=5.01),
        put(0.0),
        put(-5.0),
        put(math.nan),
    ],
)
def test_rows_that_cannot_be_priced_are_none(quote):
    assert evaluate_put("XYZ", quote, SPOT, TODAY, RATE) is None


@pytest.mark.parametrize("spot", [0.0, -1.0, math.nan])
def test_a_bad_spot_gives_none(spot):
    assert evaluate_put("XYZ", put(95.0), spot, TODAY, RATE) is None


def test_an_iv_of_exactly_five_is_still_usable():
    assert evaluate_put("XYZ", put(95.0, implied_volatility=5.0), SPOT, TODAY, RATE) is not None


def test_missing_ask_leaves_the_spread_unknown():
    row = evaluate_put("XYZ", put(95.0, ask=None), SPOT, TODAY, RATE)
    assert row.spread_pct is None


def test_a_zero_ask_beside_a_bid_is_a_missing_ask_not_a_negative_spread():
    row = evaluate_put("XYZ", put(95.0, bid=1.0, ask=0.0), SPOT, TODAY, RATE)
    assert (row.ask, row.spread_pct) == (None, None)  # (0 - 1) / 0.5 would be -200%


def test_a_black_scholes_delta_says_so_in_the_row():
    row = evaluate_put("XYZ", put(95.0), SPOT, TODAY, RATE)
    assert row.to_dict()["delta_source"] == "black_scholes"
    assert row.delta == pytest.approx(bs_put_delta(SPOT, 95.0, 7 / 365, RATE, 0.5), abs=1e-12)


def test_the_providers_delta_is_used_when_it_sends_one():
    row = evaluate_put("XYZ", put(95.0, delta=-0.1234), SPOT, TODAY, RATE)
    assert (row.delta, row.delta_source) == (-0.1234, "api")
    assert row.to_dict()["delta_source"] == "api"


@pytest.mark.parametrize("delta", [0.25, -1.5, math.nan, math.inf])
def test_an_implausible_provider_delta_falls_back_to_black_scholes(delta):
    row = evaluate_put("XYZ", put(95.0, delta=delta), SPOT, TODAY, RATE)
    assert row.delta_source == "black_scholes"
    assert row.delta == pytest.approx(bs_put_delta(SPOT, 95.0, 7 / 365, RATE, 0.5), abs=1e-12)


def test_min_delta_judges_the_providers_delta():
    # Black-Scholes would drop the 95 put (-0.216) and keep the 92 (-0.106); the provider
    # says the opposite, and its figures decide.
    puts = (put(95.0, delta=-0.15), put(92.0, delta=-0.30))
    criteria = replace(KEEP_ALL, min_delta=-0.20)
    assert strikes(screen_chain(chain(*puts), TODAY, criteria, RATE)) == [95.0]


def test_rows_carry_the_spot_source_of_their_chain():
    premarket = replace(chain(put(95.0)), spot_source="pre")
    [row] = screen_chain(premarket, TODAY, KEEP_ALL, RATE)
    assert row.to_dict()["spot_source"] == "pre"


def test_empty_chain_gives_no_rows():
    assert screen_chain(chain(), TODAY, KEEP_ALL, RATE) == []


def test_only_out_of_the_money_puts_with_a_bid_are_kept():
    puts = (put(90.0), put(95.0, bid=0.0), put(99.0), put(100.0), put(105.0, bid=6.0))
    assert strikes(screen_chain(chain(*puts), TODAY, KEEP_ALL, RATE)) == [99.0, 90.0]


def test_min_annualized_is_inclusive_of_higher_returns():
    # A week at 365/7: 0.20/90 -> 11.6%, 0.50/95 -> 27.4%, 1.00/98 -> 53.2% a year.
    puts = (put(90.0, bid=0.20), put(95.0, bid=0.50), put(98.0, bid=1.00))
    criteria = replace(KEEP_ALL, min_annualized=27.0)
    assert strikes(screen_chain(chain(*puts), TODAY, criteria, RATE)) == [98.0, 95.0]


def test_min_delta_drops_puts_closer_to_the_money():
    puts = (put(90.0), put(95.0), put(98.0))
    boundary = bs_put_delta(SPOT, 95.0, 7 / 365, RATE, 0.5)
    criteria = replace(KEEP_ALL, min_delta=boundary)
    assert strikes(screen_chain(chain(*puts), TODAY, criteria, RATE)) == [95.0, 90.0]


def test_min_open_interest_counts_missing_as_zero():
    puts = (put(90.0, open_interest=None), put(95.0, open_interest=49), put(97.0, open_interest=50))
    criteria = replace(KEEP_ALL, min_open_interest=50)
    assert strikes(screen_chain(chain(*puts), TODAY, criteria, RATE)) == [97.0]
    assert len(screen_chain(chain(*puts), TODAY, KEEP_ALL, RATE)) == 3


def test_min_volume_counts_missing_as_zero():
    puts = (put(90.0, volume=None), put(95.0, volume=4), put(97.0, volume=5))
    criteria = replace(KEEP_ALL, min_volume=5)
    assert strikes(screen_chain(chain(*puts), TODAY, criteria, RATE)) == [97.0]


def test_min_dte_keeps_expirations_at_least_that_far_out():
    week, month = NEXT_WEEK, TODAY + timedelta(days=30)
    puts_of = {day: (put(90.0, expiration=day),) for day in (week, month)}
    criteria = replace(KEEP_ALL, min_dte=30)
    kept = {
        day: screen_chain(chain(*puts_of[day], expiration=day), TODAY, criteria, RATE)
        for day in puts_of
    }
    assert [row.dte for row in kept[month]] == [30]
    assert kept[week] == []


def test_max_spread_keeps_rows_with_an_unknown_spread():
    # Spreads: 0.10 on a 1.05 mid = 9.5%; 0.50 on a 1.25 mid = 40%; no ask = unknown.
    puts = (put(90.0, ask=1.10), put(95.0, ask=1.50), put(97.0, ask=None))
    criteria = replace(KEEP_ALL, max_spread_pct=10.0)
    assert strikes(screen_chain(chain(*puts), TODAY, criteria, RATE)) == [97.0, 90.0]
    assert len(screen_chain(chain(*puts), TODAY, KEEP_ALL, RATE)) == 3


def test_chain_rows_come_out_by_strike_descending():
    puts = (put(90.0), put(97.0), put(92.5), put(95.0))
    assert strikes(screen_chain(chain(*puts), TODAY, KEEP_ALL, RATE)) == [97.0, 95.0, 92.5, 90.0]


def test_sort_puts_orders_by_expiration_then_strike_descending():
    later = NEXT_WEEK + timedelta(days=7)
    near = screen_chain(chain(put(90.0), put(95.0)), TODAY, KEEP_ALL, RATE)
    far = screen_chain(
        chain(put(92.0, expiration=later), put(97.0, expiration=later), expiration=later),
        TODAY,
        KEEP_ALL,
        RATE,
    )
    merged = sort_puts(far + near)
    assert [(row.expiration, row.strike) for row in merged] == [
        ("2025-06-13", 95.0),
        ("2025-06-13", 90.0),
        ("2025-06-20", 97.0),
        ("2025-06-20", 92.0),
    ]


def test_default_criteria():
    assert Criteria() == Criteria(
        min_annualized=30.0,
        min_delta=-0.20,
        weeks=4,
        min_open_interest=0,
        min_volume=0,
        max_spread_pct=None,
    )


def test_criteria_from_settings():
    settings = {
        "MIN_ANNUALIZED": 25.0,
        "MIN_CALL_ANNUALIZED": 15.0,
        "MIN_DELTA": -0.3,
        "WEEKS": 6,
        "MIN_DTE": 30,
        "MIN_OPEN_INTEREST": 100,
        "MIN_VOLUME": 5,
        "MAX_SPREAD_PCT": 1000.0,
        "RISK_FREE_RATE": 0.04,
    }
    assert Criteria.from_settings(settings) == Criteria(
        min_annualized=25.0,
        min_call_annualized=15.0,
        min_delta=-0.3,
        weeks=6,
        min_dte=30,
        min_open_interest=100,
        min_volume=5,
        max_spread_pct=1000.0,
    )
