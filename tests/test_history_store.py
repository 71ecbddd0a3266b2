"""The history's queries on SQLite and PostgreSQL: upserts, windows, contracts, pruning,
and several writers at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, func, select

from scanner_app import create_app
from scanner_app.db import QUALIFIED_CONTRACTS, TICKER_DAYS, DayBatch, HistoryStore, StoredDay
from scanner_app.db import database_url as open_url
from scanner_app.valuation.volatility import iv_percentile, iv_rank, percentile_in, rank_in

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

    standings = history.iv_standings(["AAPL", "MSFT", "NONE"], DAY - timedelta(days=2), 5)

    assert set(standings) == {"AAPL"}  # MSFT's one day is after the window's end
    aapl = standings["AAPL"]
    assert aapl.latest == StoredDay("AAPL", DAY - timedelta(days=2), 200.0, 0.2 + 2 / 1000)
    assert (aapl.days, aapl.lowest, aapl.highest, aapl.below) == (
        5,
        0.2 + 2 / 1000,
        0.2 + 6 / 1000,
        0,
    )
    assert history.iv_standings(["MSFT"], None, 252)["MSFT"].days == 1


def test_the_databases_sums_give_the_rank_and_percentile_of_the_window(history):
    """The window summed up by the database ranks exactly as the window's values do, ties
    and older days past the window included."""
    values = [0.31, 0.25, 0.22, 0.40, 0.18, 0.25, 0.33, 0.29, 0.22, 0.25] * 3 + [0.9, 0.01]
    stored = [
        StoredDay("KO", DAY - timedelta(days=len(values) - 1 - n), 60.0, value, 0.2)
        for n, value in enumerate(values)
    ]
    history.save_days(stored)
    window = values[-25 - 2 : -2]  # up to two days ago: the 0.9 and 0.01 are after it

    standing = history.iv_standings(["KO"], DAY - timedelta(days=2), 25)["KO"]

    assert standing.days == 25 and standing.latest.day == DAY - timedelta(days=2)
    assert rank_in(standing.latest_iv30, standing.lowest, standing.highest, 25) == iv_rank(window)
    assert percentile_in(standing.below, 25) == iv_percentile(window)
    assert standing.below == sum(1 for value in window[:-1] if value < window[-1]) == 7


def test_a_batch_is_written_and_ranked_in_one_transaction(history):
    history.save_days([StoredDay("AAPL", DAY - timedelta(days=n), 200.0, 0.3) for n in (1, 2)])
    batch = DayBatch(
        DAY,
        days=[StoredDay("AAPL", DAY, 231.0, 0.4, 0.2)],
        backfill=[StoredDay("AAPL", DAY - timedelta(days=1), 199.0, 0.1)],
        contracts=[("AAPL261120P00205000", "AAPL", "put")],
    )

    firsts, standings = history.save_batch(batch, 252)

    assert firsts == {"AAPL261120P00205000"}
    assert standings["AAPL"].latest == StoredDay("AAPL", DAY, 231.0, 0.4, 0.2)
    assert (standings["AAPL"].days, standings["AAPL"].below) == (3, 2)
    assert history.days("AAPL")[1] == StoredDay("AAPL", DAY - timedelta(days=1), 200.0, 0.3)


def _backfilled(history, bars: list[StoredDay]) -> list[date]:
    """The days stored after a batch of today that backfills ``bars``."""
    history.save_batch(DayBatch(DAY, [StoredDay("AAPL", DAY, 230.0, 0.3)], bars), 252)
    return [day.day for day in history.days("AAPL")]


def test_a_first_backfill_fills_every_day_a_few_imported_ones_lack(history):
    imported = [StoredDay("AAPL", DAY - timedelta(days=n), 200.0, 0.25) for n in (3, 2)]
    history.save_days(imported)
    bars = [StoredDay("AAPL", DAY - timedelta(days=n), 199.0, 0.2) for n in range(10, 0, -1)]

    assert _backfilled(history, bars) == [DAY - timedelta(days=n) for n in range(10, -1, -1)]
    assert history.days("AAPL")[7] == imported[0]  # an imported day is never overwritten


def test_once_a_year_is_filled_a_backfill_sends_only_the_days_after_the_last(history):
    stored = [n for n in range(20, 2, -1) if n != 10]  # a day missing in between
    history.save_days([StoredDay("AAPL", DAY - timedelta(days=n), 200.0, 0.25) for n in stored])
    bars = [StoredDay("AAPL", DAY - timedelta(days=n), 199.0, 0.2) for n in range(19, 0, -1)]

    days = _backfilled(history, bars)

    assert days == [DAY - timedelta(days=n) for n in [*stored, 2, 1, 0]]
    assert {day.close for day in history.days("AAPL")[:-3]} == {200.0}


def _contracts(history) -> dict[str, tuple[date, date]]:
    table = QUALIFIED_CONTRACTS
    query = select(table.c.contract_symbol, table.c.first_date, table.c.last_date)
    with history.engine.connect() as connection:
        return {contract: (first, last) for contract, first, last in connection.execute(query)}


def test_a_contract_keeps_its_first_day_and_moves_its_last(history):
    first = history.save_contracts([("AAPL261120P00205000", "AAPL", "put")], DAY)
    later = history.save_contracts(
        [("AAPL261120P00205000", "AAPL", "put"), ("AAPL261120P00200000", "AAPL", "put")],
        DAY + timedelta(days=1),
    )
    history.save_contracts([("AAPL261120P00205000", "AAPL", "put")], DAY - timedelta(days=3))

    assert first == {"AAPL261120P00205000"}
    assert later == {"AAPL261120P00200000"}  # the other one first qualified the day before
    assert _contracts(history) == {
        "AAPL261120P00205000": (DAY, DAY + timedelta(days=1)),  # the last day never goes back
        "AAPL261120P00200000": (DAY + timedelta(days=1), DAY + timedelta(days=1)),
    }


def test_pruning_drops_what_is_older_than_the_retention(history):
    history.save_days([StoredDay("AAPL", DAY - timedelta(days=n), 1.0, 0.2) for n in range(5)])
    history.save_contracts([("OLD", "AAPL", "put")], DAY - timedelta(days=4))
    history.save_contracts([("NEW", "AAPL", "put")], DAY)

    assert history.prune(DAY - timedelta(days=2)) == 2

    assert [day.day for day in history.days("AAPL")] == [DAY - timedelta(days=n) for n in (2, 1, 0)]
    assert set(_contracts(history)) == {"NEW"}


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
