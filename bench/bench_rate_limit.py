"""The shared market rate limit: three worker processes under one limit, through Redis.

Each worker is a process of its own, like a gunicorn worker or a scan on another machine,
with its own limiter built from the settings and ``THREADS`` requests in flight at once
(``YAHOO_MAX_CONCURRENT``'s default), each request a ``LATENCY`` sleep. They draw from one
pool of ``REQUESTS`` requests, so work is waiting until the last one starts.

Run: ``make bench`` (or ``python -m bench.bench_rate_limit``). Prints figures; asserts nothing.
"""

from __future__ import annotations

import bisect
import multiprocessing
import threading
import time
import uuid
from typing import Any

from scanner_app.config import load_settings
from scanner_app.market.limiter_settings import market_rate_limiter
from scanner_app.market.throttle import Throttle

from .support import redis_url

LIMIT = 40
WORKERS = 3
THREADS = 3
REQUESTS = 400
LATENCY = 0.02


def worker(settings: dict[str, Any], left: Any, ready: Any, go: Any, stamps: Any) -> None:
    """Start requests while ``left`` counts any; report when each one started."""
    throttle = Throttle(THREADS, market_rate_limiter(settings, "bench"))
    started: list[float] = []

    def take_work() -> bool:
        with left.get_lock():
            if left.value == 0:
                return False
            left.value -= 1
            return True

    def run() -> None:
        while take_work():
            with throttle.slot():
                started.append(time.time())
                time.sleep(LATENCY)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    ready.put(True)
    go.wait()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps.put(started)


def most_in_any_second(stamps: list[float]) -> int:
    """The most requests started within one window ``[t, t + 1 s)``."""
    ordered = sorted(stamps)
    return max(bisect.bisect_left(ordered, start + 1.0) - i for i, start in enumerate(ordered))


def shared_limit(url: str) -> None:
    """Three workers at ``LIMIT`` a second, ``REQUESTS`` requests in all."""
    settings = load_settings(
        {
            "REDIS_URL": url,
            "CACHE_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}:",
            "MARKET_REQUESTS_PER_SECOND": str(LIMIT),
        }
    )
    context = multiprocessing.get_context("spawn")
    left = context.Value("i", REQUESTS)
    ready, go, stamps = context.Queue(), context.Event(), context.Queue()
    workers = [
        context.Process(target=worker, args=(settings, left, ready, go, stamps))
        for _ in range(WORKERS)
    ]
    for process in workers:
        process.start()
    for _ in workers:
        ready.get()
    began = time.time()
    go.set()
    per_worker = [stamps.get() for _ in workers]
    for process in workers:
        process.join()
    started = [stamp for stamps_of_one in per_worker for stamp in stamps_of_one]
    elapsed = max(started) - began
    rate = len(started) / elapsed
    steady = (len(started) - LIMIT) / (max(started) - min(started))
    print(f"shared rate limit, {WORKERS} worker processes x {THREADS} threads, {LIMIT}/s:")
    print(f"  requests              {len(started)} ({', '.join(str(len(s)) for s in per_worker)})")
    print(f"  elapsed               {elapsed:.2f} s (until the last request started)")
    print(f"  achieved rate         {rate:.1f}/s = {rate / LIMIT:.2f}x the limit")
    print(f"  after the first burst {steady:.1f}/s = {steady / LIMIT:.2f}x the limit")
    print(f"  most in one second    {most_in_any_second(started)} (limit {LIMIT})")


def main() -> None:
    """Run the rate limit benchmark and print the figures."""
    with redis_url() as url:
        shared_limit(url)


if __name__ == "__main__":
    main()
