"""Stopping scans in this process: a shutdown, a lost lock, threads that never hold up exit."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scanner_app.scan.stopping import ScanInterrupted, stop_scans, wait_for_scans
from scanner_app.scan.store import LockLost

from .scan_results import hand_over_lock, read_results

ROOT = Path(__file__).resolve().parent.parent


class GatedMarket:
    """The demo market, recording the tickers opened; gated ones wait for the gate."""

    def __init__(self, market, gated: set[str]) -> None:
        self.market = market
        self.name = market.name
        self.gated = gated
        self.gate = threading.Event()
        self.opened: list[str] = []

    def open(self, ticker: str, *, calls: bool = False):
        """Record, wait at the gate for a gated ticker, then open the ticker's feed."""
        self.opened.append(ticker)
        if ticker in self.gated:
            self.gate.wait(10)
        return self.market.open(ticker, calls=calls)


@pytest.fixture
def make_gated(make_app, demo_provider):
    """Build a scanner (one ticker at a time, fast heartbeat) whose KO and TSLA wait at a
    gate, with config overrides."""
    markets: list[GatedMarket] = []

    def build(**overrides):
        market = GatedMarket(demo_provider, gated={"KO", "TSLA"})
        markets.append(market)
        settings = {"SCAN_CONCURRENCY": 1, "SCAN_HEARTBEAT_SECONDS": 0.1, **overrides}
        app = make_app(MARKET_PROVIDER=market, **settings)
        return app.extensions["put_scanner"], market

    yield build
    for market in markets:
        market.gate.set()


@pytest.fixture
def gated(make_gated):
    """A gated scanner on the frozen test clock."""
    return make_gated()


def run_in_thread(scanner, scan_id: str) -> tuple[threading.Thread, list[BaseException]]:
    """Run the scan ``scan_id`` (lock taken) in a thread; what it raised."""
    assert scanner.store.acquire_lock(scan_id)
    raised: list[BaseException] = []

    def run():
        try:
            scanner.engine().run(scan_id)
        except BaseException as error:
            raised.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, raised


def wait_for(predicate, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_shutdown_stops_the_scan_at_once_and_reports_it(gated):
    scanner, market = gated
    thread, raised = run_in_thread(scanner, "stopping")
    wait_for(lambda: market.opened == ["AAPL", "KO"])  # AAPL published, KO at the gate

    started = time.monotonic()
    stop_scans()
    assert wait_for_scans(5)
    thread.join(5)

    assert time.monotonic() - started < 5  # KO is still at its gate
    assert isinstance(raised[0], ScanInterrupted)
    assert market.opened == ["AAPL", "KO"]  # TSLA was never started
    status = scanner.store.read_status()
    assert status.state == "idle" and scanner.store.lock_owner() is None
    facts = status.facts
    assert (facts.outcome, facts.done, facts.tickers) == ("interrupted", 1, 3)
    assert status.last_run.startswith(
        "Scan interrupted at 1 of 3 tickers on Wed Nov 18, 2026 11:00 AM EST"
    )
    assert status.last_run.endswith(": the process running it shut down")
    assert set(read_results(scanner).scan_times) == {"AAPL"}


def test_a_lost_lock_stops_the_scan_before_its_next_ticker(gated, redis_client, key_prefix):
    scanner, market = gated
    thread, raised = run_in_thread(scanner, "old")
    wait_for(lambda: market.opened == ["AAPL", "KO"])

    hand_over_lock(redis_client, key_prefix, "new")
    thread.join(5)

    assert not thread.is_alive(), "the scan waited for its ticker at the gate"
    assert isinstance(raised[0], LockLost)
    assert market.opened == ["AAPL", "KO"]
    assert scanner.store.lock_owner() == "new"


def test_the_heartbeat_goes_on_while_a_ticker_is_slow(make_gated):
    scanner, market = make_gated(CLOCK=None, SCAN_LOCK_TTL=2)
    thread, raised = run_in_thread(scanner, "slow")
    wait_for(lambda: "KO" in market.opened)
    first = scanner.store.read_status().heartbeat

    time.sleep(2.5)  # longer than the lock's TTL, with KO still at its gate

    status = scanner.store.read_status()
    market.gate.set()
    thread.join(5)
    assert status.running_scan == "slow" and status.heartbeat.scan_id == "slow"
    assert status.heartbeat.at > first.at
    assert not raised and scanner.store.read_status().facts.outcome == "completed"


def test_wait_for_scans_gives_up_after_its_timeout(gated):
    scanner, market = gated
    thread, _raised = run_in_thread(scanner, "busy")
    wait_for(lambda: "KO" in market.opened)

    assert not wait_for_scans(0.2)

    market.gate.set()
    thread.join(5)
    assert wait_for_scans(1)


def test_a_ticker_still_being_fetched_does_not_hold_up_the_exit():
    script = (
        "import time\n"
        "from scanner_app.scan.daemon_pool import DaemonPool\n"
        "pool = DaemonPool(2, name='scan')\n"
        "pool.submit(time.sleep, 60)\n"
        "pool.__exit__(None, None, None)\n"
        "print('leaving')\n"
    )
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0 and run.stdout == "leaving\n", run.stderr
    assert time.monotonic() - started < 10
