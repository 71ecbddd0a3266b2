"""The history's queries on SQLite and PostgreSQL: upserts, windows, contracts, pruning,
and several writers at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, func, select

from scanner_app import create_app
from scanner_app.db import TICKER_DAYS, HistoryStore, StoredDay
from scanner_app.db import database_url as open_url

DAY = date(2026, 11, 18)


@pytest.fixture
def history(app_config, database_url) -> HistoryStore:
    """The history of an empty, migrated database (created through the app)."""
    app = create_app({**app_config, "DATABASE_URL": database_url})
    return app.extensions["put_scanner"].history


def test_the_days_last_write_wins_and_a_missing_figure_never_erases_one(history):
    history.save_days([StoredDay("AAPL", DAY, 230.0, 0.30, 0.20)])
    history.save_days([StoredDay("AAPL", DAY, 231.5, 0.32, None)])
    assert history.days("AAPL") == [StoredDay("AAPL", DAY, 231.5, 0.32, 0.20)]


def test_a_backfill_only_fills_what_a_day_lacks(history):
    history.save_days([StoredDay("AAPL", DAY, None, 0.30, None)])
    history.save_days(
        [StoredDay("AAPL", DAY, 229.0, 0.99), StoredDay("AAPL", DAY - timedelta(days=1), 228.0)],
        keep_stored=True,
    )
    assert history.days("AAPL") == [
        StoredDay("AAPL", DAY - timedelta(days=1), 228.0, None, None),
        StoredDay("AAPL", DAY, 229.0, 0.30, None),
    ]


def test_values_come_back_exactly(history):
    iv = 0.123456789012345
    history.save_days([StoredDay("KO", DAY, 62.123456789, iv, 0.1)])
    assert history.days("KO")[0].iv30 == iv and history.days("KO")[0].close == 62.123456789


def test_the_iv_window_is_the_last_days_with_an_iv30_up_to_a_day(history):
    days = [StoredDay("AAPL", DAY - timedelta(days=n), 200.0, 0.2 + n / 1000) for n in range(10)]
    days.append(StoredDay("AAPL", DAY - timedelta(days=20), 200.0, None))
    days.append(StoredDay("MSFT", DAY, 400.0, 0.25))
    history.save_days(days)

    windows = history.iv_windows(["AAPL", "MSFT", "NONE"], DAY - timedelta(days=2), 5)

    assert [day.day for day in windows["AAPL"]] == [DAY - timedelta(days=n) for n in range(2, 7)]
    assert windows["MSFT"] == [] and windows["NONE"] == []
    assert len(history.iv_windows(["MSFT"], None, 252)["MSFT"]) == 1


def test_a_contract_keeps_its_first_day_and_moves_its_last(history):
    first = history.save_contracts([("AAPL261120P00205000", "AAPL", "put")], DAY)
    later = history.save_contracts(
        [("AAPL261120P00205000", "AAPL", "put"), ("AAPL261120P00200000", "AAPL", "put")],
        DAY + timedelta(days=1),
    )
    assert first == {"AAPL261120P00205000": DAY}
    assert later == {
        "AAPL261120P00205000": DAY,
        "AAPL261120P00200000": DAY + timedelta(days=1),
    }


def test_pruning_drops_what_is_older_than_the_retention(history):
    history.save_days([StoredDay("AAPL", DAY - timedelta(days=n), 1.0, 0.2) for n in range(5)])
    history.save_contracts([("OLD", "AAPL", "put")], DAY - timedelta(days=4))
    history.save_contracts([("NEW", "AAPL", "put")], DAY)

    assert history.prune(DAY - timedelta(days=2)) == 2

    assert [day.day for day in history.days("AAPL")] == [DAY - timedelta(days=n) for n in (2, 1, 0)]
    assert history.save_contracts([("OLD", "AAPL", "put")], DAY) == {"OLD": DAY}  # was gone


def test_writers_at_once_neither_lose_nor_duplicate_a_day(history, database_url):
    """Eight writers upsert the same 50 days of 4 tickers at once, each with its own
    figures: every day is there once, with one writer's figures whole."""

    def write(writer: int) -> None:
        HistoryStore(history.engine).save_days(
            [
                StoredDay(symbol, DAY - timedelta(days=n), 100.0 + writer, 0.2 + writer / 100)
                for symbol in ("A", "B", "C", "D")
                for n in range(50)
            ]
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(8)))

    engine = create_engine(open_url(database_url, "/"))
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(TICKER_DAYS)).scalar()
    engine.dispose()
    assert count == 200
    for symbol in "ABCD":
        for day in history.days(symbol):
            writer = round(day.close - 100.0)
            assert day.iv30 == pytest.approx(0.2 + writer / 100)
