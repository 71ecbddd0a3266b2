"""``flask scan`` and ``flask watchlist check``: output and exit codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


@pytest.fixture
def cli(make_app):
    """Build a CLI runner for an app with config overrides."""
    return lambda **overrides: make_app(**overrides).test_cli_runner()


def test_scan_runs_in_the_foreground_and_exits_0(cli):
    result = cli().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    assert "scanned 3/3 (100%)" in result.output
    assert "Scan completed successfully" in result.output


def test_scan_exits_2_when_the_market_is_closed_in_production(cli):
    saturday = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
    runner = cli(SCANNER_ENV="production", SCANNER_PASSWORD_HASH="x", CLOCK=lambda: saturday)
    result = runner.invoke(args=["scan"])
    assert result.exit_code == 2
    assert "Market is closed" in result.output

    forced = runner.invoke(args=["scan", "--force"])
    assert forced.exit_code == 0, forced.output


def test_scan_exits_3_when_another_scan_runs(cli, app):
    assert app.extensions["put_scanner"].store.acquire_lock("someone-else")
    result = cli().invoke(args=["scan"])
    assert result.exit_code == 3
    assert "Another scan is running (someone-else)" in result.output


def test_scan_exits_1_when_redis_is_down(cli):
    result = cli(REDIS_URL="redis://127.0.0.1:1/0").invoke(args=["scan"])
    assert result.exit_code == 1
    assert "Redis is unavailable" in result.output


def test_watchlist_check_lists_the_tickers(cli, small_watchlist):
    result = cli().invoke(args=["watchlist", "check"])
    assert result.exit_code == 0
    assert "AAPL  fair value 150" in result.output
    assert "3 tickers, OK" in result.output


def test_watchlist_check_lists_a_tickers_own_assumptions(cli, tmp_path):
    path = tmp_path / "own.toml"
    path.write_text('[[tickers]]\nsymbol = "KO"\neps_multiple = 18\npreferred_method = "fcf"\n')
    result = cli().invoke(args=["watchlist", "check", str(path)])
    assert result.exit_code == 0
    assert "KO  eps_multiple 18.0  preferred_method fcf" in result.output


def test_watchlist_check_reports_a_bad_file(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[tickers]]\nsymbol = "AAPL"\n[[tickers]]\nsymbol = "aapl"\n')
    result = cli().invoke(args=["watchlist", "check", str(bad)])
    assert result.exit_code == 1
    assert "AAPL" in result.output and "Error" in result.output
