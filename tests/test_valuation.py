"""The fair-value methods, by hand, and the assumptions' rules."""

import pytest

from scanner_app.valuation.assumptions import RULES, Assumptions
from scanner_app.valuation.methods import Fundamentals, discounted_value, estimate


def test_the_seeds_worked_eps_example_without_intermediate_rounding():
    assert discounted_value(5.0, 10, 20, 15, 5) == pytest.approx(101.9929, abs=1e-4)
    found = estimate(Fundamentals(eps=5.0), Assumptions())
    assert round(found.value, 2) == 101.99 and found.method == "eps"
    assert found.inputs == {
        "eps": 5.0,
        "growth_rate": 10,
        "multiple": 20,
        "desired_return": 15,
        "years": 5,
    }


def test_fcf_by_hand():
    # 400 M of free cash flow over 100 M shares: 4.00 a share, 8 % for 3 years, 15x, 12 %:
    # 4.32/1.12 + 4.6656/1.2544 + 5.038848/1.404928 + 5.038848*15/1.404928 = 64.9614...
    assumptions = Assumptions(
        fcf_growth_rate=8, fcf_multiple=15, desired_return=12, projection_years=3
    )
    found = estimate(
        Fundamentals(eps=-1.0, free_cash_flow=400e6, shares=100e6),
        assumptions.overridden({"preferred_method": "fcf"}),
    )
    assert found.method == "fcf" and found.inputs["fcf"] == 4.0
    assert found.value == pytest.approx(64.9614, abs=1e-4)
    assert found.skipped == {"eps": "EPS not positive (-1)"}


def test_a_method_without_usable_inputs_is_skipped_and_the_other_stands_in():
    found = estimate(Fundamentals(eps=-2.5, free_cash_flow=500e6, shares=100e6), Assumptions())
    assert found.method == "fcf" and found.value == pytest.approx(101.9929, abs=1e-4)
    assert found.skipped == {"eps": "EPS not positive (-2.5)"}


def test_the_method_not_shown_is_still_named_when_skipped():
    found = estimate(Fundamentals(eps=5.0, free_cash_flow=-1e6, shares=1e6), Assumptions())
    assert found.method == "eps" and found.skipped == {
        "fcf": "free cash flow per share not positive (-1)"
    }


def test_no_usable_method_leaves_no_value_with_every_reason():
    found = estimate(Fundamentals(eps=0.0, free_cash_flow=None, shares=1e6), Assumptions())
    assert found.value is None and found.method is None
    assert found.skipped == {
        "eps": "EPS not positive (0)",
        "fcf": "free cash flow per share unknown",
    }
    assert found.reason == "EPS not positive (0); free cash flow per share unknown"


def test_the_defaults_are_the_seeds():
    assert Assumptions() == Assumptions(10, 20, 10, 20, 15, 5, "eps")
    assert {name: rule.default for name, rule in RULES.items()} == vars(Assumptions())


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("eps_growth_rate", 101, "a number from -50 to 100"),
        ("desired_return", 0, "a number from 1 to 100"),
        ("projection_years", 2.5, "a whole number from 1 to 30"),
        ("eps_multiple", True, "a number from 1 to 200"),
        ("preferred_method", "dcf", "one of eps, fcf"),
    ],
)
def test_invalid_assumptions_say_what_is_valid(name, value, message):
    with pytest.raises(ValueError, match=message):
        RULES[name].check(value)


def test_text_assumptions_are_parsed_like_toml_values():
    assert RULES["projection_years"].parse_text(" 7 ") == 7
    assert RULES["preferred_method"].parse_text("FCF") == "fcf"
    with pytest.raises(ValueError, match="a number from -50 to 100"):
        RULES["fcf_growth_rate"].parse_text("ten")
