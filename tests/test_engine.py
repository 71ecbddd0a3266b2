"""A scan on a real Redis with the demo market: progressive, isolated, atomic, always unlocked."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from scanner_app.market.demo import DemoProvider
from scanner_app.scan.store import LockLost, Progress

from .conftest import FROZEN_NOW


class GatedMarket:
    """The demo market, except that chosen tickers wait for a gate before answering."""

    def __init__(self, market: DemoProvider, gated: set[str]) -> None:
        self.market = market
        self.gated = gated
        self.gate = threading.Event()
        self.name = market.name

    def open(self, ticker: str):
        """Open the ticker's feed, waiting at the gate first for a gated ticker."""
        if ticker in self.gated:
            assert self.gate.wait(10), "the test never opened the gate"
        return self.market.open(ticker)


class BrokenMarket:
    """A market whose every request fails with a programming error (not a market error)."""

    name = "broken"

    def open(self, ticker: str):
        """Fail like a bug would."""
        raise ZeroDivisionError("bug in the provider")


@pytest.fixture
def make_scanner(make_app):
    """Build a scanner on the three-ticker watchlist with config overrides."""
    return lambda **overrides: make_app(**overrides).extensions["put_scanner"]


def _run(scanner, scan_id="scan-1", listener=None):
    assert scanner.store.acquire_lock(scan_id)
    return scanner.engine().run(scan_id, listener)


def test_a_scan_publishes_every_ticker_and_frees_the_lock(make_scanner):
    scanner = make_scanner()
    seen: list[Progress] = []

    summary = _run(scanner, listener=seen.append)

    snapshot = scanner.store.read_snapshot()
    assert snapshot.state == "idle" and scanner.store.lock_owner() is None
    assert set(snapshot.scan_times) == {"AAPL", "TSLA", "KO"}
    assert summary.puts == sum(len(rows) for rows in snapshot.options.values()) > 0
    assert snapshot.last_run.startswith("Scan completed successfully at ")
    assert f"3 tickers, {summary.puts} puts" in snapshot.last_run
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1].finished_at and seen[-1].done == 3
    for rows in snapshot.options.values():
        assert all(row["annualized"] >= 30 and row["delta"] >= -0.2 for row in rows)


def test_results_appear_while_the_scan_runs(make_scanner, demo_provider):
    market = GatedMarket(demo_provider, gated={"KO"})
    scanner = make_scanner(MARKET_PROVIDER=market)
    assert scanner.store.acquire_lock("scan-1")
    worker = threading.Thread(target=scanner.engine().run, args=("scan-1",))
    worker.start()
    try:
        deadline = threading.Event()
        for _ in range(100):
            snapshot = scanner.store.read_snapshot()
            if snapshot.progress and snapshot.progress.done == 2:
                break
            deadline.wait(0.05)
        assert snapshot.state == "running"
        assert snapshot.progress.done == 2 and snapshot.progress.total == 3
        assert set(snapshot.scan_times) == {"AAPL", "TSLA"}
        assert scanner.store.read_ticker("AAPL").scanned_at is not None
    finally:
        market.gate.set()
        worker.join(10)
    assert set(scanner.store.read_snapshot().scan_times) == {"AAPL", "TSLA", "KO"}


def test_a_failing_ticker_is_recorded_and_keeps_its_earlier_results(make_scanner):
    scanner = make_scanner()
    _run(scanner, "first")
    earlier = scanner.store.read_snapshot()
    assert "TSLA" in earlier.options

    failing = make_scanner(
        MARKET_PROVIDER=DemoProvider(
            latency_ms=0, failures={"TSLA": "rate_limit"}, today=lambda: FROZEN_NOW.date()
        )
    )
    summary = _run(failing, "second")

    snapshot = failing.store.read_snapshot()
    assert summary.failed == 1 and "1 failed ticker" in snapshot.last_run
    assert "TSLA" in snapshot.errors and snapshot.errors["TSLA"]
    assert snapshot.options["TSLA"] == earlier.options["TSLA"]
    assert snapshot.scan_times["TSLA"] == earlier.scan_times["TSLA"]
    view = failing.store.read_ticker("TSLA")
    assert view.error == snapshot.errors["TSLA"] and view.options == earlier.options["TSLA"]
    assert set(snapshot.options) >= {"AAPL", "KO"}


def test_tickers_with_no_qualifying_puts_disappear(make_scanner):
    scanner = make_scanner()
    _run(scanner, "first")
    assert scanner.store.read_snapshot().options

    strict = make_scanner(MIN_ANNUALIZED=10_000)
    summary = _run(strict, "second")

    snapshot = strict.store.read_snapshot()
    assert summary.puts == 0 and snapshot.options == {}
    assert set(snapshot.scan_times) == {"AAPL", "TSLA", "KO"}


def test_the_lock_is_released_when_the_whole_scan_fails(make_scanner, monkeypatch):
    scanner = make_scanner()
    engine = scanner.engine()
    monkeypatch.setattr(engine.store, "begin", _raise_runtime_error)
    assert scanner.store.acquire_lock("scan-1")

    with pytest.raises(RuntimeError):
        engine.run("scan-1")

    assert scanner.store.lock_owner() is None
    assert scanner.store.read_snapshot().last_run.startswith("Scan failed at ")


def _raise_runtime_error(*args, **kwargs):
    raise RuntimeError("disk on fire")


def test_a_provider_bug_fails_tickers_not_the_scan(make_scanner):
    scanner = make_scanner(MARKET_PROVIDER=BrokenMarket())
    summary = _run(scanner)
    snapshot = scanner.store.read_snapshot()
    assert summary.failed == 3
    assert all("bug in the provider" in error for error in snapshot.errors.values())
    assert scanner.store.lock_owner() is None


def test_a_scan_that_loses_its_lock_stops(make_scanner, demo_provider, redis_client, key_prefix):
    market = GatedMarket(demo_provider, gated={"AAPL", "TSLA", "KO"})
    scanner = make_scanner(MARKET_PROVIDER=market)
    assert scanner.store.acquire_lock("old")
    errors: list[BaseException] = []

    def run():
        try:
            scanner.engine().run("old")
        except LockLost as error:
            errors.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    redis_client.delete(f"{key_prefix}scan_in_progress")
    assert scanner.store.acquire_lock("new")
    market.gate.set()
    worker.join(10)

    assert errors, "the old scan kept going without its lock"
    assert scanner.store.lock_owner() == "new"
    assert scanner.store.read_snapshot().scan_times == {}


def test_readers_always_see_consistent_results(make_scanner):
    market = DemoProvider(latency_ms=5, today=lambda: FROZEN_NOW.date())
    scanner = make_scanner(MARKET_PROVIDER=market)
    stop = threading.Event()
    problems: list[str] = []
    versions: list[int] = []

    def read():
        while not stop.is_set():
            snapshot = scanner.store.read_snapshot()
            versions.append(snapshot.version)
            if not set(snapshot.options) <= set(snapshot.scan_times):
                problems.append(f"options without scan times: {snapshot.options.keys()}")
            for symbol, rows in snapshot.options.items():
                view = scanner.store.read_ticker(symbol)
                if view.scanned_at < snapshot.scan_times[symbol]:
                    problems.append(f"{symbol}: ticker key older than the dict")
                assert rows

    reader = threading.Thread(target=read)
    reader.start()
    try:
        _run(scanner)
    finally:
        stop.set()
        reader.join(10)
    assert not problems
    assert versions == sorted(versions) and len(versions) > 1


def test_progress_percent():
    progress = Progress(scan_id="x", total=8, started_at="t", done=3)
    assert progress.percent == 38
    assert replace(progress, total=0).percent == 100


def test_a_slow_ticker_does_not_cost_the_scan_its_lock(make_scanner, demo_provider):
    market = GatedMarket(demo_provider, gated={"KO"})
    scanner = make_scanner(MARKET_PROVIDER=market, SCAN_LOCK_TTL=2)
    assert scanner.store.acquire_lock("slow")
    summaries = []
    worker = threading.Thread(target=lambda: summaries.append(scanner.engine().run("slow")))
    worker.start()
    try:
        threading.Event().wait(3.5)  # longer than the lock's TTL, with KO still waiting
        assert scanner.store.lock_owner() == "slow"
    finally:
        market.gate.set()
        worker.join(10)
    assert summaries and summaries[0].failed == 0
    assert scanner.store.lock_owner() is None
