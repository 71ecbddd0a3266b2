"""History figures: what writing the history costs a scan, on SQLite and PostgreSQL; what
the IV rank column costs the dashboard's first page; and ``/api/history/<SYMBOL>`` as the
database grows.

Run: ``make bench`` (or ``python -m bench.bench_history``). Prints figures; asserts nothing.
PostgreSQL comes from ``TEST_DATABASE_URL`` (default: postgres on 127.0.0.1:5432); the bench
makes a database of its own there and drops it.

On a shared machine one scan can take twice as long as the next, so the scans compared are
interleaved: each round runs every kind once, in an order that rotates, and the figures are
medians over the rounds, with the median of each round's own ratio beside them.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, text

from scanner_app.db import StoredDay, close_all, database_url
from scanner_app.market.demo import DemoProvider

from .support import bench_app, clear_prefix, redis_url

TICKERS = 500
LATENCY_MS = 20
CONCURRENCY = 8
ROUNDS = 5
NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
#: The dashboard's and /api/history's store: tickers, and first-page samples per round.
MARKET = 5000
PAGE_SAMPLES = 20
HISTORY_SAMPLES = 200


@contextlib.contextmanager
def databases(count: int = 1) -> Iterator[list[tuple[str, list[str]]]]:
    """(name, URLs) of ``count`` new SQLite files and of ``count`` new PostgreSQL
    databases."""
    folder = tempfile.mkdtemp(prefix="put-scanner-bench-db-")
    admin_url = database_url(os.environ.get("TEST_DATABASE_URL") or SERVER, "/")
    names = [f"bench_history_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield [
            ("SQLite", [f"sqlite:///{folder}/bench-{n}.db" for n in range(count)]),
            (
                "PostgreSQL",
                [
                    admin_url.set(database=name).render_as_string(hide_password=False)
                    for name in names
                ],
            ),
        ]
    finally:
        close_all()
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Scanning:
    """An app that scans the bench's watchlist on the demo market, again and again."""

    url: str
    db_url: str
    history: bool
    tickers: int = TICKERS
    latency_ms: int = LATENCY_MS
    app: object = field(init=False)
    provider: DemoProvider = field(init=False)

    def __post_init__(self) -> None:
        self.provider = DemoProvider(latency_ms=self.latency_ms, today=lambda: NOW.date())
        self.app = bench_app(
            self.url,
            self.tickers,
            MARKET_PROVIDER=self.provider,
            SCAN_CONCURRENCY=CONCURRENCY,
            CLOCK=lambda: NOW,
            DATABASE_URL=self.db_url,
            HISTORY=self.history,
        )

    def scan(self) -> tuple[float, int]:
        """One whole scan: its seconds and the market requests it made."""
        scanner = self.app.extensions["put_scanner"]
        requests = self.provider.request_count
        assert scanner.store.acquire_lock("bench")
        started = time.perf_counter()
        scanner.engine().run("bench")
        return time.perf_counter() - started, self.provider.request_count - requests

    def close(self) -> None:
        clear_prefix(self.app)
        self.app.extensions["put_scanner"].database.dispose()


def _first_of_day(url: str, db_url: str, history: bool) -> tuple[float, int]:
    """A scan on a Redis of its own (nothing fetched today yet) over the database's days."""
    fresh = Scanning(url, db_url, history)
    try:
        return fresh.scan()
    finally:
        fresh.close()


def _interleaved(kinds: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Each kind's figure per round, the kinds' order rotating from round to round."""
    names = list(kinds)
    figures: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            figures[name].append(kinds[name]())
    return figures


def _ratio(figures: dict[str, list[float]], name: str, base: str) -> str:
    """``name`` against ``base``: the ratio of the medians and the median of the rounds'
    ratios."""
    medians = statistics.median(figures[name]) / statistics.median(figures[base])
    paired = statistics.median(a / b for a, b in zip(figures[name], figures[base], strict=True))
    return f"{medians:.3f}x (rounds' ratios: median {paired:.3f}x)"


def scan_cost(url: str) -> None:
    """A 500-ticker demo scan with the history on and off: repeats on the same day, and the
    first scan of a day (daily closes and the 30-day expiration fetched, a year
    backfilled), first on an empty database, then on one that holds the year."""
    DemoProvider(latency_ms=0).open("WARM").expirations()
    with databases() as backends:
        print(
            f"{TICKERS}-ticker demo scan, latency {LATENCY_MS} ms, concurrency {CONCURRENCY}, "
            f"{ROUNDS} interleaved rounds (medians):"
        )
        off = Scanning(url, backends[0][1][0], history=False)
        apps = {name: Scanning(url, urls[0], history=True) for name, urls in backends}
        empty = {name: app.scan() for name, app in apps.items()}  # first ever: empty database
        off.scan()
        requests: dict[str, int] = {}

        def timed(scanning: Scanning, kind: str) -> Callable[[], float]:
            def run() -> float:
                seconds, requests[kind] = scanning.scan()
                return seconds

            return run

        def first(db_url: str, history: bool, kind: str) -> Callable[[], float]:
            def run() -> float:
                seconds, requests[kind] = _first_of_day(url, db_url, history)
                return seconds

            return run

        kinds = {"off": timed(off, "off")}
        kinds |= {name: timed(app, name) for name, app in apps.items()}
        repeats = _interleaved(kinds, ROUNDS)
        firsts = {"off": first(backends[0][1][0], False, "off first")}
        firsts |= {name: first(urls[0], True, f"{name} first") for name, urls in backends}
        first_days = _interleaved(firsts, ROUNDS)
        for scanning in (off, *apps.values()):
            scanning.close()
    base, base_first = statistics.median(repeats["off"]), statistics.median(first_days["off"])
    print(
        f"  HISTORY=off, repeat scan    {base:.2f} s ({requests['off'] / TICKERS:.2f} requests/"
        f"ticker); first of the day {base_first:.2f} s "
        f"({requests['off first'] / TICKERS:.2f} requests/ticker)"
    )
    for name, _urls in backends:
        extra = (requests[f"{name} first"] - requests["off first"]) / TICKERS
        print(
            f"  {name}: repeat scan {statistics.median(repeats[name]):.2f} s = "
            f"{_ratio(repeats, name, 'off')} (target <= 1.05x)\n"
            f"    first of the day {statistics.median(first_days[name]):.2f} s = "
            f"{_ratio(first_days, name, 'off')}, +{extra:.2f} requests/ticker; "
            f"first ever (empty database) {empty[name][0]:.2f} s = "
            f"{empty[name][0] / base_first:.3f}x"
        )


def _page_seconds(client, path: str) -> float:
    """Median seconds of ``PAGE_SAMPLES`` GETs of ``path``."""
    samples = []
    for _ in range(PAGE_SAMPLES):
        started = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(samples)


def dashboard_cost(url: str) -> None:
    """The dashboard's first page at 5000 tickers with the IV rank column (history on) and
    without it (``HISTORY=off``), each store filled by a real scan."""
    folder = tempfile.mkdtemp(prefix="put-scanner-bench-db-")
    db_url = f"sqlite:///{folder}/dashboard.db"
    stores = {
        "off": Scanning(url, db_url, history=False, tickers=MARKET, latency_ms=0),
        "on": Scanning(url, db_url, history=True, tickers=MARKET, latency_ms=0),
    }
    for scanning in stores.values():
        scanning.scan()
    clients = {name: scanning.app.test_client() for name, scanning in stores.items()}
    pages = {
        "off": lambda: _page_seconds(clients["off"], "/"),
        "on": lambda: _page_seconds(clients["on"], "/"),
        "on, sort=iv_rank": lambda: _page_seconds(clients["on"], "/?sort=iv_rank"),
    }
    figures = _interleaved(pages, ROUNDS)
    sizes = {name: len(client.get("/").data) for name, client in clients.items()}
    for scanning in stores.values():
        scanning.close()
    print(
        f"Dashboard's first page at {MARKET} tickers ({ROUNDS} interleaved rounds of "
        f"{PAGE_SAMPLES} GETs, medians):"
    )
    print(
        f"  HISTORY=off {statistics.median(figures['off']) * 1e3:.1f} ms, "
        f"{sizes['off'] / 1024:.1f} KB; with the IV rank column "
        f"{statistics.median(figures['on']) * 1e3:.1f} ms, {sizes['on'] / 1024:.1f} KB = "
        f"{_ratio(figures, 'on', 'off')} (target <= 1.1x); sorted by IV rank "
        f"{statistics.median(figures['on, sort=iv_rank']) * 1e3:.1f} ms = "
        f"{_ratio(figures, 'on, sort=iv_rank', 'off')}"
    )


def _year(end: date) -> list[date]:
    """The 252 weekdays up to ``end``."""
    days = (end - timedelta(days=n) for n in range(400))
    return [day for day in days if day.weekday() < 5][:252]


def _fill(history, tickers: int, days: list[date]) -> None:
    """A year of ``tickers`` written day by day, as scans write it (a day's rows for every
    ticker at once), so one ticker's rows lie apart as they do in use."""
    for n, day in enumerate(reversed(days)):
        history.save_days(
            [
                StoredDay(f"H{index:04d}", day, 100.0 + n / 10, 0.2 + n % 50 / 500)
                for index in range(tickers)
            ]
        )


def _history_timings(client) -> list[float]:
    """Seconds of GET ``/api/history/<SYMBOL>``, over the first ten tickers in turn."""
    timings = []
    for round_ in range(HISTORY_SAMPLES // ROUNDS):
        started = time.perf_counter()
        response = client.get(f"/api/history/H{round_ % 10:04d}")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    return timings


def history_read_cost(url: str) -> None:
    """``/api/history/<SYMBOL>`` p50 over a database of 10 tickers of a year each and one of
    5000, read in interleaved rounds."""
    days = _year(NOW.date())
    with databases(2) as backends:
        for name, urls in backends:
            clients = {}
            for size, db_url in zip((10, MARKET), urls, strict=True):
                app = bench_app(url, 1, DATABASE_URL=db_url)
                _fill(app.extensions["put_scanner"].history, size, days)
                clients[size] = app.test_client()
            rounds: dict[int, list[float]] = {10: [], MARKET: []}
            for round_ in range(ROUNDS):
                for size in (10, MARKET) if round_ % 2 else (MARKET, 10):
                    rounds[size] += _history_timings(clients[size])
            medians = {size: statistics.median(timings) for size, timings in rounds.items()}
            print(
                f"/api/history/<SYMBOL> on {name}, {len(days)} days a ticker (p50 of "
                f"{HISTORY_SAMPLES}, interleaved): 10 tickers {medians[10] * 1000:.2f} ms, "
                f"{MARKET} tickers {medians[MARKET] * 1000:.2f} ms: "
                f"{medians[MARKET] / medians[10]:.2f}x (target <= 1.5x)"
            )


def main() -> None:
    with redis_url() as url:
        scan_cost(url)
        dashboard_cost(url)
        history_read_cost(url)


if __name__ == "__main__":
    main()
