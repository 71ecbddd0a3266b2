"""Evaluating 200 saved screens after a 5000-ticker scan (demo market, real Redis, SQLite).

- matching alone: every screen against the stored rows, each side read once;
- the whole evaluation the first time (every match is new: each screen's claim records
  all it matches);
- the whole evaluation again after a second scan (nothing new: the steady state).

Targets are left out: delivery runs off the scan's path and is not part of the figure.
Run: ``python -m bench.bench_screens``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, update

from scanner_app.accounts.local_user import local_user_id
from scanner_app.db.account_tables import WATCHLIST_ENTRIES
from scanner_app.db.screen_tables import ALERT_TARGETS
from scanner_app.market.demo import DemoProvider
from scanner_app.screens.definition import check_screen, row_hash

from .support import bench_app, clear_prefix, redis_url

TICKERS = 5000
SCREENS = 200
#: A quarter of the screens belong to people whose watchlist holds this many tickers.
WATCHLIST_SIZE = 50
BUDGET_SECONDS = 5.0


def _query(rng: random.Random) -> str:
    """A screen's query as people save them to be alerted: a return and a horizon, plus up
    to two more of the dashboard's filters; now and then on the calls."""
    extra = {
        "min_delta": rng.choice(["-0.1", "-0.2", "-0.3"]),
        "min_oi": rng.choice(["0", "50", "100"]),
        "max_spread": rng.choice(["5", "10", "25"]),
        "min_iv_rank": rng.choice(["20", "50"]),
        "exclude_earnings": "1",
    }
    picked = {name: extra[name] for name in rng.sample(sorted(extra), rng.randint(0, 2))}
    args = {
        "min_annualized": rng.choice(["15", "25", "40", "60"]),
        "max_dte": rng.choice(["7", "14", "21", "30"]),
        **picked,
    }
    query = "&".join(f"{name}={value}" for name, value in args.items())
    return query + ("&side=call" if rng.random() < 0.1 else "")


def _save_screens(scanner, symbols: list[str]) -> None:
    """200 screens with a target each: three quarters the local user's (the whole
    universe), a quarter of 10 people with 50-ticker watchlists."""
    rng = random.Random(19)
    database = scanner.database
    owners = [local_user_id(database)]
    with database.begin() as connection:
        from datetime import UTC, datetime

        from scanner_app.db.account_tables import USERS

        for number in range(10):
            user = connection.execute(
                insert(USERS).values(
                    username=f"bench-{number}",
                    password_hash="",
                    role="member",
                    disabled=False,
                    created_at=datetime.now(UTC),
                )
            ).inserted_primary_key[0]
            owners.append(user)
            rows = [{"user_id": user, "symbol": s} for s in rng.sample(symbols, WATCHLIST_SIZE)]
            connection.execute(insert(WATCHLIST_ENTRIES), rows)
    for number in range(SCREENS):
        owner = owners[0] if number % 4 else owners[1 + number % 10]
        name, query = check_screen(f"Screen {number}", _query(rng))
        scanner.screens.create(owner, name, query, targets=["json://hooks.example.com/x"])
    with database.begin() as connection:  # counted, never sent: no delivery here
        connection.execute(update(ALERT_TARGETS).values(paused=True))


def _scan(scanner, scan_id: str) -> float:
    started = time.perf_counter()
    assert scanner.store.acquire_lock(scan_id)
    scanner.engine().run(scan_id)
    return time.perf_counter() - started


def main() -> None:
    """Scan 5000 tickers, save 200 screens, and time their evaluation."""
    directory = Path(tempfile.mkdtemp(prefix="put-scanner-bench-screens-"))
    with redis_url() as url:
        app = bench_app(
            url,
            TICKERS,
            MARKET_PROVIDER=DemoProvider(latency_ms=0),
            SCAN_CONCURRENCY=8,
            HISTORY=False,
            ALERTS=True,
            DATABASE_URL=f"sqlite:///{directory / 'bench.db'}",
        )
        scanner = app.extensions["put_scanner"]
        scanner.after_scan = None  # the bench evaluates by hand
        try:
            scan_seconds = _scan(scanner, "bench-1")
            _save_screens(scanner, scanner.watchlist.symbols())
            alerts = scanner.alerts
            rows = sum(len(r) for _s, r in scanner.reader.stream_rows(row_hash("put")))
            started = time.perf_counter()
            _screens, matched = alerts.match()
            match_seconds = time.perf_counter() - started
            started = time.perf_counter()
            first = alerts.evaluate()
            first_seconds = time.perf_counter() - started
            _scan(scanner, "bench-2")
            started = time.perf_counter()
            second = alerts.evaluate()
            second_seconds = time.perf_counter() - started
        finally:
            clear_prefix(app)
    matches = sum(len(found.positions) for found in matched.values())
    print(f"{SCREENS} saved screens after a {TICKERS}-ticker scan ({scan_seconds:.1f} s, "
          f"{rows} put rows; {matches} matches in all):")  # fmt: skip
    print(
        f"  matching alone {match_seconds:.2f} s | first evaluation (all new, "
        f"{sum(p.contracts for p in first)} alerts recorded) {first_seconds:.2f} s "
        f"({first_seconds / BUDGET_SECONDS:.2f} of the 5 s budget) | after a second scan "
        f"({len(second)} messages) {second_seconds:.2f} s ({second_seconds / BUDGET_SECONDS:.2f})"
    )


if __name__ == "__main__":
    main()
