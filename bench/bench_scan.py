"""Scan engine figures: concurrency speedup, requests per ticker, read cost, peak memory.

Run: ``make bench`` (or ``python -m bench.bench_scan``). Prints figures; asserts nothing.
"""

from __future__ import annotations

import resource
import statistics
import time
import tracemalloc

from scanner_app.market.calendar import expiration_window_end, market_today
from scanner_app.market.demo import DemoProvider
from scanner_app.scan.store import TickerResult

from .support import bench_app, clear_prefix, redis_url

LATENCY_MS = 50
CONCURRENCY = 8


def scan_speedup(url: str) -> None:
    """100 tickers at concurrency 8 against the sequential time (requests x latency).

    The NYSE calendar is built before timing: a running server builds it once, at its
    first scan, not at every scan.
    """
    DemoProvider(latency_ms=0).open("WARM").expirations()
    provider = DemoProvider(latency_ms=LATENCY_MS)
    app = bench_app(url, 100, MARKET_PROVIDER=provider, SCAN_CONCURRENCY=CONCURRENCY)
    scanner = app.extensions["put_scanner"]
    try:
        assert scanner.store.acquire_lock("bench")
        started = time.perf_counter()
        summary = scanner.engine().run("bench")
        elapsed = time.perf_counter() - started
    finally:
        clear_prefix(app)
    sequential = provider.request_count * LATENCY_MS / 1000
    speedup = sequential / elapsed
    today = market_today(scanner.clock())
    window_end = expiration_window_end(today, scanner.criteria.weeks)
    feed = DemoProvider(latency_ms=0).open("B000")
    in_window = sum(today <= day <= window_end for day in feed.expirations())
    print(f"scan of 100 tickers, demo latency {LATENCY_MS} ms, concurrency {CONCURRENCY}:")
    print(f"  requests              {provider.request_count} ({summary.puts} puts found)")
    print(
        f"  requests per ticker   {provider.request_count / 100:.2f} "
        f"(expirations in the window: {in_window})"
    )
    print(f"  wall time             {elapsed:.2f} s; sequential would be {sequential:.2f} s")
    print(f"  speedup               {speedup:.2f}x = {speedup / CONCURRENCY:.2f} x concurrency")


def ticker_read_cost(url: str) -> None:
    """Median time to read one ticker's rows with 10 and with 500 tickers cached."""
    medians = {}
    for size in (10, 500):
        app = bench_app(url, size, MARKET_PROVIDER=DemoProvider(latency_ms=0))
        scanner = app.extensions["put_scanner"]
        rows = [{"strike": 100.0 - i, "bid": 1.0, "delta": -0.1} | _padding() for i in range(12)]
        results = [
            TickerResult(f"B{index:03d}", "2026-11-18T16:00:00+00:00", rows)
            for index in range(size)
        ]
        try:
            assert scanner.store.acquire_lock("bench")
            scanner.store.publish("bench", results, None)
            samples = []
            for _ in range(300):
                started = time.perf_counter()
                scanner.reader.read_ticker("B005")
                samples.append(time.perf_counter() - started)
            medians[size] = statistics.median(samples)
        finally:
            clear_prefix(app)
    print("drilldown read of one ticker (median of 300):")
    print(f"  10 tickers cached     {medians[10] * 1e6:.0f} µs")
    print(f"  500 tickers cached    {medians[500] * 1e6:.0f} µs")
    print(f"  ratio 500/10          {medians[500] / medians[10]:.2f}")


def _padding() -> dict:
    return {"contract_symbol": "B000261218P00100000", "expiration": "2026-12-18", "iv": 0.5}


def scan_memory(url: str) -> None:
    """Peak Python heap and process RSS during a 500-ticker scan (no latency)."""
    provider = DemoProvider(latency_ms=0)
    app = bench_app(url, 500, MARKET_PROVIDER=provider, SCAN_CONCURRENCY=CONCURRENCY)
    scanner = app.extensions["put_scanner"]
    tracemalloc.start()
    try:
        assert scanner.store.acquire_lock("bench")
        started = time.perf_counter()
        summary = scanner.engine().run("bench")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        clear_prefix(app)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("scan of 500 tickers, no latency:")
    print(f"  puts found            {summary.puts}")
    print(f"  wall time             {elapsed:.2f} s (with tracemalloc on)")
    print(f"  peak traced heap      {peak / 2**20:.1f} MiB; process max RSS {rss_mb:.0f} MiB")


def main() -> None:
    """Run every scan benchmark and print the figures."""
    with redis_url() as url:
        scan_speedup(url)
        ticker_read_cost(url)
        scan_memory(url)


if __name__ == "__main__":
    main()
