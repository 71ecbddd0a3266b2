"""Starting scans: exactly one across threads and processes, market hours, Redis down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner_app.redis_door import CacheUnavailable
from scanner_app.scan.executors import ThreadExecutor
from scanner_app.scan.launch import Outcome, launch_scan

from .conftest import SynchronousExecutor

SATURDAY_NOON = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


class RecordingExecutor(SynchronousExecutor):
    """Counts the scans handed to it and runs none (the lock stays taken)."""

    def __init__(self) -> None:
        self.jobs = 0
        self._lock = threading.Lock()

    def start(self, engine, scan_id):  # noqa: ANN001 - the Executor protocol
        """Record the scan."""
        with self._lock:
            self.jobs += 1


@pytest.fixture
def scanner_with(make_app):
    """Build a scanner on the small watchlist with config overrides."""
    return lambda **overrides: make_app(**overrides).extensions["put_scanner"]


def test_many_threads_start_exactly_one_scan(scanner_with):
    executor = RecordingExecutor()
    scanner = scanner_with(SCAN_RUNNER=executor)

    with ThreadPoolExecutor(16) as pool:
        launches = list(pool.map(lambda _: launch_scan(scanner), range(64)))

    started = [launch for launch in launches if launch.outcome is Outcome.STARTED]
    joined = [launch for launch in launches if launch.outcome is Outcome.JOINED]
    assert len(started) == 1 and executor.jobs == 1
    assert len(joined) == 63
    assert {launch.scan_id for launch in joined} == {started[0].scan_id}


def test_background_scan_returns_at_once_and_finishes(scanner_with):
    scanner = scanner_with(SCAN_RUNNER=ThreadExecutor())
    launch = launch_scan(scanner)
    assert launch.outcome is Outcome.STARTED
    deadline = time.monotonic() + 20
    while scanner.store.lock_owner() and time.monotonic() < deadline:
        time.sleep(0.05)
    status = scanner.store.read_status()
    assert status.state == "idle"
    assert status.progress.scan_id == launch.scan_id and status.progress.done == 3
    assert status.progress.finished_at is not None
    assert status.facts.scan_id == launch.scan_id and status.facts.tickers == 3


def test_production_refuses_to_scan_while_the_market_is_closed(scanner_with):
    executor = RecordingExecutor()
    scanner = scanner_with(
        SCANNER_ENV="production",
        SCANNER_PASSWORD_HASH="x",
        CLOCK=lambda: SATURDAY_NOON,
        SCAN_RUNNER=executor,
    )
    launch = launch_scan(scanner)

    assert launch.outcome is Outcome.MARKET_CLOSED and executor.jobs == 0
    assert scanner.store.lock_owner() is None
    assert launch.message.startswith(
        "Market is closed. Scans only run during market hours (9:30 AM - 4:00 PM ET)."
    )
    assert "Mon Nov 23, 2026 9:30 AM EST" in launch.message
    assert scanner.store.read_status().last_run == "Never"  # the refusal stored nothing


class NoWorker(RecordingExecutor):
    """An executor whose workers are all gone."""

    def unavailable_reason(self) -> str | None:
        """Always: no worker."""
        return "No scan worker is running"


def _last_scan_record(redis_client, key_prefix: str) -> list[bytes | None]:
    """``last_run`` and ``last_run_facts`` as Redis holds them."""
    return redis_client.mget([f"{key_prefix}last_run", f"{key_prefix}last_run_facts"])


@pytest.mark.parametrize(
    ("settings", "outcome"),
    [
        (
            {"SCANNER_ENV": "production", "SCANNER_PASSWORD_HASH": "x"},
            Outcome.MARKET_CLOSED,
        ),
        ({"SCAN_RUNNER": NoWorker()}, Outcome.NO_WORKER),
    ],
    ids=["market closed", "no worker"],
)
def test_a_refused_start_leaves_the_last_scans_record_alone(
    make_app, redis_client, key_prefix, settings, outcome
):
    completed = launch_scan(make_app(CLOCK=lambda: SATURDAY_NOON).extensions["put_scanner"])
    assert completed.outcome is Outcome.STARTED  # local mode; the executor scans inline
    record = _last_scan_record(redis_client, key_prefix)
    assert json.loads(record[0]).startswith("Scan completed successfully")
    assert json.loads(record[1])["outcome"] == "completed"

    refused = make_app(CLOCK=lambda: SATURDAY_NOON, **settings).extensions["put_scanner"]
    launch = launch_scan(refused)

    assert launch.outcome is outcome and launch.message
    assert _last_scan_record(redis_client, key_prefix) == record
    assert refused.store.lock_owner() is None


def test_force_and_local_mode_scan_while_the_market_is_closed(scanner_with):
    production = scanner_with(
        SCANNER_ENV="production", SCANNER_PASSWORD_HASH="x", CLOCK=lambda: SATURDAY_NOON
    )
    assert launch_scan(production, force=True).outcome is Outcome.STARTED
    local = scanner_with(CLOCK=lambda: SATURDAY_NOON)
    assert launch_scan(local).outcome is Outcome.STARTED


def test_redis_down_starts_nothing(scanner_with):
    executor = RecordingExecutor()
    scanner = scanner_with(REDIS_URL="redis://127.0.0.1:1/0", SCAN_RUNNER=executor)
    with pytest.raises(CacheUnavailable):
        launch_scan(scanner)
    assert executor.jobs == 0


def _cli_env(redis_url: str, prefix: str, watchlist: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SCANNER_", "MARKET_", "DEMO_", "SCAN_", "CACHE_"))
    }
    env.update(
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=prefix,
        WATCHLIST_FILE=str(watchlist),
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def _flask(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_processes_start_exactly_one_scan(redis_url, key_prefix, small_watchlist, redis_client):
    env = _cli_env(redis_url, key_prefix, small_watchlist, DEMO_LATENCY_MS="300")
    processes = [_flask("scan", env=env) for _ in range(3)]
    outputs = [process.communicate(timeout=60)[0] for process in processes]
    codes = sorted(process.returncode for process in processes)

    assert codes == [0, 3, 3], outputs
    assert sum("Another scan is running" in out for out in outputs) == 2


def test_a_killed_scan_frees_the_lock(redis_url, key_prefix, small_watchlist, redis_client):
    lock_key = f"{key_prefix}scan_in_progress"
    env = _cli_env(
        redis_url, key_prefix, small_watchlist, DEMO_LATENCY_MS="2000", SCAN_LOCK_TTL="2"
    )
    process = _flask("scan", env=env)
    deadline = time.monotonic() + 20
    while not redis_client.exists(lock_key):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the scan never took the lock"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)

    assert 0 < redis_client.ttl(lock_key) <= 2
    deadline = time.monotonic() + 5
    while redis_client.exists(lock_key):
        assert time.monotonic() < deadline, "the lock outlived its TTL"
        time.sleep(0.1)
    again = _flask(
        "scan", env=_cli_env(redis_url, key_prefix, small_watchlist, DEMO_LATENCY_MS="0")
    )
    again.communicate(timeout=60)
    assert again.returncode == 0


def test_default_lock_ttl_frees_a_killed_scan_within_two_minutes(
    scanner_with, redis_client, key_prefix
):
    scanner = scanner_with()
    assert scanner.store.acquire_lock("scan-1")
    assert 0 < redis_client.ttl(f"{key_prefix}scan_in_progress") <= 120
