"""Whole-market figures at 100, 500, 2000 and 5000 tickers (demo market, real Redis).

- the dashboard's unfiltered first page: time and bytes;
- ``/api/scan`` and an unchanged poll: time (they never read the results);
- one browser polling through a whole scan, default sort: bytes, against the final page;
- Redis: bytes a scan sends (``total_net_input_bytes``) against the bytes it holds.

Run: ``make bench`` (or ``python -m bench.bench_scale``). Prints figures; asserts nothing.
"""

from __future__ import annotations

import re
import time
from html import unescape as html_unescape
from urllib.parse import urlencode

import redis

from scanner_app.market.demo import DemoProvider
from scanner_app.scan.store import Progress, TickerResult

from .support import bench_app, clear_prefix, median_get, redis_url

SIZES = (100, 500, 2000, 5000)
#: Tickers the replayed scan finishes between two polls (a 2 s poll on a fast provider).
PER_POLL = 8


def _held_bytes(client: redis.Redis, prefix: str) -> int:
    return sum(client.memory_usage(key) or 0 for key in client.scan_iter(f"{prefix}*"))


def _input_bytes(client: redis.Redis) -> int:
    return int(client.info("stats")["total_net_input_bytes"])


def _poll_through(app, results) -> tuple[int, int, int]:
    """Replay a finished scan's results as a new scan, polling the default view.

    Returns (bytes polled, changed polls, final page bytes).
    """
    scanner = app.extensions["put_scanner"]
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    shown = re.findall(r'name="s" value="([^"]+)"', page)
    assert scanner.store.acquire_lock("replay")
    scanner.store.begin(Progress("replay", len(results), "2026-11-18T16:00:00+00:00"))
    polled = polls = 0
    # The browser polls the URL of its status fragment, with the shown tickers.
    version = int(re.search(r'data-version="(\d+)"', page).group(1))
    poll_url = f"/scan/status?v={version}&at={int(scanner.clock().timestamp())}"
    for start in range(0, len(results), PER_POLL):
        scanner.store.publish("replay", results[start : start + PER_POLL], None)
        query = urlencode([("s", symbol) for symbol in shown])
        response = client.get(f"{poll_url}&{query}", headers={"HX-Request": "true"})
        html = response.get_data(as_text=True)
        polled += len(response.data)
        polls += response.status_code == 200
        poll_url = html_unescape(re.search(r'hx-get="([^"]+)"', html).group(1))
        shown = _shown_after(shown, html)
    scanner.engine().finish("replay")  # assemble, say how it went, free the lock
    return polled, polls, len(client.get("/").data)


def _shown_after(shown: list[str], html: str) -> list[str]:
    """The table's symbols after a poll (the plan's deletes and inserts, or a whole table)."""
    if 'id="results"' in html:
        return re.findall(r'name="s" value="([^"]+)"', html)
    deleted = set(re.findall(r'id="ticker-([^"]+)" hx-swap-oob="delete"', html))
    table = [symbol for symbol in shown if symbol.replace(".", "_") not in deleted]
    for after, symbol in re.findall(
        r'afterend:#([^"]+)"><tbody class="ticker-group" id="ticker-([^"]+)"', html
    ):
        place = 0 if after == "summary-head" else table.index(after.removeprefix("ticker-")) + 1
        table.insert(place, symbol)
    return table


def measure(url: str, tickers: int) -> dict[str, float]:
    """Every figure at one watchlist size."""
    app = bench_app(url, tickers, MARKET_PROVIDER=DemoProvider(latency_ms=0), SCAN_CONCURRENCY=8)
    scanner = app.extensions["put_scanner"]
    raw = redis.Redis.from_url(url)
    prefix = app.config["CACHE_KEY_PREFIX"]
    try:
        before = _input_bytes(raw)
        assert scanner.store.acquire_lock("bench")
        started = time.perf_counter()
        scanner.engine().run("bench")
        scan_seconds = time.perf_counter() - started
        sent = _input_bytes(raw) - before
        held = _held_bytes(raw, prefix)
        client = app.test_client()
        page_time, page_bytes = median_get(client, "/")
        status_time, _ = median_get(client, "/api/scan")
        health_time, _ = median_get(client, "/healthz")
        version = scanner.store.read_pulse()[0].version
        at = int(scanner.clock().timestamp())
        poll_time, _ = median_get(client, f"/scan/status?v={version}&at={at}")
        results = [_result(scanner, symbol) for symbol in sorted(scanner.watchlist.symbols())]
        polled, polls, final_page = _poll_through(app, results)
    finally:
        clear_prefix(app)
    return {
        "tickers": tickers,
        "scan_s": scan_seconds,
        "page_ms": page_time * 1e3,
        "page_kb": page_bytes / 1024,
        "status_ms": status_time * 1e3,
        "health_ms": health_time * 1e3,
        "poll_ms": poll_time * 1e3,
        "polled_kb": polled / 1024,
        "polls": polls,
        "final_kb": final_page / 1024,
        "budget_kb": (2 * final_page + 1024 * polls) / 1024,
        "sent_mb": sent / 2**20,
        "held_mb": held / 2**20,
    }


def _result(scanner, symbol: str) -> TickerResult:
    """``symbol``'s stored result, as a later re-scan would publish it."""
    view = scanner.reader.read_ticker(symbol)
    return TickerResult(symbol, "2026-11-18T16:30:00+00:00", view.options)


def main() -> None:
    """Measure every size and print the figures and ratios."""
    with redis_url() as url:
        figures = [measure(url, size) for size in SIZES]
    base = figures[0]
    print("whole-market figures (demo market, real Redis, Flask test client):")
    for f in figures:
        print(
            f"  {f['tickers']:>5} tickers: scan {f['scan_s']:.1f} s | first page "
            f"{f['page_ms']:.1f} ms, {f['page_kb']:.1f} KB "
            f"({f['page_ms'] / base['page_ms']:.2f}x time, {f['page_kb'] / base['page_kb']:.2f}x "
            f"bytes of 100) | /api/scan {f['status_ms']:.2f} ms "
            f"({f['status_ms'] / base['status_ms']:.2f}x) | /healthz {f['health_ms']:.2f} ms | "
            f"unchanged poll {f['poll_ms']:.2f} ms"
        )
        print(
            f"         polled {f['polled_kb']:.1f} KB in {f['polls']} changed polls; budget "
            f"2 x {f['final_kb']:.1f} KB + 1 KB/poll = {f['budget_kb']:.1f} KB "
            f"({f['polled_kb'] / f['budget_kb']:.2f} of it) | Redis: sent {f['sent_mb']:.2f} MB "
            f"to hold {f['held_mb']:.2f} MB ({f['sent_mb'] / f['held_mb']:.2f}x)"
        )


if __name__ == "__main__":
    main()
