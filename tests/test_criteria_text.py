"""The criteria in force, said on the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from scanner_app.scan.screen import Criteria
from scanner_app.screens.query import ResultFilters
from scanner_app.web.criteria_text import criteria_sentence, filters_phrase

DEFAULTS = Criteria(max_spread_pct=1000.0)
README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_default_settings_read_like_the_issue():
    assert criteria_sentence(DEFAULTS, ResultFilters()) == (
        "Puts with annualized >= 30 % and delta >= -0.20 in the next 4 weekly expirations."
    )


def test_the_settings_are_worded_from_their_values():
    criteria = Criteria(
        min_annualized=25.5,
        min_delta=-0.3,
        weeks=1,
        min_dte=3,
        min_open_interest=1500,
        min_volume=10,
        max_spread_pct=20.0,
    )
    assert criteria_sentence(criteria, ResultFilters()) == (
        "Puts with annualized >= 25.5 %, delta >= -0.30, at least 3 days to expiration, "
        "open interest >= 1,500, volume >= 10 and spread <= 20 % in the next weekly "
        "expiration."
    )


def test_a_filter_stricter_than_the_setting_is_the_one_said():
    filters = ResultFilters(
        min_annualized=50.0,
        min_delta=-0.5,  # looser than the setting: the setting holds
        min_dte=30,
        max_dte=45,
        min_vol_oi=0.5,
        max_spread=10.0,
        exclude_earnings=True,
    )
    assert criteria_sentence(Criteria(weeks=7, max_spread_pct=15.0), filters) == (
        "Puts with annualized >= 50 %, delta >= -0.20, 30-45 days to expiration, "
        "volume/open interest >= 0.5 and spread <= 10 % in the next 7 weekly expirations, "
        "expiring before earnings."
    )


def test_a_maximum_dte_alone_is_said_as_at_most():
    sentence = criteria_sentence(DEFAULTS, ResultFilters(max_dte=14, min_volume=5))
    assert "at most 14 days to expiration" in sentence and "volume >= 5" in sentence


SATURDAY = datetime(2026, 12, 5, 17, 0, tzinfo=UTC)  # the next 4 weeklies reach Dec 31


def test_every_filter_in_force_is_named_with_the_cash():
    filters = ResultFilters(
        at_or_below_fair_value=True, min_volume=10, max_spread=5.0, min_iv_rank=40.0
    )
    sentence = criteria_sentence(DEFAULTS, filters, cash=25_000)
    assert "volume >= 10" in sentence and "spread <= 5 %" in sentence
    assert "IV rank >= 40" in sentence
    assert "strike at or below the fair value" in sentence
    assert sentence.endswith("in the next 4 weekly expirations, sized with $25,000 of cash.")


def test_a_dte_filter_past_the_window_says_what_weeks_to_set():
    filters = ResultFilters(min_dte=30, max_dte=45)
    sentence = criteria_sentence(DEFAULTS, filters, today=SATURDAY)
    assert sentence.endswith(
        "The scan fetches expirations up to 26 days out; set WEEKS=7 for a 30-45 DTE screen."
    )
    reachable = criteria_sentence(DEFAULTS, ResultFilters(max_dte=20), today=SATURDAY)
    assert "WEEKS" not in reachable
    too_far = criteria_sentence(DEFAULTS, ResultFilters(min_dte=120), today=SATURDAY)
    assert too_far.endswith(
        "The scan fetches expirations up to 26 days out; even WEEKS=12 reaches only 83."
    )


def test_the_calls_phrase_names_each_of_the_views_filters():
    assert filters_phrase(ResultFilters()) is None
    phrase = filters_phrase(ResultFilters(min_delta=-0.3, max_spread=8.0, min_iv_rank=55.5))
    assert phrase == "|delta| <= 0.30, spread <= 8 % and IV rank >= 55.5"


def test_the_readme_says_the_sentence_as_the_code_does():
    text = " ".join(README.read_text().split())
    said = re.search(
        r"\*\*The criteria in force\*\*.*?naming every filter in force \((.*?)\)", text
    )
    assert (
        said and "IV rank" in said.group(1) and "strike at or below the fair value" in said.group(1)
    )
    example = re.search(r'for example "(Puts with .*?\.)"', text).group(1)
    filters = ResultFilters(min_annualized=50.0, min_dte=30, max_dte=45, min_volume=10)
    weeks = int(re.search(r"in the next (\d+) weekly", example).group(1))
    criteria = Criteria(max_spread_pct=1000.0, weeks=weeks)
    assert criteria_sentence(criteria, filters, cash=25_000) == example
