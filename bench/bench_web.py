"""Web figures: an unchanged poll (204) against a full dashboard render, at 50 and 500 tickers.

Run: ``make bench`` (or ``python -m bench.bench_web``). Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import time

from scanner_app.market.demo import DemoProvider

from .support import bench_app, clear_prefix, redis_url

SAMPLES = 100


class CountingClient:
    """A redis client wrapper that counts commands sent (a pipeline or MGET counts once)."""

    def __init__(self, client) -> None:
        self.client = client
        self.calls = 0

    def __getattr__(self, name):
        self.calls += 1
        return getattr(self.client, name)


def _measure(client, store, path: str) -> tuple[float, float, int, int]:
    """Median time, round trips per request, bytes on the wire (status line, headers, body)
    and status of GET ``path``."""
    counter = CountingClient(store._read)
    store._read = counter
    samples = []
    try:
        for _ in range(SAMPLES):
            started = time.perf_counter()
            response = client.get(path)
            samples.append(time.perf_counter() - started)
    finally:
        store._read = counter.client
    header_bytes = sum(len(name) + len(value) + 4 for name, value in response.headers.items())
    wire_bytes = len(f"HTTP/1.1 {response.status}\r\n\r\n") + header_bytes + len(response.data)
    return statistics.median(samples), counter.calls / SAMPLES, wire_bytes, response.status_code


def poll_against_dashboard(url: str, tickers: int) -> None:
    """Fill the cache with a real scan of ``tickers`` demo tickers, then measure both reads."""
    app = bench_app(url, tickers, MARKET_PROVIDER=DemoProvider(latency_ms=0), SCAN_CONCURRENCY=8)
    scanner = app.extensions["put_scanner"]
    try:
        assert scanner.store.acquire_lock("bench")
        summary = scanner.engine().run("bench")
        version = scanner.store.read_version()
        client = app.test_client()
        rendered_at = int(scanner.clock().timestamp())
        poll = _measure(client, scanner.store, f"/scan/status?v={version}&at={rendered_at}")
        page = _measure(client, scanner.store, "/")
    finally:
        clear_prefix(app)
    print(f"{tickers} tickers cached ({summary.puts} puts):")
    print(
        f"  unchanged poll   HTTP {poll[3]}, {poll[0] * 1e3:.2f} ms, "
        f"{poll[1]:.0f} Redis round trip(s), {poll[2]} bytes on the wire"
    )
    print(
        f"  dashboard        HTTP {page[3]}, {page[0] * 1e3:.2f} ms, "
        f"{page[1]:.0f} Redis round trip(s), {page[2]} bytes on the wire"
    )
    print(f"  dashboard / poll {page[0] / poll[0]:.0f}x the time")


def main() -> None:
    """Run the web benchmarks and print the figures."""
    with redis_url() as url:
        for tickers in (50, 500):
            poll_against_dashboard(url, tickers)


if __name__ == "__main__":
    main()
