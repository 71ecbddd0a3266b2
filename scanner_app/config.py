"""Settings read from the environment and validated once, at start-up."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many

from .db import check_url
from .redis_door import CACHE_BACKENDS
from .valuation.assumptions import RULES

BUNDLED_WATCHLIST = Path(__file__).with_name("watchlist.toml")


class ConfigError(ValueError):
    """A setting has a value the app cannot run with."""


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError(f"one of {', '.join(allowed)}")
        return value

    return parse


def _switch(raw: str) -> bool:
    """``on`` or ``off``, as True or False."""
    return _choice("on", "off")(raw) == "on"


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(f"a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"a whole number from {low} to {high}")
        return value

    return parse


def _number(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(f"a number from {low:.15g} to {high:.15g}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"a number from {low:.15g} to {high:.15g}")
        return value

    return parse


def _text(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("a non-empty value")
    return value


def _name(raw: str) -> str:
    """A non-empty name, lower-cased; what it may name is checked where it is used (the
    market registry checks ``MARKET_DATA``)."""
    return _text(raw).lower()


def _rate_limits(raw: str) -> str:
    """One or more rate limits in the ``limits`` library's notation, each allowing a hit."""
    value = raw.strip()
    try:
        items = parse_many(value)
    except ValueError:
        items = []
    if not items or any(item.amount < 1 for item in items):
        raise ValueError('rate limits such as "5/minute;50/day" (amount/period, ";" between)')
    return value


def _host_names(raw: str) -> list[str]:
    """Comma-separated host names (a leading dot takes every subdomain), lower-cased."""
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    if not names:
        raise ValueError("host names separated by commas, such as scanner.example.com")
    return names


def _absolute_directory(raw: str) -> str:
    """An absolute path that is a directory or does not exist yet."""
    path = Path(raw.strip()).expanduser()
    if not path.is_absolute() or path.exists() and not path.is_dir():
        raise ValueError("the absolute path of a directory")
    return str(path)


def _public_url(raw: str) -> str:
    """An http(s) URL with a host and no query: the app as people reach it."""
    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ValueError(
            "the app's address as people reach it, such as https://scanner.example.com"
        )
    return value


def _existing_file(raw: str) -> Path:
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise ValueError("the path of an existing TOML file")
    return path


#: name -> (parser, default as it would be written in the environment, or None for no default)
SETTINGS: dict[str, tuple[Callable[[str], Any], str | None]] = {
    "SCANNER_ENV": (_choice("local", "production"), "local"),
    "MARKET_DATA": (_name, None),
    "REDIS_URL": (_text, None),
    "CACHE_BACKEND": (_choice(*CACHE_BACKENDS), None),
    "CACHE_KEY_PREFIX": (_text, "scanner:"),
    "CACHE_TTL_OPTIONS": (_integer(60, 7 * 86400), "2700"),
    "SCAN_LOCK_TTL": (_integer(2, 600), "60"),
    "SCAN_HEARTBEAT_SECONDS": (_number(0.1, 60), "5"),
    "SCAN_DEAD_SECONDS": (_number(0.5, 3600), "20"),
    "WATCHLIST_FILE": (_existing_file, str(BUNDLED_WATCHLIST)),
    "SCAN_CONCURRENCY": (_integer(1, 64), "4"),
    "SCAN_EXECUTOR": (_choice("thread", "rq"), "thread"),
    "SCAN_EVERY_MINUTES": (_integer(1, 390), "15"),
    "RISK_FREE_RATE": (_number(-0.05, 0.25), "0.04"),
    "DEMO_LATENCY_MS": (_integer(0, 10_000), "150"),
    "DEMO_FAILURES": (_text, None),
    "MIN_ANNUALIZED": (_number(0, 10_000), "30"),
    "MIN_CALL_ANNUALIZED": (_number(0, 10_000), "20"),
    "MIN_DELTA": (_number(-1, 0), "-0.20"),
    "WEEKS": (_integer(1, 12), "4"),
    "MIN_DTE": (_integer(0, 90), "0"),
    "MIN_OPEN_INTEREST": (_integer(0, 10_000_000), "0"),
    "MIN_VOLUME": (_integer(0, 10_000_000), "0"),
    "MAX_SPREAD_PCT": (_number(0, 1000), "1000"),
    "CASH_AVAILABLE": (_number(0, 1_000_000_000), None),
    "MARKET_REQUESTS_PER_SECOND": (_number(0.1, 100), None),
    "EARNINGS": (_switch, "on"),
    "YAHOO_MAX_CONCURRENT": (_integer(1, 16), "3"),
    "YAHOO_REQUESTS_PER_SECOND": (_number(0.1, 50), "2"),
    "YAHOO_TIMEOUT": (_number(1, 120), "15"),
    "YAHOO_RETRIES": (_integer(0, 10), "4"),
    "MARKETDATA_TOKEN": (_text, None),
    "MARKETDATA_BASE_URL": (_text, "https://api.marketdata.app"),
    "MARKETDATA_MODE": (_choice("live", "cached", "delayed"), None),
    "MARKETDATA_REQUESTS_PER_SECOND": (_number(0.1, 100), "10"),
    "MARKETDATA_TIMEOUT": (_number(1, 120), "15"),
    "MARKETDATA_RETRIES": (_integer(0, 10), "4"),
    "POLL_INTERVAL_SECONDS": (_integer(1, 60), "2"),
    "TRUSTED_PROXY_COUNT": (_integer(0, 5), "0"),
    "TRUSTED_HOSTS": (_host_names, None),
    "SECRET_KEY": (_text, None),
    "SCANNER_PASSWORD_HASH": (_text, None),
    "LOGIN_RATE_LIMIT": (_rate_limits, "5/minute;50/day"),
    "INSTANCE_PATH": (_absolute_directory, None),
    "DATABASE_URL": (check_url, None),
    "HISTORY": (_switch, "on"),
    "HISTORY_DAYS": (_integer(30, 3650), "400"),
    "ALERTS": (_switch, "on"),
    "ALERT_REPEAT_HOURS": (_number(0, 8760), "24"),
    "ALERT_RETRY_SECONDS": (_number(0, 10), "2"),
    "PUBLIC_URL": (_public_url, "http://localhost:5000"),
    **{name.upper(): (rule.parse_text, str(rule.default)) for name, rule in RULES.items()},
}


def load_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Parse every known setting from ``environ`` (default: the process environment).

    Raises ConfigError naming the variable and the accepted values on the first bad one.
    """
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    for name, (parse, default) in SETTINGS.items():
        raw = environ.get(name)
        if raw is None or raw == "":
            settings[name] = None if default is None else parse(default)
            continue
        try:
            settings[name] = parse(raw)
        except ValueError as accepted:
            raise ConfigError(f"{name}={raw!r} is not valid: expected {accepted}.") from None
    if settings["SCAN_DEAD_SECONDS"] < 2 * settings["SCAN_HEARTBEAT_SECONDS"]:
        raise ConfigError(
            f"SCAN_DEAD_SECONDS={settings['SCAN_DEAD_SECONDS']:g} must be at least twice "
            f"SCAN_HEARTBEAT_SECONDS={settings['SCAN_HEARTBEAT_SECONDS']:g}: a scan that "
            "misses one heartbeat is not dead."
        )
    if settings["MIN_DTE"] > 7 * settings["WEEKS"]:
        raise ConfigError(
            f"MIN_DTE={settings['MIN_DTE']} is past the last expiration that WEEKS="
            f"{settings['WEEKS']} scans (at most {7 * settings['WEEKS']} days out): "
            f"raise WEEKS to at least {-(-settings['MIN_DTE'] // 7)} or lower MIN_DTE."
        )
    if settings["MARKET_DATA"] is None:
        settings["MARKET_DATA"] = "yahoo" if settings["SCANNER_ENV"] == "production" else "demo"
    return settings


#: Values that stand in for a secret in examples (the deploy example included): never a secret.
PLACEHOLDERS = frozenset({"change-me", "changeme", "secret", "password", "...", "xxx"})
#: The shortest SECRET_KEY production accepts (``secrets.token_hex(32)`` gives 64).
MIN_SECRET_KEY_LENGTH = 32


def check_production(settings: Mapping[str, Any]) -> None:
    """Production needs a shared Redis and a secret key, none of them (nor the optional
    SCANNER_PASSWORD_HASH of the upgrade) a placeholder; raises ConfigError naming the
    setting."""
    if settings["SCANNER_ENV"] != "production":
        return
    for name in ("REDIS_URL", "SECRET_KEY"):
        if not settings.get(name):
            raise ConfigError(
                f"{name} must be set when SCANNER_ENV=production (see the README, Configuration)."
            )
    secret_key = settings["SECRET_KEY"]
    if _placeholder(secret_key) or len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY is a placeholder or shorter than {MIN_SECRET_KEY_LENGTH} characters: "
            "make one with python -c 'import secrets; print(secrets.token_hex(32))'."
        )
    if settings.get("SCANNER_PASSWORD_HASH") and _placeholder(settings["SCANNER_PASSWORD_HASH"]):
        raise ConfigError(
            "SCANNER_PASSWORD_HASH is a placeholder: make one with flask --app wsgi hash-password."
        )
    password = urlsplit(settings["REDIS_URL"]).password
    if password is not None and _placeholder(password):
        raise ConfigError(
            "REDIS_URL's password is a placeholder: set the password of the Redis user "
            "(see the README, Login and security)."
        )


def _placeholder(value: str) -> bool:
    """Whether ``value`` is an example's stand-in (``change-me``, ``change-me-too``...)."""
    lowered = value.strip().lower()
    return lowered in PLACEHOLDERS or lowered.startswith("change-me")
