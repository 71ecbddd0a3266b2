"""History figures: what writing the history costs a scan, on SQLite and PostgreSQL, and the
cost of ``/api/history/<SYMBOL>`` as the database grows.

Run: ``make bench`` (or ``python -m bench.bench_history``). Prints figures; asserts nothing.
PostgreSQL comes from ``TEST_DATABASE_URL`` (default: postgres on 127.0.0.1:5432); the bench
makes a database of its own there and drops it.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from scanner_app.db import StoredDay, close_all, database_url
from scanner_app.market.demo import DemoProvider

from .support import bench_app, clear_prefix, redis_url

TICKERS = 500
LATENCY_MS = 20
CONCURRENCY = 8
NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def databases() -> Iterator[tuple[str, str]]:
    """(name, URL) of a new SQLite file and a new PostgreSQL database."""
    folder = tempfile.mkdtemp(prefix="put-scanner-bench-db-")
    admin_url = database_url(os.environ.get("TEST_DATABASE_URL") or SERVER, "/")
    name = f"bench_history_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield [
            ("SQLite", f"sqlite:///{folder}/bench.db"),
            ("PostgreSQL", admin_url.set(database=name).render_as_string(hide_password=False)),
        ]
    finally:
        close_all()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _scan(url: str, db_url: str, history: bool, prefix: str | None = None):
    provider = DemoProvider(latency_ms=LATENCY_MS, today=lambda: NOW.date())
    config = {
        "MARKET_PROVIDER": provider,
        "SCAN_CONCURRENCY": CONCURRENCY,
        "CLOCK": lambda: NOW,
        "DATABASE_URL": db_url,
        "HISTORY": history,
    }
    if prefix:
        config["CACHE_KEY_PREFIX"] = prefix
    app = bench_app(url, TICKERS, **config)
    scanner = app.extensions["put_scanner"]
    assert scanner.store.acquire_lock("bench")
    started = time.perf_counter()
    scanner.engine().run("bench")
    return time.perf_counter() - started, provider.request_count, app


def scan_cost(url: str) -> None:
    """A 500-ticker demo scan with the history on and off: the first of the day (daily
    closes and the 30-day expiration fetched, a year backfilled), then repeats."""
    DemoProvider(latency_ms=0).open("WARM").expirations()
    with databases() as backends:
        for name, db_url in backends:
            off_times = []
            off = None
            off_first = None
            for _ in range(3):
                elapsed, off_requests, off = _scan(
                    url, db_url, False, off and off.config["CACHE_KEY_PREFIX"]
                )
                off_times.append(elapsed)
                off_first = off_first or off_requests
            clear_prefix(off)
            first, first_requests, app = _scan(url, db_url, True)
            prefix = app.config["CACHE_KEY_PREFIX"]
            repeats = []
            for _ in range(3):
                elapsed, repeat_requests, _app = _scan(url, db_url, True, prefix)
                repeats.append(elapsed)
            clear_prefix(app)
            base = statistics.median(off_times)
            repeat = statistics.median(repeats)
            print(
                f"{TICKERS}-ticker demo scan on {name}, latency {LATENCY_MS} ms, concurrency "
                f"{CONCURRENCY} (median of 3):"
            )
            per_ticker = off_requests / TICKERS
            print(f"  HISTORY=off            {base:.2f} s, {per_ticker:.2f} requests/ticker")
            print(
                f"  history, repeat scan   {repeat:.2f} s = {repeat / base:.3f}x (target <= 1.05x)"
            )
            print(
                f"  history, first of day  {first:.2f} s = {first / base:.3f}x, "
                f"{first_requests / TICKERS:.2f} requests/ticker "
                f"(+{(first_requests - off_first) / TICKERS:.2f})"
            )


def history_read_cost(url: str) -> None:
    """``/api/history/<SYMBOL>`` p50 with 10 and 5000 tickers of a year each."""
    days = [
        NOW.date() - timedelta(days=n)
        for n in range(365)
        if (NOW.date() - timedelta(days=n)).weekday() < 5
    ][:252]
    with databases() as backends:
        for name, db_url in backends:
            medians = {}
            app = bench_app(url, 1, DATABASE_URL=db_url)
            history = app.extensions["put_scanner"].history
            client = app.test_client()
            stored = 0
            for size in (10, 5000):
                rows = [
                    StoredDay(f"H{index:04d}", day, 100.0 + n / 10, 0.2 + (n % 50) / 500, 0.18)
                    for index in range(stored, size)
                    for n, day in enumerate(days)
                ]
                history.save_days(rows)
                stored = size
                timings = []
                for round_ in range(200):
                    symbol = f"H{round_ % 10:04d}"
                    started = time.perf_counter()
                    response = client.get(f"/api/history/{symbol}")
                    timings.append(time.perf_counter() - started)
                    assert response.status_code == 200
                medians[size] = statistics.median(timings)
            clear_prefix(app)
            ratio = medians[5000] / medians[10]
            print(f"/api/history/<SYMBOL> on {name}, {len(days)} days a ticker (p50 of 200):")
            print(
                f"  10 tickers {medians[10] * 1000:.2f} ms, 5000 tickers "
                f"{medians[5000] * 1000:.2f} ms: {ratio:.2f}x (target <= 1.5x)"
            )


def main() -> None:
    with redis_url() as url:
        scan_cost(url)
        history_read_cost(url)


if __name__ == "__main__":
    main()
