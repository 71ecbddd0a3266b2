"""The one-pass matcher means what the dashboard's filters mean, and a screen's query is
checked with the dashboard's messages."""

from __future__ import annotations

import random

import pytest

from scanner_app.screens.definition import ScreenError, check_screen, read_query
from scanner_app.screens.matcher import ScreenView, match_screens
from scanner_app.screens.query import ResultFilters, parse_filters
from scanner_app.screens.row_filters import filter_rows

FAIR_VALUES = {"AAA": 100.0, "BBB": None, "CCC": 55.0}


def _maybe(rng: random.Random, value):
    """``value``, or now and then something that is not a usable number."""
    return rng.choice([value] * 6 + [None, "n/a", float("nan"), True])


def _rows(rng: random.Random) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for symbol in FAIR_VALUES:
        rows[symbol] = [
            {
                "contract_symbol": f"{symbol}{number}",
                "annualized": _maybe(rng, rng.uniform(0, 120)),
                "delta": _maybe(rng, rng.uniform(-0.6, 0.6)),
                "open_interest": _maybe(rng, rng.randint(0, 500)),
                "volume": _maybe(rng, rng.randint(0, 300)),
                "spread_pct": _maybe(rng, rng.uniform(0, 40)),
                "iv_rank": _maybe(rng, rng.uniform(0, 100)),
                "dte": _maybe(rng, rng.randint(0, 60)),
                "earnings_before_expiry": rng.choice([True, False, None]),
                "strike": _maybe(rng, rng.uniform(40, 140)),
            }
            for number in range(40)
        ]
    return rows


def _filters(rng: random.Random) -> ResultFilters:
    args = {
        "min_annualized": str(rng.choice([20, 50, 80])),
        "min_delta": str(rng.choice([-0.1, -0.3, -0.5])),
        "min_dte": str(rng.choice([0, 5, 10])),
        "max_dte": str(rng.choice([14, 30, 45])),
        "min_oi": str(rng.choice([0, 50, 200])),
        "min_volume": str(rng.choice([1, 20, 100])),
        "min_vol_oi": str(rng.choice([0.1, 0.5])),
        "max_spread": str(rng.choice([5, 10, 30])),
        "min_iv_rank": str(rng.choice([10, 50])),
        "exclude_earnings": "1",
        "at_or_below_fair_value": "1",
    }
    chosen = dict(rng.sample(sorted(args.items()), rng.randint(0, 4)))
    return parse_filters(chosen)[0]


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("side", ["put", "call"])
def test_the_matcher_agrees_with_the_dashboards_filters(seed: int, side: str) -> None:
    rng = random.Random(seed)
    rows = _rows(rng)
    screens = [ScreenView(number, side, _filters(rng)) for number in range(8)]
    screens.append(ScreenView(99, side, _filters(rng), frozenset({"CCC"})))
    matched = match_screens(screens, lambda _side: iter(rows.items()), FAIR_VALUES.get)
    for screen in screens:
        expected = [
            row
            for symbol, symbol_rows in rows.items()
            if screen.symbols is None or symbol in screen.symbols
            for row in filter_rows(symbol_rows, screen.filters, FAIR_VALUES[symbol], side)
        ]
        assert matched[screen.screen_id].rows() == expected
        assert matched[screen.screen_id].contracts() == [r["contract_symbol"] for r in expected]


def test_each_side_is_read_once_whatever_the_number_of_screens() -> None:
    reads: list[str] = []

    def stream(side: str):
        reads.append(side)
        return iter([("AAA", [{"annualized": 50.0}])])

    screens = [ScreenView(n, "put" if n % 2 else "call", ResultFilters()) for n in range(200)]
    match_screens(screens, stream, lambda _symbol: None)
    assert sorted(reads) == ["call", "put"]


def test_a_screen_query_is_checked_with_the_dashboards_messages() -> None:
    with pytest.raises(ScreenError) as refused:
        check_screen("Weekly", "min_annualized=lots&sort=nope")
    expected = parse_filters({"min_annualized": "lots", "sort": "nope"})[1]
    assert refused.value.messages == expected
    with pytest.raises(ScreenError, match="Name the screen"):
        check_screen("  ", "")
    with pytest.raises(ScreenError, match="Unknown side “sideways”"):
        check_screen("S", "side=sideways")


def test_a_screen_keeps_its_view_and_scope() -> None:
    name, query = check_screen("  Weekly   income ", "?side=call&min_annualized=40&page=3")
    assert name == "Weekly income" and query.view == "calls"
    assert query.text() == "min_annualized=40"
    assert read_query("scope=all&max_dte=21")[0].whole_universe
    assert read_query("scope=all&max_dte=21")[0].text() == "max_dte=21&scope=all"
