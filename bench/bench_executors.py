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
from pathlib import Path

from scanner_app.scan.launch import Outcome, launch_scan
from tests.rq_workers import WorkerProcess, process_env, wait_until

from .support import bench_app, clear_prefix, redis_url

TICKERS = 120
LATENCY_MS = 50
CONCURRENCY = 4
WORKER_COUNTS = (1, 2, 3, 4)
RUNS = 3


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

        def ended():
            status = scanner.store.read_status()
            return (
                status.state == "idle" and status.facts and status.facts.scan_id == launch.scan_id
            )

        wait_until(ended, 600, "the scan to end", interval=0.02)
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


def rq_time(url: str, workers: int, logs: Path) -> float:
    """The scan split across ``workers`` worker processes."""
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


def main() -> None:
    """Print the figures."""
    logs = Path(tempfile.mkdtemp(prefix="put-scanner-bench-workers-"))
    with redis_url() as url:
        thread = thread_time(url)
        times = {count: rq_time(url, count, logs) for count in WORKER_COUNTS}
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


if __name__ == "__main__":
    main()
