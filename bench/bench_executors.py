"""Thread executor against RQ workers: one 120-ticker scan at a fixed provider latency.

Run: ``python -m bench.bench_executors`` (part of ``make bench``). Starts real
``flask --app wsgi rq worker`` processes on a private Redis (or ``REDIS_URL``). Prints the
scan time (median of three scans) with the thread executor and with 1, 2, 3 and 4 workers,
the speedup per worker and each figure against the thread executor; asserts nothing.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from scanner_app.market.calendar import expiration_window_end, market_today
from scanner_app.market.demo import DemoProvider
from scanner_app.scan.launch import Outcome, launch_scan
from tests.rq_workers import WorkerProcess, process_env, wait_until

from .support import bench_app, clear_prefix, redis_url

TICKERS = 120
LATENCY_MS = 50
CONCURRENCY = 4
WORKER_COUNTS = (1, 2, 3, 4)
RUNS = 3
RATE_LIMIT = 40


def expirations_in_window() -> int:
    """Requests per ticker: the demo market's expirations inside the scan's window."""
    today = market_today(datetime.now(UTC))
    window_end = expiration_window_end(today, 4)
    days = DemoProvider(latency_ms=0).open("B000").expirations()
    return sum(today <= day <= window_end for day in days)


def scan_ended(scanner, scan_id: str) -> bool:
    """Whether scan ``scan_id`` has ended: the lock is free and its facts are written."""
    status = scanner.store.read_status()
    return status.state == "idle" and bool(status.facts) and status.facts.scan_id == scan_id


def median_scan(app) -> float:
    """The median of ``RUNS`` timed scans."""
    return statistics.median(timed_scan(app) for _ in range(RUNS))


def timed_scan(app) -> float:
    """Seconds from the Scan click to the end of the scan it started."""
    scanner = app.extensions["put_scanner"]
    with app.app_context():
        started = time.perf_counter()
        launch = launch_scan(scanner, force=True)
        assert launch.outcome is Outcome.STARTED, launch

        wait_until(lambda: scan_ended(scanner, launch.scan_id), 600, "the end", interval=0.02)
        elapsed = time.perf_counter() - started
    facts = scanner.store.read_status().facts
    assert facts.outcome == "completed" and facts.tickers == TICKERS, facts
    return elapsed


def thread_time(url: str) -> float:
    """The scan in a thread of this process."""
    app = bench_app(url, TICKERS, SCAN_CONCURRENCY=CONCURRENCY, DEMO_LATENCY_MS=LATENCY_MS)
    try:
        timed_scan(app)  # the first scan builds the NYSE calendar; a server has it already
        return median_scan(app)
    finally:
        clear_prefix(app)


def rq_time(url: str, workers: int, logs: Path, **settings: str) -> float:
    """The scan split across ``workers`` worker processes, with extra worker ``settings``."""
    app = bench_app(
        url,
        TICKERS,
        SCAN_EXECUTOR="rq",
        SCAN_CONCURRENCY=CONCURRENCY,
        DEMO_LATENCY_MS=LATENCY_MS,
    )
    env = process_env(
        REDIS_URL=url,
        CACHE_KEY_PREFIX=app.config["CACHE_KEY_PREFIX"],
        WATCHLIST_FILE=str(app.config["WATCHLIST_FILE"]),
        DEMO_LATENCY_MS=str(LATENCY_MS),
        SCAN_CONCURRENCY=str(CONCURRENCY),
        **settings,
    )
    processes = [WorkerProcess(env, logs / f"w{workers}-{n}.log") for n in range(workers)]
    try:
        executor = app.extensions["put_scanner"].executor
        with app.app_context():
            wait_until(lambda: executor.workers() >= workers, 60, "the workers")
        return median_scan(app)
    finally:
        for process in processes:
            process.stop()
        clear_prefix(app)


def recovery_time(url: str, logs: Path) -> tuple[float, float]:
    """A worker SIGKILLed mid-scan (with its job): seconds from the kill to the end of the
    scan, and the scan's whole time. Two workers, 48 tickers, 150 ms a request."""
    app = bench_app(url, 48, SCAN_EXECUTOR="rq", SCAN_CONCURRENCY=CONCURRENCY)
    env = process_env(
        REDIS_URL=url,
        CACHE_KEY_PREFIX=app.config["CACHE_KEY_PREFIX"],
        WATCHLIST_FILE=str(app.config["WATCHLIST_FILE"]),
        DEMO_LATENCY_MS="150",
        SCAN_CONCURRENCY=str(CONCURRENCY),
    )
    doomed, survivor = (WorkerProcess(env, logs / f"recovery-{n}.log") for n in range(2))
    scanner = app.extensions["put_scanner"]
    try:
        with app.app_context():
            wait_until(lambda: scanner.executor.workers() >= 2, 60, "the workers")
            started = time.perf_counter()
            launch = launch_scan(scanner, force=True)
        doomed.kill_mid_batch()
        killed = time.perf_counter()

        wait_until(lambda: scan_ended(scanner, launch.scan_id), 600, "the end", interval=0.1)
        done = time.perf_counter()
        facts = scanner.store.read_status().facts
        assert facts.outcome == "completed" and facts.failed == 0, facts
        return done - killed, done - started
    finally:
        doomed.stop()
        survivor.stop()
        clear_prefix(app)


def main() -> None:
    """Print the figures."""
    logs = Path(tempfile.mkdtemp(prefix="put-scanner-bench-workers-"))
    with redis_url() as url:
        thread = thread_time(url)
        times = {count: rq_time(url, count, logs) for count in WORKER_COUNTS}
        limited = rq_time(url, 3, logs, MARKET_REQUESTS_PER_SECOND=str(RATE_LIMIT))
        after_kill, whole = recovery_time(url, logs)
    print(
        f"scan of {TICKERS} tickers, demo latency {LATENCY_MS} ms, SCAN_CONCURRENCY {CONCURRENCY}:"
    )
    print(f"  thread executor        {thread:6.2f} s")
    for count, seconds in times.items():
        print(
            f"  rq, {count} worker{'s' if count > 1 else ' '}          {seconds:6.2f} s"
            f"   {times[1] / seconds:4.2f}x one worker   {thread / seconds:4.2f}x thread"
        )
    print(f"  3 workers vs 1: {times[1] / times[3]:.2f}x (target >= 2.2x)")
    print(f"  1 worker vs thread: {times[1] / thread:.2f} of the time (target <= 1.00)")
    requests = TICKERS * expirations_in_window()
    print(
        f"3 workers at MARKET_REQUESTS_PER_SECOND={RATE_LIMIT}: {requests} requests in "
        f"{limited:.2f} s = {requests / limited:.1f}/s, {requests / limited / RATE_LIMIT:.2f}x "
        f"the limit (target >= 0.9x)"
    )
    print(
        f"a worker SIGKILLed mid-scan (2 workers, 48 tickers): the scan ended complete "
        f"{after_kill:.1f} s after the kill ({whole:.1f} s in all; target < 180 s)"
    )


if __name__ == "__main__":
    main()
