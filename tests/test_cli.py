"""``flask scan`` and ``flask watchlist check``: output and exit codes."""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime

import pytest

from .rq_workers import wait_until
from .test_launch import _cli_env, _flask


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


def test_watchlist_check_lists_the_shares_held(cli, tmp_path):
    path = tmp_path / "held.toml"
    path.write_text(
        '[[tickers]]\nsymbol = "KO"\nshares = 300\ncost_basis = 58.1\n\n'
        '[[tickers]]\nsymbol = "T"\nshares = 100\n'
    )
    result = cli().invoke(args=["watchlist", "check", str(path)])
    assert result.exit_code == 0
    assert "KO  300 shares at 58.1\n" in result.output
    assert "T  100 shares\n" in result.output


def test_watchlist_check_warns_about_too_few_shares_for_a_call(cli, tmp_path):
    path = tmp_path / "odd.toml"
    path.write_text(
        '[[tickers]]\nsymbol = "KO"\nshares = 50\n\n[[tickers]]\nsymbol = "T"\nshares = 100\n'
    )
    result = cli().invoke(args=["watchlist", "check", str(path)])
    assert result.exit_code == 0  # a warning, not an error
    assert "Warning: KO: 50 shares, under 100: no covered calls" in result.output
    assert "Warning: T" not in result.output


def test_watchlist_check_reports_a_bad_file(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[tickers]]\nsymbol = "AAPL"\n[[tickers]]\nsymbol = "aapl"\n')
    result = cli().invoke(args=["watchlist", "check", str(bad)])
    assert result.exit_code == 1
    assert "AAPL" in result.output and "Error" in result.output


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_interrupts_the_scan_which_exits_1(
    tmp_path, redis_url, key_prefix, redis_client, stop
):
    watchlist = tmp_path / "twelve.toml"
    watchlist.write_text("".join(f'[[tickers]]\nsymbol = "C{n:03d}"\n' for n in range(12)))
    env = _cli_env(redis_url, key_prefix, watchlist, DEMO_LATENCY_MS="200", SCAN_CONCURRENCY="2")
    process = _flask("scan", env=env)
    progress_key = f"{key_prefix}scan_progress"
    wait_until(
        lambda: json.loads(redis_client.get(progress_key) or '{"done": 0}')["done"] >= 2,
        30,
        "two tickers",
    )

    process.send_signal(stop)
    sent = time.monotonic()
    _out, err = process.communicate(timeout=30)
    stopped = time.monotonic() - sent

    assert process.returncode == 1, err
    assert stopped < 5, f"flask scan took {stopped:.1f} s to stop"
    facts = json.loads(redis_client.get(f"{key_prefix}last_run_facts"))
    assert facts["outcome"] == "interrupted" and facts["tickers"] == 12
    last_run = json.loads(redis_client.get(f"{key_prefix}last_run"))
    assert err.strip().splitlines()[-1] == f"Error: {last_run}"
    assert last_run.startswith(f"Scan interrupted at {facts['done']} of 12 tickers on ")
    assert last_run.endswith(": the process running it shut down")
    assert not redis_client.exists(f"{key_prefix}scan_in_progress")
    assert redis_client.hlen(f"{key_prefix}scan_times") == facts["done"] >= 2
