"""Live, finished and dead scans told apart; a dead one reported as interrupted, once."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from scanner_app.scan.launch import Outcome, launch_scan
from scanner_app.scan.liveness import dead_scan, report_dead
from scanner_app.scan.store import NOT_REACHED, Progress, TickerResult

from .conftest import FROZEN_NOW, SynchronousExecutor
from .scan_results import SCANNED_AT, STARTED_AT, read_results

#: The default SCAN_DEAD_SECONDS.
DEAD_AFTER = 20


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = FROZEN_NOW

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock on."""
        self.now += timedelta(seconds=seconds)


class Waiting(SynchronousExecutor):
    """An executor that starts nothing, and says whether a silent scan still has work queued."""

    def __init__(self, working: bool = False) -> None:
        self.working = working
        self.started: list[str] = []
        self._lock = threading.Lock()

    def start(self, engine, scan_id):  # noqa: ANN001 - the Executor protocol
        """Record the scan (its lock stays taken)."""
        with self._lock:
            self.started.append(scan_id)

    def working_on(self, scan_id):
        """What the test said."""
        return self.working


@pytest.fixture
def clock() -> Clock:
    """The app's clock."""
    return Clock()


@pytest.fixture
def scanner_with(make_app, clock):
    """A scanner on the three-ticker watchlist and the test's clock, with config overrides."""

    def build(**overrides):
        return make_app(CLOCK=clock, **overrides).extensions["put_scanner"]

    return build


def start_dead_scan(scanner, scan_id: str = "dead") -> None:
    """A scan that took the lock, published AAPL of its three tickers, then went silent."""
    store = scanner.store
    assert store.acquire_lock(scan_id)
    store.begin(Progress(scan_id=scan_id, total=3, started_at=STARTED_AT))
    rows = [{"ticker": "AAPL", "strike": 140.0}, {"ticker": "AAPL", "strike": 135.0}]
    store.publish(scan_id, [TickerResult("AAPL", SCANNED_AT, rows)], "KO")


def test_a_scan_that_beat_recently_is_running(scanner_with, clock):
    scanner = scanner_with(SCAN_RUNNER=Waiting())
    start_dead_scan(scanner, "live")
    clock.advance(DEAD_AFTER)

    status = scanner.status()

    assert status.state == "running" and status.running_scan == "live"
    assert status.facts is None and status.last_run == "Never"


def test_a_silent_scan_is_reported_interrupted_and_keeps_what_it_published(
    scanner_with, clock, redis_client, key_prefix
):
    scanner = scanner_with(SCAN_RUNNER=Waiting())
    start_dead_scan(scanner)
    clock.advance(DEAD_AFTER + 1)

    status = scanner.status()

    assert status.state == "idle" and scanner.store.lock_owner() is None
    facts = status.facts
    assert (facts.scan_id, facts.outcome, facts.done, facts.tickers) == (
        "dead",
        "interrupted",
        1,
        3,
    )
    assert facts.puts == 2 and facts.reason == "the process running it stopped"
    # the time is its last sign of life, not the moment it was found
    assert facts.finished_at == FROZEN_NOW.isoformat(timespec="seconds")
    assert status.last_run == (
        "Scan interrupted at 1 of 3 tickers on Wed Nov 18, 2026 11:00 AM EST: "
        "the process running it stopped"
    )
    assert (status.progress.done, status.progress.total) == (1, 3)
    assert status.progress.finished_at == facts.finished_at and status.progress.current is None
    assert set(read_results(scanner).options) == {"AAPL"}
    assert set(json.loads(redis_client.get(f"{key_prefix}ticker_options"))) == {"AAPL"}
    # reported once: later readers find a finished scan
    assert scanner.status() == status


def test_a_scan_whose_lock_expired_before_it_ended_is_interrupted(
    scanner_with, redis_client, key_prefix
):
    scanner = scanner_with(SCAN_RUNNER=Waiting())
    start_dead_scan(scanner)
    redis_client.delete(f"{key_prefix}scan_in_progress")

    status = scanner.status()

    assert status.facts.outcome == "interrupted" and status.facts.done == 1
    assert status.last_run.startswith("Scan interrupted at 1 of 3 tickers on ")


def test_a_silent_scan_with_work_queued_is_still_running(scanner_with, clock):
    scanner = scanner_with(SCAN_RUNNER=Waiting(working=True))
    start_dead_scan(scanner)
    clock.advance(DEAD_AFTER * 10)

    status = scanner.status()

    assert status.state == "running" and status.facts is None


def test_a_scan_without_a_readable_heartbeat_is_dead(scanner_with, redis_client, key_prefix):
    scanner = scanner_with(SCAN_RUNNER=Waiting())
    start_dead_scan(scanner)
    redis_client.set(f"{key_prefix}scan_heartbeat", '{"scan_id": "dead", "at": 5}')

    status = scanner.status()

    assert status.state == "idle" and status.facts.outcome == "interrupted"


def test_a_heartbeat_after_the_read_keeps_the_scan_alive(scanner_with, clock):
    scanner = scanner_with(SCAN_RUNNER=Waiting())
    start_dead_scan(scanner)
    clock.advance(DEAD_AFTER + 1)
    dead = dead_scan(scanner, scanner.store.read_status())
    assert dead is not None

    assert scanner.store.refresh_lock("dead")  # it was only slow

    assert not report_dead(scanner, dead)
    assert scanner.store.lock_owner() == "dead"
    assert scanner.store.read_status().facts is None


@pytest.mark.parametrize("ending", ["completed", "failed"])
def test_ended_scans_are_not_reported(scanner_with, clock, ending):
    market = None if ending == "completed" else _Refusing()
    scanner = scanner_with(SCAN_RUNNER=Waiting(), MARKET_PROVIDER=market)
    assert scanner.store.acquire_lock("ended")
    try:
        scanner.engine().run("ended")
    except Exception:
        assert ending == "failed"
    scanner.store.set_last_run("Market is closed.")  # drops the facts, not the progress
    clock.advance(DEAD_AFTER * 10)

    status = scanner.status()

    assert status.last_run == "Market is closed." and status.facts is None
    assert status.progress.scan_id == "ended" and status.progress.finished_at


class _Refusing:
    name = "refusing"

    def open(self, ticker, *, calls=False):
        """Refuse the account, which fails the whole scan."""
        from scanner_app.market.errors import ProviderRefused

        raise ProviderRefused("bad token")


def test_a_click_starts_one_new_scan_over_a_dead_one(scanner_with, clock):
    executor = Waiting()
    scanner = scanner_with(SCAN_RUNNER=executor)
    start_dead_scan(scanner)
    clock.advance(DEAD_AFTER + 1)

    with ThreadPoolExecutor(16) as pool:
        launches = list(pool.map(lambda _: launch_scan(scanner), range(32)))

    started = [launch for launch in launches if launch.outcome is Outcome.STARTED]
    assert len(started) == 1 and executor.started == [started[0].scan_id]
    new = started[0].scan_id
    assert {launch.scan_id for launch in launches} == {new}
    status = scanner.store.read_status()
    assert status.running_scan == new and status.heartbeat.scan_id == new
    assert (status.facts.scan_id, status.facts.outcome) == ("dead", "interrupted")
    assert status.last_run.startswith("Scan interrupted at 1 of 3 tickers on ")
    assert set(read_results(scanner).options) == {"AAPL"}


def test_a_click_over_a_live_scan_joins_it(scanner_with):
    executor = Waiting()
    scanner = scanner_with(SCAN_RUNNER=executor)
    start_dead_scan(scanner, "live")

    launch = launch_scan(scanner)

    assert (launch.outcome, launch.scan_id) == (Outcome.JOINED, "live")
    assert executor.started == []


def test_the_api_says_how_the_dead_scan_ended_and_how_far_it_got(make_app, clock):
    app = make_app(CLOCK=clock, SCAN_RUNNER=Waiting())
    start_dead_scan(app.extensions["put_scanner"])
    client = app.test_client()
    assert client.get("/api/scan").get_json()["outcome"] is None  # still running
    clock.advance(DEAD_AFTER + 1)

    body = client.get("/api/scan").get_json()

    assert (body["state"], body["outcome"], body["scan_id"]) == ("idle", "interrupted", "dead")
    assert (body["progress"]["done"], body["progress"]["total"]) == (1, 3)
    assert body["last_run"].startswith("Scan interrupted at 1 of 3 tickers on ")
    page = client.get("/")
    assert (
        "Last scan: Scan interrupted at 1 of 3 tickers on Wed Nov 18, 2026 11:00 AM EST"
        in page.text
    )


def test_tickers_an_interrupted_scan_never_reached_are_stale_with_their_fetch_time(
    scanner_with, make_app, clock
):
    scanner = scanner_with(SCAN_RUNNER=Waiting())
    earlier = "2026-11-18T15:00:00+00:00"
    old_rows = {"KO": [{"ticker": "KO", "strike": 50.0}], "TSLA": [{"ticker": "TSLA"}]}
    store = scanner.store
    assert store.acquire_lock("earlier")
    store.begin(Progress(scan_id="earlier", total=3, started_at=earlier))
    store.publish("earlier", [TickerResult(s, earlier, r) for s, r in old_rows.items()], None)
    store.release_lock("earlier")
    start_dead_scan(scanner)  # reaches AAPL only
    clock.advance(DEAD_AFTER + 1)

    assert scanner.status().facts.outcome == "interrupted"

    results = read_results(scanner)
    assert set(results.options) == {"AAPL", "KO", "TSLA"}
    assert results.errors == {"KO": NOT_REACHED, "TSLA": NOT_REACHED}
    assert results.scan_times["KO"] == earlier and results.scan_times["AAPL"] == SCANNED_AT
    stale = make_app(CLOCK=clock).test_client().get("/api/options").get_json()["stale"]
    assert stale == {"KO": earlier, "TSLA": earlier}
