"""Black-Scholes put and call maths and the ratios of the screen."""

from __future__ import annotations

import math
from datetime import date
from itertools import pairwise
from statistics import NormalDist

import pytest

from scanner_app.market.pricing import (
    annualized_return,
    bs_call_delta,
    bs_call_price,
    bs_put_delta,
    bs_put_price,
    call_pct_otm,
    call_prob_expire_otm,
    days_to_expiry,
    norm_cdf,
    pct_otm,
    prob_expire_otm,
    spread_pct,
)

# Hull, Options, Futures, and Other Derivatives, the Black-Scholes-Merton worked example:
# S0 = 42, K = 40, r = 10%, sigma = 20%, T = 0.5 gives d1 = 0.7693, d2 = 0.6278,
# c = 4.76 and p = 0.81 (0.8086 and 4.7594 to four places).
HULL = {"spot": 42.0, "strike": 40.0, "t_years": 0.5, "rate": 0.10, "sigma": 0.20}
HULL_D1 = 0.7693
HULL_D2 = 0.6278
STANDARD_NORMAL = NormalDist()


@pytest.mark.parametrize("x", [-3.0, -1.0, -0.25, 0.0, 0.5, 1.96, 4.0])
def test_norm_cdf_matches_the_standard_library_normal(x):
    assert norm_cdf(x) == pytest.approx(STANDARD_NORMAL.cdf(x), abs=1e-12)


def test_put_price_matches_hulls_worked_example():
    assert bs_put_price(**HULL) == pytest.approx(0.8086, abs=1e-4)


def test_put_call_parity_recovers_hulls_call_price():
    discounted_strike = HULL["strike"] * math.exp(-HULL["rate"] * HULL["t_years"])
    call = bs_put_price(**HULL) + HULL["spot"] - discounted_strike
    assert call == pytest.approx(4.7594, abs=1e-4)


def test_put_delta_is_call_delta_minus_one():
    call_delta = STANDARD_NORMAL.cdf(HULL_D1)  # 0.7791...
    assert call_delta == pytest.approx(0.7791, abs=1e-4)
    assert bs_put_delta(**HULL) == pytest.approx(call_delta - 1, abs=1e-4)


def test_prob_otm_is_n_of_hulls_d2():
    assert prob_expire_otm(**HULL) == pytest.approx(STANDARD_NORMAL.cdf(HULL_D2), abs=1e-4)


@pytest.mark.parametrize("strike", [80.0, 95.0, 100.0, 104.0, 130.0])
def test_delta_is_the_slope_of_the_price_in_spot(strike):
    inputs = {"strike": strike, "t_years": 30 / 365, "rate": 0.04, "sigma": 0.35}
    step = 1e-3
    slope = (bs_put_price(spot=100 + step, **inputs) - bs_put_price(spot=100 - step, **inputs)) / (
        2 * step
    )
    assert bs_put_delta(spot=100.0, **inputs) == pytest.approx(slope, abs=1e-6)


@pytest.mark.parametrize("strike", [80.0, 95.0, 100.0, 104.0, 130.0])
def test_prob_otm_follows_from_the_slope_of_the_price_in_strike(strike):
    # dP/dK = exp(-rT) * N(-d2), so N(d2) = 1 - exp(rT) * dP/dK.
    inputs = {"spot": 100.0, "t_years": 30 / 365, "rate": 0.04, "sigma": 0.35}
    step = 1e-3
    slope = (
        bs_put_price(strike=strike + step, **inputs) - bs_put_price(strike=strike - step, **inputs)
    ) / (2 * step)
    expected = 1 - math.exp(inputs["rate"] * inputs["t_years"]) * slope
    assert prob_expire_otm(strike=strike, **inputs) == pytest.approx(expected, abs=1e-6)


def test_delta_and_prob_otm_stay_in_range_and_fall_as_the_strike_rises():
    strikes = [50.0 + 2.5 * i for i in range(41)]  # 50 .. 150 around a spot of 100
    inputs = {"spot": 100.0, "t_years": 14 / 365, "rate": 0.04, "sigma": 0.6}
    deltas = [bs_put_delta(strike=k, **inputs) for k in strikes]
    probs = [prob_expire_otm(strike=k, **inputs) for k in strikes]
    assert all(-1.0 <= d <= 0.0 for d in deltas)
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert all(lower > higher for lower, higher in pairwise(deltas))
    assert all(lower > higher for lower, higher in pairwise(probs))
    assert deltas[0] > -0.01 and deltas[-1] < -0.99


BAD_MODEL_INPUTS = [
    ("spot", 0.0),
    ("spot", -1.0),
    ("spot", math.nan),
    ("strike", 0.0),
    ("strike", math.inf),
    ("t_years", 0.0),
    ("t_years", -0.1),
    ("sigma", 0.0),
    ("sigma", math.nan),
    ("rate", math.nan),
]


@pytest.mark.parametrize("function", [bs_put_price, bs_put_delta, prob_expire_otm])
@pytest.mark.parametrize(("name", "value"), BAD_MODEL_INPUTS)
def test_unusable_model_inputs_raise_a_named_value_error(function, name, value):
    with pytest.raises(ValueError, match=name):
        function(**{**HULL, name: value})


def test_a_negative_rate_is_allowed():
    assert 0 < bs_put_price(**{**HULL, "rate": -0.01}) < HULL["strike"]


@pytest.mark.parametrize(
    ("expiration", "expected"),
    [
        (date(2025, 6, 13), 1),  # expiration day itself
        (date(2025, 6, 14), 1),
        (date(2025, 6, 20), 7),
        (date(2025, 7, 13), 30),
        (date(2025, 6, 1), 1),  # already past: never below one day
    ],
)
def test_days_to_expiry_counts_calendar_days_with_a_floor_of_one(expiration, expected):
    assert days_to_expiry(expiration, date(2025, 6, 13)) == expected


def test_annualized_return_examples():
    # $1 on $100 for a year is 1%; 50 cents on $50 for a week is 1% a week, 52.142857% a year.
    assert annualized_return(1.0, 100.0, 365) == pytest.approx(1.0)
    assert annualized_return(0.5, 50.0, 7) == pytest.approx(52.142857, abs=1e-6)


@pytest.mark.parametrize(("strike", "dte"), [(0.0, 7), (-5.0, 7), (50.0, 0)])
def test_annualized_return_rejects_a_bad_strike_or_dte(strike, dte):
    with pytest.raises(ValueError, match="strike|dte"):
        annualized_return(1.0, strike, dte)


def test_pct_otm_is_relative_to_the_strike():
    assert pct_otm(110.0, 100.0) == pytest.approx(10.0)
    assert pct_otm(90.0, 100.0) == pytest.approx(-10.0)
    assert pct_otm(100.0, 80.0) == pytest.approx(25.0)
    with pytest.raises(ValueError, match="strike"):
        pct_otm(100.0, 0.0)


def test_spread_pct_is_relative_to_the_mid():
    assert spread_pct(1.0, 1.2) == pytest.approx(0.2 / 1.1 * 100)  # 18.18%
    assert spread_pct(2.0, 2.0) == 0.0


@pytest.mark.parametrize(("bid", "ask"), [(1.0, None), (1.0, math.nan), (0.0, 0.0)])
def test_spread_pct_is_none_when_unknown(bid, ask):
    assert spread_pct(bid, ask) is None


def test_call_price_matches_hulls_worked_example():
    assert bs_call_price(**HULL) == pytest.approx(4.7594, abs=1e-4)


def test_call_delta_and_prob_otm_follow_from_hulls_d1_and_d2():
    assert bs_call_delta(**HULL) == pytest.approx(STANDARD_NORMAL.cdf(HULL_D1), abs=1e-4)
    assert call_prob_expire_otm(**HULL) == pytest.approx(1 - STANDARD_NORMAL.cdf(HULL_D2), abs=1e-4)


def test_call_pct_otm_is_relative_to_the_spot():
    assert call_pct_otm(100.0, 110.0) == pytest.approx(10.0)
    assert call_pct_otm(100.0, 95.0) == pytest.approx(-5.0)
