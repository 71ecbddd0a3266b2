"""The scan's memory, on SQLite and PostgreSQL: what a scan writes and under which day, the
figures its rows carry, and a database that fails."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime

import pytest

from scanner_app import create_app
from scanner_app.market.demo import DemoProvider

from .conftest import SynchronousExecutor
from .postgres_server import postgres_server, server_binaries

WEDNESDAY = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # 11:00 ET, in the session
THURSDAY = datetime(2026, 11, 19, 16, 0, tzinfo=UTC)
BEFORE_OPEN = datetime(2026, 11, 19, 13, 0, tzinfo=UTC)  # 8:00 ET
SATURDAY = datetime(2026, 11, 21, 16, 0, tzinfo=UTC)
FIGURES = ("iv30", "hv20", "iv_rank", "iv_percentile", "iv_history_days", "iv_as_of")


@pytest.fixture
def scan_at(app_config, small_watchlist, database_url):
    """Build an app whose clock and demo market stand at ``now`` and run a scan on it."""

    def scan(now: datetime, **overrides):
        app = create_app(
            {
                **app_config,
                "WATCHLIST_FILE": small_watchlist,
                "DATABASE_URL": database_url,
                "MARKET_PROVIDER": DemoProvider(latency_ms=0, today=lambda: now.date()),
                "SCAN_RUNNER": SynchronousExecutor(),
                "CLOCK": lambda: now,
                **overrides,
            }
        )
        client = app.test_client()
        assert client.post("/scan").status_code in (200, 202, 303)
        return client

    return scan


def _rows(client, symbol: str = "AAPL") -> list[dict]:
    return client.get(f"/api/options/{symbol}").get_json()["options"]


def _days(client, symbol: str = "AAPL") -> dict[str, dict]:
    return {day["date"]: day for day in client.get(f"/api/history/{symbol}").get_json()["days"]}


def test_a_scan_in_a_session_writes_its_day_and_ranks_against_the_demos_year(scan_at):
    client = scan_at(WEDNESDAY)

    rows = _rows(client)
    days = _days(client)
    today = days["2026-11-18"]
    assert today["close"] == rows[0]["spot"]
    assert today["iv30"] == pytest.approx(rows[0]["iv30"]) and 0.05 < today["iv30"] < 2
    assert today["hv20"] == pytest.approx(rows[0]["hv20"]) and today["hv20"] > 0
    assert len(days) > 240  # the synthetic year, filled in on first use
    assert all(row["iv_as_of"] == "2026-11-18" for row in rows)
    assert all(row["new"] is True for row in rows)
    assert rows[0]["iv_history_days"] == 252
    assert 0 <= rows[0]["iv_rank"] <= 100 and 0 <= rows[0]["iv_percentile"] <= 100
    for row in rows:
        move = row["spot"] * row["iv30"] * (row["dte"] / 365) ** 0.5
        assert row["expected_move"] == pytest.approx(move)
        assert row["strike_in_expected_moves"] == pytest.approx(
            (row["spot"] - row["strike"]) / move
        )
    body = client.get("/api/history/AAPL").get_json()
    assert body["as_of"] == "2026-11-18" and body["iv_rank"] == pytest.approx(rows[0]["iv_rank"])
    facts = client.get("/api/scan").get_json()["last_run_facts"]
    assert facts["history_saved"] is True and facts["history_error"] is None


def test_the_next_day_a_contract_seen_yesterday_is_not_new(scan_at):
    scan_at(WEDNESDAY)
    client = scan_at(THURSDAY)

    rows = _rows(client)
    new = {row["contract_symbol"] for row in rows if row["new"]}
    yesterday = {row["contract_symbol"] for row in _rows(scan_at(WEDNESDAY))}
    assert new and not new & yesterday
    assert {"2026-11-18", "2026-11-19"} <= set(_days(client))


def test_a_second_scan_the_same_day_replaces_the_day(scan_at):
    first = _days(scan_at(WEDNESDAY))
    client = scan_at(WEDNESDAY)
    assert _days(client) == first
    assert all(row["new"] is True for row in _rows(client))


@pytest.mark.parametrize("now", [SATURDAY, BEFORE_OPEN], ids=["saturday", "before-open"])
def test_without_a_session_a_scan_writes_no_day_and_shows_the_latest(scan_at, now):
    stored = _days(scan_at(WEDNESDAY))
    client = scan_at(now)

    assert _days(client) == stored  # nothing new, nothing changed
    rows = _rows(client)
    assert rows, "the demo market still has puts"
    latest = stored["2026-11-18"]
    for row in rows:
        assert row["iv_as_of"] == "2026-11-18"
        assert row["iv30"] == latest["iv30"] and row["hv20"] == latest["hv20"]
        assert row["new"] is False
    assert client.get("/api/scan").get_json()["last_run_facts"]["history_saved"] is None


def test_a_first_scan_without_a_session_stores_the_year_but_no_day_of_its_own(scan_at):
    client = scan_at(SATURDAY)

    days = _days(client)
    assert len(days) >= 20 and max(days) == "2026-11-20", "the year, up to Friday's close"
    assert "2026-11-21" not in days
    rows = _rows(client)
    assert rows and all(row["iv_rank"] is not None for row in rows)
    assert {row["iv_as_of"] for row in rows} == {"2026-11-20"}
    assert client.get("/api/scan").get_json()["last_run_facts"]["history_saved"] is None


def test_the_history_outlives_redis(scan_at, redis_client, key_prefix, app_config, database_url):
    stored = _days(scan_at(WEDNESDAY))
    redis_client.delete(*redis_client.scan_iter(match=f"{key_prefix}*"))

    app = create_app({**app_config, "DATABASE_URL": database_url})  # a restart
    assert _days(app.test_client()) == stored


def test_a_database_that_is_down_never_fails_a_scan(
    scan_at, app_config, small_watchlist, database_url
):
    # the app ran once with the database up: the universe's copy is in Redis
    create_app({**app_config, "WATCHLIST_FILE": small_watchlist, "DATABASE_URL": database_url})
    client = scan_at(WEDNESDAY, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")

    status = client.get("/api/scan").get_json()
    assert status["last_run_facts"]["outcome"] == "completed"
    assert status["last_run_facts"]["history_saved"] is False
    assert "database did not answer" in status["last_run_facts"]["history_error"]
    assert "history not saved: the database did not answer" in status["last_run"]
    rows = _rows(client)
    assert rows and rows[0]["iv30"] is not None  # measured all the same
    assert rows[0]["iv_rank"] is None and rows[0]["new"] is None
    assert client.get("/healthz").get_json()["database"] == "down"


def test_history_off_writes_nothing_and_adds_no_field(scan_at):
    client = scan_at(WEDNESDAY, HISTORY=False)

    assert client.get("/api/history/AAPL").status_code == 404
    row = _rows(client)[0]
    assert not set(FIGURES) & set(row) and "new" not in row
    header = client.get("/options.csv").text.splitlines()[0]
    assert "iv30" not in header and "iv_rank" not in client.get("/").text


def test_history_of_an_unknown_symbol_is_404(scan_at):
    client = scan_at(WEDNESDAY)
    assert client.get("/api/history/ZZZZ").status_code == 404
    assert client.get("/api/history/not a symbol").status_code == 404


class StoppingMarket(DemoProvider):
    """The demo market that stops a PostgreSQL server as it opens its ``stop_at`` ticker."""

    def __init__(self, server, stop_at: str, **options) -> None:
        super().__init__(**options)
        self.server = server
        self.stop_at = stop_at

    def open(self, ticker, *, calls=False):
        if ticker == self.stop_at and self.server is not None:
            self.server.stop()
            self.server = None
        return super().open(ticker, calls=calls)


def test_postgresql_stopped_mid_scan_the_scan_completes_and_the_next_saves(scan_at):
    if server_binaries() is None or os.geteuid() == 0 and shutil.which("runuser") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL's initdb and pg_ctl are required under CI=true")
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed")
    with postgres_server() as server:
        market = StoppingMarket(server, "TSLA", latency_ms=0, today=lambda: WEDNESDAY.date())
        client = scan_at(
            WEDNESDAY, DATABASE_URL=server.url, MARKET_PROVIDER=market, SCAN_CONCURRENCY=1
        )

        status = client.get("/api/scan").get_json()
        facts = status["last_run_facts"]
        assert facts["outcome"] == "completed" and facts["failed"] == 0
        assert facts["history_saved"] is False and "history not saved" in status["last_run"]
        assert _rows(client, "TSLA"), "the ticker after the stop is published all the same"

        server.start()
        client = scan_at(WEDNESDAY, DATABASE_URL=server.url)
        facts = client.get("/api/scan").get_json()["last_run_facts"]
        assert facts["history_saved"] is True
        assert "2026-11-18" in _days(client, "TSLA")
        assert "2026-11-18" in _days(client, "AAPL")  # written before the stop
