"""Several real RQ worker processes writing one scan's history at once, on SQLite and on
PostgreSQL: every ticker's days are there, each once, and so is every qualifying contract
(the writes are upserts, never read-then-write)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from rq.job import Job
from sqlalchemy import create_engine, func, select

from scanner_app.db import QUALIFIED_CONTRACTS, TICKER_DAYS
from scanner_app.db import database_url as open_url
from scanner_app.market.demo import demo_daily_bars

from .conftest import FROZEN_NOW
from .rq_workers import WorkerProcess, process_env, wait_until

HX = {"HX-Request": "true"}
TICKERS = [f"W{number:03d}" for number in range(24)]
WORKERS = 3


@pytest.fixture
def watchlist(watchlist_file) -> Path:
    return watchlist_file("".join(f'[[tickers]]\nsymbol = "{symbol}"\n' for symbol in TICKERS))


@pytest.fixture
def workers(tmp_path, redis_url, key_prefix, watchlist, database_url):
    """Three worker processes on the test's Redis and database, their clock and demo market
    stopped at the tests' Wednesday in session."""
    env = process_env(
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=key_prefix,
        WATCHLIST_FILE=str(watchlist),
        DATABASE_URL=database_url,
        DEMO_LATENCY_MS="20",
        SCAN_CONCURRENCY="2",
        FROZEN_NOW=FROZEN_NOW.isoformat(),
    )
    started = [
        WorkerProcess(env, tmp_path / f"worker-{number}.log", app="tests.frozen_wsgi")
        for number in range(WORKERS)
    ]
    yield started
    for worker in started:
        worker.stop()


def _scan(client) -> str:
    """Click Scan and wait until the workers have finished it, saving its history; its id."""
    assert client.post("/scan", headers=HX).status_code == 200
    scan_id = client.get("/api/scan").get_json()["scan_id"]

    def ended():
        facts = client.get("/api/scan").get_json()["last_run_facts"]
        return facts if facts and facts["scan_id"] == scan_id else None

    facts = wait_until(ended, 120, "the scan to end")
    assert facts["outcome"] == "completed" and facts["failed"] == 0, facts
    assert facts["history_saved"] is True, facts
    return scan_id


def test_workers_writing_at_once_lose_and_duplicate_no_day(
    make_app, watchlist, database_url, workers, redis_client
):
    app = make_app(
        SCAN_EXECUTOR="rq",
        SCAN_RUNNER=None,
        WATCHLIST_FILE=watchlist,
        SCAN_CONCURRENCY=2,
        DATABASE_URL=database_url,
    )
    with app.app_context():
        executor = app.extensions["put_scanner"].executor
        wait_until(lambda: executor.workers() >= WORKERS, 60, "the workers")
    client = app.test_client()

    first = _scan(client)
    _scan(client)  # again the same day: every day and contract written once more

    batches = Job.fetch_many([f"scan-{first}-{n}" for n in range(24)], connection=redis_client)
    assert len({job.worker_name for job in batches if job is not None}) >= 2

    today = FROZEN_NOW.date()
    engine = create_engine(open_url(database_url, "/"))
    try:
        with engine.connect() as connection:
            stored = connection.execute(select(TICKER_DAYS.c.symbol, TICKER_DAYS.c.date)).all()
            contracts = connection.execute(
                select(QUALIFIED_CONTRACTS.c.contract_symbol, QUALIFIED_CONTRACTS.c.first_date)
            ).all()
            rows = connection.execute(select(func.count()).select_from(TICKER_DAYS)).scalar()
    finally:
        engine.dispose()
    assert rows == len(set(stored))  # no day twice
    for symbol in TICKERS:
        year = demo_daily_bars(symbol, today - timedelta(days=366), today - timedelta(days=1))
        expected = {bar.day for bar in year} | {today}
        assert {day for name, day in stored if name == symbol} == expected, symbol
    shown = client.get("/api/options").get_json()["options"]
    qualifying = {row["contract_symbol"] for rows in shown.values() for row in rows}
    assert qualifying and {contract for contract, _first in contracts} == qualifying
    assert {first for _contract, first in contracts} == {today}
    assert all(row["new"] is True for rows in shown.values() for row in rows)
