"""Settings from the environment: defaults, validation, production requirements."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scanner_app import create_app
from scanner_app.config import BUNDLED_WATCHLIST, ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults():
    settings = load_settings({})
    assert settings["SCANNER_ENV"] == "local"
    assert settings["MARKET_DATA"] == "demo"
    assert settings["CACHE_TTL_OPTIONS"] == 2700
    assert settings["MIN_ANNUALIZED"] == 30.0 and settings["MIN_DELTA"] == -0.2
    assert settings["MIN_CALL_ANNUALIZED"] == 20.0
    assert settings["WEEKS"] == 4 and settings["RISK_FREE_RATE"] == 0.04
    assert settings["WATCHLIST_FILE"] == BUNDLED_WATCHLIST
    assert settings["REDIS_URL"] is None
    assert settings["MARKET_REQUESTS_PER_SECOND"] is None
    assert settings["YAHOO_REQUESTS_PER_SECOND"] == 2.0
    assert settings["MARKETDATA_REQUESTS_PER_SECOND"] == 10.0
    assert settings["EARNINGS"] is True


def test_screens_settings_default_to_no_minimum_dte_and_no_cash():
    settings = load_settings({})
    assert settings["MIN_DTE"] == 0 and settings["CASH_AVAILABLE"] is None


def test_a_30_to_45_day_screen_can_be_configured():
    settings = load_settings({"MIN_DTE": "30", "WEEKS": "7", "CASH_AVAILABLE": "25000.50"})
    assert (settings["MIN_DTE"], settings["WEEKS"], settings["CASH_AVAILABLE"]) == (30, 7, 25000.5)


def test_a_min_dte_past_the_weeks_window_says_how_many_weeks_it_needs():
    with pytest.raises(ConfigError, match=r"MIN_DTE=30 is past .* WEEKS=4 .* at least 5"):
        load_settings({"MIN_DTE": "30"})


def test_a_fractional_market_rate_is_accepted():
    assert load_settings({"MARKET_REQUESTS_PER_SECOND": "2.5"})["MARKET_REQUESTS_PER_SECOND"] == 2.5


@pytest.mark.parametrize(("raw", "expected"), [("on", True), ("off", False), (" OFF ", False)])
def test_earnings_is_on_or_off(raw, expected):
    assert load_settings({"EARNINGS": raw})["EARNINGS"] is expected


def test_fair_value_assumptions_default_to_the_seeds_and_can_be_set():
    settings = load_settings({})
    assert [settings[name] for name in ("EPS_GROWTH_RATE", "EPS_MULTIPLE", "DESIRED_RETURN")] == [
        10.0,
        20.0,
        15.0,
    ]
    assert settings["PROJECTION_YEARS"] == 5 and settings["PREFERRED_METHOD"] == "eps"
    changed = load_settings({"FCF_MULTIPLE": "12.5", "PREFERRED_METHOD": " FCF "})
    assert changed["FCF_MULTIPLE"] == 12.5 and changed["PREFERRED_METHOD"] == "fcf"


def test_production_defaults_to_yahoo():
    assert load_settings({"SCANNER_ENV": "production"})["MARKET_DATA"] == "yahoo"
    assert load_settings({"SCANNER_ENV": "production", "MARKET_DATA": "demo"})["MARKET_DATA"] == (
        "demo"
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SCAN_CONCURRENCY", "abc", "a whole number from 1 to 64"),
        ("SCAN_CONCURRENCY", "0", "a whole number from 1 to 64"),
        ("MIN_DELTA", "2", "a number from -1 to 0"),
        ("MIN_DELTA", "nan", "a number from -1 to 0"),
        ("MIN_CALL_ANNUALIZED", "-1", "a number from 0 to 10000"),
        ("MIN_CALL_ANNUALIZED", "lots", "a number from 0 to 10000"),
        ("SCANNER_ENV", "staging", "one of local, production"),
        ("WATCHLIST_FILE", "/nonexistent/list.toml", "an existing TOML file"),
        ("RISK_FREE_RATE", "4%", "a number from"),
        ("MARKET_REQUESTS_PER_SECOND", "0", "a number from 0.1 to 100"),
        ("EARNINGS", "no", "one of on, off"),
        ("EPS_GROWTH_RATE", "10%", "a number from -50 to 100"),
        ("DESIRED_RETURN", "0", "a number from 1 to 100"),
        ("PROJECTION_YEARS", "2.5", "a whole number from 1 to 30"),
        ("PREFERRED_METHOD", "dcf", "one of eps, fcf"),
        ("MIN_DTE", "-1", "a whole number from 0 to 90"),
        ("MIN_DTE", "30.5", "a whole number from 0 to 90"),
        ("CASH_AVAILABLE", "10k", "a number from 0 to 1000000000"),
        ("CASH_AVAILABLE", "-5", "a number from 0 to 1000000000"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_accepted_values(name, value, expected):
    with pytest.raises(ConfigError) as error:
        load_settings({name: value})
    assert str(error.value).startswith(f"{name}={value!r} is not valid")
    assert expected in str(error.value)


def test_a_scan_is_dead_after_missing_a_few_heartbeats():
    settings = load_settings({})
    assert (settings["SCAN_HEARTBEAT_SECONDS"], settings["SCAN_DEAD_SECONDS"]) == (5, 20)
    short = load_settings({"SCAN_HEARTBEAT_SECONDS": "0.5", "SCAN_DEAD_SECONDS": "2"})
    assert (short["SCAN_HEARTBEAT_SECONDS"], short["SCAN_DEAD_SECONDS"]) == (0.5, 2)
    with pytest.raises(ConfigError, match="SCAN_DEAD_SECONDS=8 must be at least twice"):
        load_settings({"SCAN_DEAD_SECONDS": "8"})


@pytest.mark.parametrize("missing", ["REDIS_URL", "SECRET_KEY"])
def test_production_refuses_to_start_without_its_secrets(app_config, missing):
    config = {**app_config, "SCANNER_ENV": "production"}
    config[missing] = None
    with pytest.raises(ConfigError, match=missing):
        create_app(config)


def test_a_bad_setting_stops_the_command_line_with_a_clear_message():
    env = {"PATH": "/usr/bin:/bin", "SCAN_CONCURRENCY": "abc", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "scan"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SCAN_CONCURRENCY='abc' is not valid: expected a whole number from 1 to 64." in (
        result.stderr + result.stdout
    )


def test_without_redis_url_the_app_runs_on_an_in_process_cache(app_config, caplog):
    config = {**app_config, "REDIS_URL": None, "CACHE_BACKEND": None}
    app = create_app(config)
    assert "REDIS_URL is not set" in caplog.text
    store = app.extensions["put_scanner"].store
    assert store.ping()
    assert store.acquire_lock("scan-1") and not store.acquire_lock("scan-2")
    assert store.release_lock("scan-1")


ENV_EXAMPLE = ROOT / "deploy" / "put-scanner.env.example"
GOOD_SECRETS = {
    "SECRET_KEY": "3f" * 32,
    "SCANNER_PASSWORD_HASH": "scrypt:32768:8:1$salt$" + "ab" * 32,
    "REDIS_URL": "redis://put-scanner:" + "9c" * 16 + "@127.0.0.1:6379/0",
}


def _example_values() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {name: value for name, value in pairs}


def test_production_starts_with_real_secrets(app_config):
    app = create_app({**app_config, "SCANNER_ENV": "production", **GOOD_SECRETS})
    assert app.config["SECRET_KEY"] == GOOD_SECRETS["SECRET_KEY"]


def test_production_refuses_a_placeholder_password_hash(app_config):
    settings = {**GOOD_SECRETS, "SCANNER_PASSWORD_HASH": "change-me"}
    with pytest.raises(ConfigError, match="^SCANNER_PASSWORD_HASH is a placeholder"):
        create_app({**app_config, "SCANNER_ENV": "production", **settings})


def test_production_starts_without_a_password_hash(app_config):
    settings = {**GOOD_SECRETS, "SCANNER_PASSWORD_HASH": None}
    app = create_app({**app_config, "SCANNER_ENV": "production", **settings})
    assert app.config["SCANNER_PASSWORD_HASH"] is None


@pytest.mark.parametrize("name", ["SECRET_KEY", "REDIS_URL"])
def test_production_refuses_the_deploy_examples_placeholders_naming_the_setting(app_config, name):
    example = _example_values()[name]
    with pytest.raises(ConfigError, match=f"^{name}"):
        create_app({**app_config, "SCANNER_ENV": "production", **GOOD_SECRETS, name: example})


@pytest.mark.parametrize("key", ["change-me", "CHANGE-ME-please-" + "x" * 30, "k" * 31])
def test_production_refuses_a_placeholder_or_short_secret_key(app_config, key):
    with pytest.raises(ConfigError, match="^SECRET_KEY .*32 characters"):
        create_app({**app_config, "SCANNER_ENV": "production", **GOOD_SECRETS, "SECRET_KEY": key})


def test_trusted_hosts_is_a_comma_separated_list():
    settings = load_settings({"TRUSTED_HOSTS": " Scanner.LAN, .example.org ,"})
    assert settings["TRUSTED_HOSTS"] == ["scanner.lan", ".example.org"]
    with pytest.raises(ConfigError, match="TRUSTED_HOSTS=','"):
        load_settings({"TRUSTED_HOSTS": ","})
