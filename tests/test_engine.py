"""A scan on a real Redis with the demo market: progressive, isolated, atomic, always unlocked."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import pytest

from scanner_app.market.demo import DemoProvider
from scanner_app.scan.store import LockLost, Progress, TickerResult

from .conftest import FROZEN_NOW
from .scan_results import hand_over_lock, read_results


class GatedMarket:
    """The demo market, except that chosen tickers wait for a gate before answering."""

    def __init__(self, market: DemoProvider, gated: set[str]) -> None:
        self.market = market
        self.gated = gated
        self.gate = threading.Event()
        self.name = market.name

    def open(self, ticker: str, *, calls: bool = False):
        """Open the ticker's feed, waiting at the gate first for a gated ticker."""
        if ticker in self.gated:
            assert self.gate.wait(10), "the test never opened the gate"
        return self.market.open(ticker)


class RecordingMarket:
    """The demo market, recording the order in which tickers are opened."""

    def __init__(self, market: DemoProvider) -> None:
        self.market = market
        self.name = market.name
        self.opened: list[str] = []

    def open(self, ticker: str, *, calls: bool = False):
        """Record, then open the ticker's feed."""
        self.opened.append(ticker)
        return self.market.open(ticker)


class BrokenMarket:
    """A market whose every request fails with a programming error (not a market error)."""

    name = "broken"

    def open(self, ticker: str, *, calls: bool = False):
        """Fail like a bug would."""
        raise ZeroDivisionError("bug in the provider")


@pytest.fixture
def make_scanner(make_app):
    """Build a scanner on the three-ticker watchlist with config overrides."""
    return lambda **overrides: make_app(**overrides).extensions["put_scanner"]


def _run(scanner, scan_id="scan-1", listener=None):
    assert scanner.store.acquire_lock(scan_id)
    return scanner.engine().run(scan_id, listener)


def test_a_scan_publishes_every_ticker_and_frees_the_lock(make_scanner, redis_client, key_prefix):
    scanner = make_scanner()
    seen: list[Progress] = []

    summary = _run(scanner, listener=seen.append)

    status = scanner.store.read_status()
    results = read_results(scanner)
    assert status.state == "idle" and scanner.store.lock_owner() is None
    assert set(results.scan_times) == {"AAPL", "TSLA", "KO"}
    assert summary.puts == sum(len(rows) for rows in results.options.values()) > 0
    assert status.last_run.startswith("Scan completed successfully at ")
    assert f"3 tickers, {summary.puts} puts" in status.last_run
    facts = status.facts
    assert (facts.scan_id, facts.outcome) == ("scan-1", "completed")
    assert (facts.tickers, facts.puts, facts.failed) == (3, summary.puts, 0)
    assert facts.finished_at == FROZEN_NOW.isoformat(timespec="seconds")
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1].finished_at and seen[-1].done == 3
    assert status.progress == seen[-1]
    for rows in results.options.values():
        assert all(row["annualized"] >= 30 and row["delta"] >= -0.2 for row in rows)
    # the contract keys are assembled from the working set at the end
    assert json.loads(redis_client.get(f"{key_prefix}ticker_options")) == results.options
    assert json.loads(redis_client.get(f"{key_prefix}ticker_scan_times")) == results.scan_times


def test_tickers_are_scanned_in_symbol_order(make_scanner, demo_provider):
    market = RecordingMarket(demo_provider)
    scanner = make_scanner(MARKET_PROVIDER=market, SCAN_CONCURRENCY=1)
    _run(scanner)
    assert market.opened == ["AAPL", "KO", "TSLA"]


def test_results_appear_while_the_scan_runs(make_scanner, demo_provider, redis_client, key_prefix):
    market = GatedMarket(demo_provider, gated={"KO"})
    scanner = make_scanner(MARKET_PROVIDER=market)
    assert scanner.store.acquire_lock("scan-1")
    worker = threading.Thread(target=scanner.engine().run, args=("scan-1",))
    worker.start()
    try:
        deadline = threading.Event()
        for _ in range(100):
            status = scanner.store.read_status()
            if status.progress and status.progress.done == 2:
                break
            deadline.wait(0.05)
        assert status.state == "running"
        assert status.progress.done == 2 and status.progress.total == 3
        assert set(read_results(scanner).scan_times) == {"AAPL", "TSLA"}
        assert scanner.reader.read_ticker("AAPL").scanned_at is not None
        page = scanner.reader.read_page(None, 0, 50, descending=False)
        assert set(page.symbols) <= {"AAPL", "TSLA"} and page.listed == len(page.symbols)
        # the contract keys are only assembled when the scan ends
        assert redis_client.get(f"{key_prefix}ticker_options") is None
    finally:
        market.gate.set()
        worker.join(10)
    assert set(read_results(scanner).scan_times) == {"AAPL", "TSLA", "KO"}
    assert set(json.loads(redis_client.get(f"{key_prefix}ticker_scan_times"))) == {
        "AAPL",
        "TSLA",
        "KO",
    }


def test_a_failing_ticker_is_recorded_and_keeps_its_earlier_results(make_scanner):
    scanner = make_scanner()
    _run(scanner, "first")
    earlier = read_results(scanner)
    assert "TSLA" in earlier.options

    failing = make_scanner(
        MARKET_PROVIDER=DemoProvider(
            latency_ms=0, failures={"TSLA": "rate_limit"}, today=lambda: FROZEN_NOW.date()
        )
    )
    summary = _run(failing, "second")

    results = read_results(failing)
    status = failing.store.read_status()
    assert summary.failed == 1 and "1 failed ticker" in status.last_run
    assert status.facts.failed == 1 and status.progress.failed == 1
    assert set(results.errors) == {"TSLA"} and results.errors["TSLA"]
    assert results.options["TSLA"] == earlier.options["TSLA"]
    assert results.scan_times["TSLA"] == earlier.scan_times["TSLA"]
    view = failing.reader.read_ticker("TSLA")
    assert view.error == results.errors["TSLA"] and view.options == earlier.options["TSLA"]
    assert set(results.options) >= {"AAPL", "KO"}


def test_a_tickers_error_lasts_until_the_ticker_is_fetched_again(make_scanner, demo_provider):
    failing = make_scanner(
        MARKET_PROVIDER=DemoProvider(
            latency_ms=0, failures={"TSLA": "rate_limit"}, today=lambda: FROZEN_NOW.date()
        )
    )
    _run(failing, "first")
    error = read_results(failing).errors["TSLA"]

    # a new scan no longer clears every error when it begins: TSLA's stays while it waits
    market = GatedMarket(demo_provider, gated={"TSLA"})
    healthy = make_scanner(MARKET_PROVIDER=market)
    assert healthy.store.acquire_lock("second")
    worker = threading.Thread(target=healthy.engine().run, args=("second",))
    worker.start()
    try:
        for _ in range(100):
            progress = healthy.store.read_status().progress
            if progress and progress.scan_id == "second" and progress.done == 2:
                break
            threading.Event().wait(0.05)
        assert progress.done == 2
        assert read_results(healthy).errors == {"TSLA": error}
    finally:
        market.gate.set()
        worker.join(10)
    assert read_results(healthy).errors == {}
    assert healthy.reader.read_ticker("TSLA").error is None


def test_tickers_with_no_qualifying_puts_disappear(make_scanner, redis_client, key_prefix):
    scanner = make_scanner()
    _run(scanner, "first")
    assert read_results(scanner).options

    strict = make_scanner(MIN_ANNUALIZED=10_000)
    summary = _run(strict, "second")

    results = read_results(strict)
    assert summary.puts == 0 and results.options == {}
    assert set(results.scan_times) == {"AAPL", "TSLA", "KO"}
    assert strict.reader.read_page(None, 0, 50, descending=False).listed == 0
    assert json.loads(redis_client.get(f"{key_prefix}ticker_options")) == {}


def test_tickers_that_left_the_watchlist_are_forgotten(make_scanner, redis_client, key_prefix):
    scanner = make_scanner()
    store = scanner.store
    assert store.acquire_lock("before")
    store.begin(Progress(scan_id="before", total=2, started_at=FROZEN_NOW.isoformat()))
    store.publish(
        "before",
        [
            TickerResult("MSFT", FROZEN_NOW.isoformat(), [{"strike": 1.0, "annualized": 40.0}]),
            TickerResult("NFLX", FROZEN_NOW.isoformat(), [], error="timed out"),
        ],
        None,
    )
    assert store.release_lock("before")

    _run(scanner)

    results = read_results(scanner)
    assert set(results.scan_times) == {"AAPL", "TSLA", "KO"}
    assert not {"MSFT", "NFLX"} & (set(results.options) | set(results.errors))
    assert store.listed_symbols() <= {"AAPL", "TSLA", "KO"}
    assert "MSFT" not in json.loads(redis_client.get(f"{key_prefix}ticker_options"))


def test_the_lock_is_released_when_the_whole_scan_fails(make_scanner, monkeypatch):
    scanner = make_scanner()
    engine = scanner.engine()
    monkeypatch.setattr(engine.store, "begin", _raise_runtime_error)
    assert scanner.store.acquire_lock("scan-1")

    with pytest.raises(RuntimeError):
        engine.run("scan-1")

    assert scanner.store.lock_owner() is None
    status = scanner.store.read_status()
    assert status.last_run.startswith("Scan failed at ")
    assert status.last_run.endswith(": disk on fire")
    assert status.facts.outcome == "failed" and status.facts.reason == "disk on fire"


def _raise_runtime_error(*args, **kwargs):
    raise RuntimeError("disk on fire")


def test_a_provider_bug_fails_tickers_not_the_scan(make_scanner):
    scanner = make_scanner(MARKET_PROVIDER=BrokenMarket())
    summary = _run(scanner)
    errors = read_results(scanner).errors
    assert summary.failed == 3 and set(errors) == {"AAPL", "TSLA", "KO"}
    assert all("bug in the provider" in error for error in errors.values())
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
    hand_over_lock(redis_client, key_prefix, "new")
    market.gate.set()
    worker.join(10)

    assert errors, "the old scan kept going without its lock"
    assert scanner.store.lock_owner() == "new"
    assert read_results(scanner).scan_times == {}
    assert scanner.store.read_status().last_run == "Never"


def test_readers_always_see_consistent_results(make_scanner):
    market = DemoProvider(latency_ms=5, today=lambda: FROZEN_NOW.date())
    scanner = make_scanner(MARKET_PROVIDER=market)
    stop = threading.Event()
    problems: list[str] = []
    versions: list[int] = []
    listed: list[int] = []

    def read():
        while not stop.is_set():
            versions.append(scanner.store.read_status().version)
            page = scanner.reader.read_page(None, 0, 50, descending=False)
            listed.append(page.listed)
            if page.symbols != sorted(page.symbols) or len(page.symbols) != page.listed:
                problems.append(f"page out of order or short: {page.symbols}")
            for symbol in page.symbols:
                summary = page.summaries.get(symbol, {})
                view = scanner.reader.read_ticker(symbol)
                if not summary.get("puts") or len(view.options) != summary["puts"]:
                    problems.append(f"{symbol}: summary and rows disagree")
                if not view.scanned_at or view.scanned_at < summary.get("scanned_at", ""):
                    problems.append(f"{symbol}: scan time older than the summary")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        _run(scanner)
    finally:
        stop.set()
        reader.join(10)
    assert not problems
    assert versions == sorted(versions) and len(versions) > 1
    assert listed == sorted(listed)


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


class RefusingMarket:
    """A market that refuses the account itself (a bad token), counting the requests."""

    name = "refusing"

    def __init__(self) -> None:
        self.opened = 0

    def open(self, ticker: str, *, calls: bool = False):
        """Refuse, as a provider does for a bad token."""
        from scanner_app.market.errors import ProviderRefused

        self.opened += 1
        time.sleep(0.02)  # a request's round trip
        raise ProviderRefused("Market Data refused the token (HTTP 401)")


def test_a_refused_provider_stops_the_whole_scan_with_one_message(make_app, tmp_path):
    path = tmp_path / "many.toml"
    path.write_text("".join(f'[[tickers]]\nsymbol = "R{i:03d}"\n' for i in range(200)))
    market = RefusingMarket()
    scanner = make_app(WATCHLIST_FILE=path, MARKET_PROVIDER=market, SCAN_CONCURRENCY=2)
    scanner = scanner.extensions["put_scanner"]
    assert scanner.store.acquire_lock("refused")

    with pytest.raises(Exception, match="refused the token"):
        scanner.engine().run("refused")

    status = scanner.store.read_status()
    assert status.facts.outcome == "failed" and "refused the token" in status.facts.reason
    assert status.last_run.startswith("Scan failed at ")
    assert market.opened < 50  # not one refusal for each of the 200 tickers
    assert scanner.store.lock_owner() is None
