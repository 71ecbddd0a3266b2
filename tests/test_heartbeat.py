"""A scan rides out a Redis stall shorter than its lock's TTL: heartbeat, lock and publishes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis

from scanner_app import create_app
from scanner_app.market.demo import DemoProvider
from scanner_app.scan.executors import ThreadExecutor
from scanner_app.scan.launch import Outcome, launch_scan

from .conftest import FROZEN_NOW
from .redis_server import RedisServer
from .rq_workers import wait_until

TICKERS = [f"S{number:03d}" for number in range(24)]


@pytest.fixture
def stalling_redis(tmp_path):
    """A Redis of the test's own that accepts DEBUG SLEEP from this machine."""
    server = RedisServer(tmp_path, "--enable-debug-command", "local")
    server.start()
    yield server
    server.stop()


def done(scanner) -> int:
    """Tickers done by the scan running now."""
    progress = scanner.store.read_status().current_progress
    return progress.done if progress else 0


def test_a_scan_rides_out_a_three_second_redis_stall(tmp_path: Path, stalling_redis, app_config):
    watchlist = tmp_path / "stall.toml"
    watchlist.write_text("".join(f'[[tickers]]\nsymbol = "{symbol}"\n' for symbol in TICKERS))
    market = DemoProvider(latency_ms=100, today=lambda: FROZEN_NOW.date())
    app = create_app(
        {
            **app_config,
            "REDIS_URL": stalling_redis.url,
            "WATCHLIST_FILE": watchlist,
            "MARKET_PROVIDER": market,
            "SCAN_RUNNER": ThreadExecutor(),
            "CLOCK": None,
            "SCAN_CONCURRENCY": 2,
            "SCAN_LOCK_TTL": 10,
            "SCAN_HEARTBEAT_SECONDS": 0.5,
            "SCAN_DEAD_SECONDS": 6,
        }
    )
    scanner = app.extensions["put_scanner"]
    launch = launch_scan(scanner)
    assert launch.outcome is Outcome.STARTED
    wait_until(lambda: done(scanner) >= 4, 20, "four tickers")
    before = scanner.store.read_status()

    stall = redis.Redis.from_url(stalling_redis.url, socket_timeout=10)
    sleeper = threading.Thread(target=stall.execute_command, args=("DEBUG", "SLEEP", 3))
    stalled_at = time.monotonic()
    sleeper.start()
    time.sleep(0.5)
    assert not scanner.store.read_status().available  # Redis does not answer
    sleeper.join(10)
    assert time.monotonic() - stalled_at >= 3
    seen = [scanner.status() for _ in range(3)]  # readers right after the stall

    status = wait_until(
        lambda: (status := scanner.store.read_status()).state == "idle" and status, 60, "the end"
    )
    stall.close()
    assert all(reading.state == "running" for reading in seen)
    assert status.facts.scan_id == launch.scan_id == before.running_scan
    assert status.facts.outcome == "completed", status.last_run
    assert (status.progress.done, status.progress.failed, status.progress.total) == (24, 0, 24)
    assert status.last_run.startswith("Scan completed successfully at ")
    assert len(scanner.reader.read_hash("scan_times")) == 24
