"""The watchlist file format: parsing, validation messages and symbol normalization."""

from __future__ import annotations

import pytest

from scanner_app.config import BUNDLED_WATCHLIST
from scanner_app.watchlist import (
    TICKER_PATTERN,
    Position,
    Watchlist,
    WatchlistEntry,
    WatchlistError,
    load_watchlist,
    normalize_symbol,
    parse_watchlist,
)


def test_bundled_watchlist_loads_popular_tickers_without_fair_values():
    watchlist = load_watchlist(BUNDLED_WATCHLIST)

    assert 20 <= len(watchlist) <= 40
    assert {"AAPL", "SPY", "KO", "TSLA"} <= set(watchlist.symbols())
    assert all(entry.fair_value is None for entry in watchlist.entries)


def test_parse_keeps_file_order_and_optional_fair_values():
    watchlist = parse_watchlist(
        """
        # a comment
        [[tickers]]
        symbol = "aapl"

        [[tickers]]
        symbol = "KO"
        fair_value = 62.5

        [[tickers]]
        symbol = "f"
        fair_value = 12
        """
    )

    assert watchlist == Watchlist(
        (
            WatchlistEntry("AAPL", None),
            WatchlistEntry("KO", 62.5),
            WatchlistEntry("F", 12.0),
        )
    )
    assert isinstance(watchlist.fair_value("F"), float)


def test_an_entry_takes_its_own_fair_value_assumptions():
    watchlist = parse_watchlist(
        _tickers(
            'symbol = "KO"\neps_growth_rate = 4\neps_multiple = 18.5\npreferred_method = "FCF"',
            'symbol = "PEP"\nprojection_years = 10\ndesired_return = 12',
            'symbol = "F"',
        )
    )

    assert watchlist.assumptions("ko") == {
        "eps_growth_rate": 4.0,
        "eps_multiple": 18.5,
        "preferred_method": "fcf",
    }
    assert watchlist.assumptions("PEP") == {"projection_years": 10, "desired_return": 12.0}
    assert watchlist.assumptions("F") == {} and watchlist.assumptions("XYZ") == {}


def test_lookups_ignore_case():
    watchlist = parse_watchlist('[[tickers]]\nsymbol = "KO"\nfair_value = 62.5\n')

    assert "ko" in watchlist
    assert "KO" in watchlist
    assert "PEP" not in watchlist
    assert watchlist.fair_value("ko") == 62.5
    assert watchlist.fair_value("PEP") is None


def _tickers(*bodies: str) -> str:
    return "".join(f"[[tickers]]\n{body}\n\n" for body in bodies)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (_tickers('symbol = "AAPL"', 'symbol = "<script>"'), ["entry 2", "<script>", "symbol"]),
        (_tickers('symbol = "AAPL"', 'symbol = "ABCDEFGHIJK"'), ["entry 2", "ABCDEFGHIJK"]),
        (_tickers('symbol = "AAPL"', "symbol = 42"), ["entry 2", "42", "symbol"]),
        (_tickers('symbol = "AAPL"', 'symbol = "aapl"'), ["entry 2 (AAPL)", "duplicate"]),
        (_tickers("fair_value = 10.0"), ["entry 1", "missing symbol"]),
        (_tickers('symbol = "KO"\nfairvalue = 60'), ["entry 1 (KO)", "fairvalue"]),
        (_tickers('symbol = "KO"\nfair_value = -1'), ["entry 1 (KO)", "fair_value", "-1"]),
        (_tickers('symbol = "KO"\nfair_value = 0'), ["entry 1 (KO)", "fair_value"]),
        (_tickers('symbol = "KO"\nfair_value = nan'), ["entry 1 (KO)", "fair_value", "nan"]),
        (_tickers('symbol = "KO"\nfair_value = inf'), ["entry 1 (KO)", "fair_value", "inf"]),
        (_tickers('symbol = "KO"\nfair_value = "62"'), ["entry 1 (KO)", "fair_value", "'62'"]),
        (_tickers('symbol = "KO"\nfair_value = true'), ["entry 1 (KO)", "fair_value", "True"]),
        (
            _tickers('symbol = "KO"\nfcf_growth_rate = 150'),
            ["entry 1 (KO)", "fcf_growth_rate must be a number from -50 to 100", "150"],
        ),
        (
            _tickers('symbol = "KO"\nprojection_years = 2.5'),
            ["entry 1 (KO)", "projection_years must be a whole number from 1 to 30"],
        ),
        (
            _tickers('symbol = "KO"\npreferred_method = "dcf"'),
            ["entry 1 (KO)", "preferred_method must be one of eps, fcf", "'dcf'"],
        ),
        (_tickers('symbol = "KO"\neps_multiple = "20"'), ["entry 1 (KO)", "eps_multiple"]),
        ('[[tickers]]\nsymbol = "AAPL\n', ["not valid TOML", "line 2"]),
        ("", ["no tickers"]),
        ("tickers = []", ["no tickers"]),
        ('tickers = ["AAPL"]', ["entry 1", "table"]),
        ('[[ticker]]\nsymbol = "AAPL"\n', ["ticker", "[[tickers]]"]),
    ],
)
def test_invalid_watchlists_name_the_file_and_the_entry(text, fragments):
    with pytest.raises(WatchlistError) as raised:
        parse_watchlist(text, source="mine.toml")

    message = str(raised.value)
    assert message.startswith("mine.toml: ")
    for fragment in fragments:
        assert fragment in message


def test_load_reads_a_file_and_names_it_in_errors(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[[tickers]]\nsymbol = "msft"\n', encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[tickers]]\nsymbol = "MSFT"\nprice = 1\n', encoding="utf-8")

    assert load_watchlist(good).symbols() == ["MSFT"]
    with pytest.raises(WatchlistError, match=r"bad\.toml: entry 1 \(MSFT\)"):
        load_watchlist(bad)


def test_load_of_a_missing_file_is_a_watchlist_error(tmp_path):
    missing = tmp_path / "nope.toml"

    with pytest.raises(WatchlistError, match="nope.toml"):
        load_watchlist(missing)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("aapl", "AAPL"),
        ("  brk.b ", "BRK.B"),
        ("bf-b", "BF-B"),
        ("A", "A"),
        ("ABCDEFGHIJ", "ABCDEFGHIJ"),
    ],
)
def test_normalize_symbol_upper_cases_valid_symbols(raw, expected):
    assert normalize_symbol(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "<script>",
        "ABCDEFGHIJK",
        "1ABC",
        ".A",
        "AA PL",
        "A/B",
        "ÄAPL",
        "ß",  # upper-cases to "SS"
        "ﬁ",  # ligature, upper-cases to "FI"
        "ＡＡＰＬ",  # full-width letters
        "A\x00",
        None,
        42,
    ],
)
def test_normalize_symbol_rejects_junk(raw):
    assert normalize_symbol(raw) is None


def test_ticker_pattern_matches_whole_symbols_only():
    assert TICKER_PATTERN.fullmatch("SPY")
    assert not TICKER_PATTERN.fullmatch("spy")
    assert not TICKER_PATTERN.fullmatch("SPY!")


def test_positions_cover_whole_contracts_with_an_optional_cost_basis():
    watchlist = parse_watchlist(
        _tickers(
            'symbol = "AAPL"\nshares = 250\ncost_basis = 180.5',
            'symbol = "KO"\nshares = 99',
            'symbol = "F"\nshares = 100',
            'symbol = "T"\nshares = 0',
            'symbol = "SPY"',
        )
    )
    entries = {entry.symbol: entry for entry in watchlist.entries}
    assert entries["AAPL"].position == Position(250, 180.5)
    assert entries["AAPL"].position.contracts == 2
    assert entries["KO"].position == Position(99)
    assert entries["SPY"].position is None
    # only shares that cover a contract get calls screened
    assert watchlist.positions() == {"AAPL": Position(250, 180.5), "F": Position(100)}


@pytest.mark.parametrize(
    ("entry", "fragments"),
    [
        ("shares = -1", ["entry 1 (KO)", "shares", "whole number of 0 or more", "-1"]),
        ("shares = 10.5", ["shares", "whole number", "10.5"]),
        ('shares = "100"', ["shares", "'100'"]),
        ("shares = true", ["shares", "True"]),
        ("shares = 100\ncost_basis = 0", ["cost_basis", "positive number", "0"]),
        ("shares = 100\ncost_basis = -5", ["cost_basis", "positive number", "-5"]),
        ("shares = 100\ncost_basis = nan", ["cost_basis", "nan"]),
        ('shares = 100\ncost_basis = "50"', ["cost_basis", "'50'"]),
        ("cost_basis = 50", ["entry 1 (KO)", "cost_basis needs shares"]),
        ("share = 100", ["unknown key(s) share", "shares", "cost_basis"]),
    ],
)
def test_invalid_positions_say_what_is_wrong(entry, fragments):
    with pytest.raises(WatchlistError) as raised:
        parse_watchlist(_tickers(f'symbol = "KO"\n{entry}'), source="mine.toml")
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message
