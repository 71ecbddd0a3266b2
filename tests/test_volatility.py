"""IV30, HV20, IV rank and percentile, and the expected move, worked by hand."""

from __future__ import annotations

import math

import pytest

from scanner_app.valuation.volatility import (
    FLAT_RANK,
    atm_iv,
    expected_move,
    hv20,
    iv30,
    iv_percentile,
    iv_rank,
    strike_in_expected_moves,
)


def test_atm_iv_interpolates_between_the_strikes_around_the_spot():
    # spot 102 between 100 (IV 0.30) and 105 (IV 0.25): 0.30 - 2/5 * 0.05 = 0.28
    assert atm_iv(102.0, [(95.0, 0.35), (100.0, 0.30), (105.0, 0.25)]) == pytest.approx(0.28)


def test_atm_iv_averages_a_put_and_a_call_at_one_strike():
    points = [(100.0, 0.30), (100.0, 0.20), (110.0, 0.25)]
    assert atm_iv(100.0, points) == pytest.approx(0.25)


def test_atm_iv_with_strikes_on_one_side_only_takes_the_nearest_within_5_percent():
    # Market Data's out-of-the-money puts: every strike below the spot
    assert atm_iv(100.0, [(90.0, 0.40), (96.0, 0.33)]) == pytest.approx(0.33)
    assert atm_iv(100.0, [(90.0, 0.40), (94.0, 0.33)]) is None
    assert atm_iv(100.0, []) is None


def test_iv30_interpolates_total_variance_between_two_expirations():
    # 23 days at 0.30 and 37 days at 0.40: variance 0.09*23/365 and 0.16*37/365,
    # halfway in T at 30 days
    near, far = 0.30**2 * 23 / 365, 0.40**2 * 37 / 365
    expected = math.sqrt((near + (far - near) * (30 - 23) / (37 - 23)) / (30 / 365))
    assert iv30([(23, 0.30), (37, 0.40)]) == pytest.approx(expected)
    assert expected == pytest.approx(0.3649, abs=1e-4)


def test_iv30_uses_the_expirations_nearest_30_days_on_either_side():
    points = [(2, 0.9), (9, 0.5), (23, 0.30), (37, 0.40), (65, 0.8)]
    assert iv30(points) == pytest.approx(iv30([(23, 0.30), (37, 0.40)]))


def test_iv30_on_one_side_takes_the_nearest_within_15_days_of_30():
    assert iv30([(37, 0.40), (44, 0.5)]) == pytest.approx(0.40)  # MIN_DTE of 30 or more
    assert iv30([(9, 0.5), (16, 0.31)]) == pytest.approx(0.31)
    assert iv30([(46, 0.40)]) is None
    assert iv30([(2, 0.40), (14, 0.3)]) is None
    assert iv30([(30, 0.27), (44, 0.5)]) == pytest.approx(0.27)


def test_iv30_from_a_small_two_expiration_chain():
    # each expiration's ATM IV from its strikes, then the 30-day interpolation
    spot = 50.0
    near = atm_iv(spot, [(48.0, 0.34), (52.0, 0.30)])  # 0.32
    far = atm_iv(spot, [(45.0, 0.40), (55.0, 0.30)])  # 0.35
    assert near == pytest.approx(0.32) and far == pytest.approx(0.35)
    assert iv30([(20, near), (48, far)]) == pytest.approx(
        math.sqrt((0.32**2 * 20 + (0.35**2 * 48 - 0.32**2 * 20) * 10 / 28) / 30)
    )


def test_hv20_is_the_annualized_deviation_of_20_log_returns():
    closes = [100.0 * (1.01 if day % 2 else 0.99) ** day for day in range(30)]
    recent = closes[-21:]
    returns = [math.log(b / a) for a, b in zip(recent, recent[1:], strict=False)]
    mean = sum(returns) / 20
    expected = math.sqrt(sum((r - mean) ** 2 for r in returns) / 19) * math.sqrt(252)
    assert hv20(closes) == pytest.approx(expected)
    assert hv20(closes[:20]) is None  # 19 returns are not 20
    assert hv20([100.0] * 21) == 0.0


def test_iv_rank_and_percentile_by_hand():
    window = [0.20 + 0.01 * day for day in range(19)] + [0.25]  # 20 days, latest 0.25
    # lowest 0.20, highest 0.38: (0.25 - 0.20) / 0.18 = 27.8
    assert iv_rank(window) == pytest.approx(5 / 18 * 100)
    # earlier days below 0.25: 0.20 .. 0.24 -> 5 of 19 (0.25 itself ties, not below)
    assert iv_percentile(window) == pytest.approx(5 / 19 * 100)


def test_ties_with_the_latest_do_not_count_as_below():
    window = [0.30] * 10 + [0.20] * 9 + [0.30]
    assert iv_percentile(window) == pytest.approx(9 / 19 * 100)
    assert iv_rank(window) == pytest.approx(100.0)


def test_a_flat_window_ranks_in_the_middle():
    window = [0.30] * 25
    assert iv_rank(window) == FLAT_RANK == 50.0
    assert iv_percentile(window) == 0.0


def test_fewer_than_20_days_have_no_rank_or_percentile():
    assert iv_rank([0.3] * 19) is None and iv_percentile([0.3] * 19) is None
    assert iv_rank([0.1] * 19 + [0.2]) == 100.0


def test_the_expected_move_and_a_strike_in_expected_moves():
    move = expected_move(100.0, 0.365, 73)  # sqrt(73/365) = 0.4472
    assert move == pytest.approx(100 * 0.365 * math.sqrt(0.2))
    assert strike_in_expected_moves(100.0, 90.0, move, "put") == pytest.approx(10 / move)
    assert strike_in_expected_moves(100.0, 110.0, move, "call") == pytest.approx(10 / move)
    assert expected_move(100.0, None, 30) is None
    assert strike_in_expected_moves(100.0, 90.0, None, "put") is None
