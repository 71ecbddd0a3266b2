"""Whole scans on real Redis over the offline markets: a ticker whose answer goes bad keeps
its earlier rows, marked stale; a partial ticker lists its failed expirations; the credits a
scan cost reach the last-run facts, even from several engines; earnings rows can be left
out of every view."""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tenacity import wait_none

from scanner_app import create_app
from scanner_app.market.calendar import NY
from scanner_app.market.marketdata import MarketDataProvider
from scanner_app.market.yahoo import YahooProvider
from scanner_app.valuation.volatility import hv20
from tests.marketdata_transport import FakeMarketData, ok
from tests.marketdata_transport import fixture as marketdata_fixture
from tests.yahoo_transport import (  # noqa: F401 - isolated_yfinance is autouse
    FakeYahoo,
    fixture_payload,
    isolated_yfinance,
)

from .conftest import FROZEN_NOW

FIRST_SCAN = FROZEN_NOW.isoformat(timespec="seconds")


class Clock:
    """A clock the test moves on."""

    def __init__(self) -> None:
        self.now = FROZEN_NOW

    def __call__(self):
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_scanning_app(app_config, redis_client, tmp_path: Path, clock: Clock):
    """Apps on one Redis prefix, each on its own market, keeping every OTM put with a bid."""

    def make(provider, symbols=("AAPL",), **overrides):
        watchlist = tmp_path / "watchlist.toml"
        watchlist.write_text("".join(f'[[tickers]]\nsymbol = "{s}"\n' for s in symbols))
        config = {
            **app_config,
            "WATCHLIST_FILE": watchlist,
            "MARKET_PROVIDER": provider,
            "CLOCK": clock,
            "MIN_ANNUALIZED": 0.0,
            "MIN_DELTA": -1.0,
            **overrides,
        }
        return create_app(config)

    return make


def yahoo(fake: FakeYahoo) -> YahooProvider:
    today = FROZEN_NOW.date()
    return YahooProvider(session=fake, today=lambda: today, wait=wait_none(), retries=1)


def marketdata(fake: FakeMarketData) -> MarketDataProvider:
    today = FROZEN_NOW.date()
    return MarketDataProvider(
        token="t",
        transport=httpx.MockTransport(fake),
        today=lambda: today,
        wait=wait_none(),
    )


def scan(app, scan_id: str):
    scanner = app.extensions["put_scanner"]
    assert scanner.store.acquire_lock(scan_id)
    return scanner.engine().run(scan_id)


def not_live(key: str) -> dict:
    """The fixture answer ``key`` as Yahoo sends it outside regular hours: zero bids."""
    payload = fixture_payload(key)
    for put in payload["optionChain"]["result"][0]["options"][0]["puts"]:
        put["bid"] = 0.0
    return payload


def csv_records(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


# -- stale ---------------------------------------------------------------------------------


def test_a_ticker_whose_answer_goes_bad_keeps_its_earlier_rows_marked_stale(
    make_scanning_app, clock
):
    live = make_scanning_app(yahoo(FakeYahoo()))
    scan(live, "live")
    client = live.test_client()
    earlier = client.get("/api/options/AAPL").get_json()
    assert earlier["options"] and earlier["stale"] is False and earlier["error"] is None

    closed = FakeYahoo()
    closed.payloads["AAPL"] = not_live("AAPL")
    closed.payloads["AAPL_2026-11-27"] = not_live("AAPL_2026-11-27")
    clock.now += timedelta(minutes=15)
    scan(make_scanning_app(yahoo(closed)), "closed")

    now = client.get("/api/options/AAPL").get_json()
    assert now["options"] == earlier["options"]
    assert now["stale"] is True and now["scanned_at"] == FIRST_SCAN
    assert "not live" in now["error"]
    everything = client.get("/api/options").get_json()
    assert everything["options"] == {"AAPL": earlier["options"]}
    assert everything["stale"] == {"AAPL": FIRST_SCAN}
    assert {record["stale"] for record in csv_records(client.get("/options.csv"))} == {"true"}
    assert 'class="badge badge-stale"' in client.get("/").get_data(as_text=True)
    page = client.get("/ticker/AAPL").get_data(as_text=True)
    assert "The puts below are from the scan of Wed Nov 18, 2026 11:00 AM EST." in page


def test_a_ticker_fetched_again_is_no_longer_stale(make_scanning_app, clock):
    broken = FakeYahoo()
    scan(make_scanning_app(yahoo(broken)), "first")
    broken.fail_next(401, times=None)
    scan(make_scanning_app(yahoo(broken)), "refused")
    app = make_scanning_app(yahoo(FakeYahoo()))
    assert app.test_client().get("/api/options/AAPL").get_json()["stale"] is True

    clock.now += timedelta(minutes=30)
    scan(app, "again")

    body = app.test_client().get("/api/options/AAPL").get_json()
    assert body["stale"] is False and body["error"] is None
    assert body["scanned_at"] == clock.now.isoformat(timespec="seconds")


# -- partial -------------------------------------------------------------------------------


def test_a_partial_ticker_lists_its_failed_expirations_everywhere(make_scanning_app):
    refusing = FakeYahoo()
    refusing.fail_key("AAPL_2026-11-27", 401)
    app = make_scanning_app(yahoo(refusing))

    scan(app, "partial")

    client = app.test_client()
    body = client.get("/api/options/AAPL").get_json()
    assert body["partial_expirations"] == ["2026-11-27"] and body["error"] is None
    assert {row["expiration"] for row in body["options"]} == {"2026-11-20"}
    assert client.get("/api/options").get_json()["partial_expirations"] == {"AAPL": ["2026-11-27"]}
    dashboard = client.get("/").get_data(as_text=True)
    assert 'class="badge badge-partial" title="Expirations that failed: 2026-11-27"' in dashboard
    assert "could not fetch Fri Nov 27, 2026" in client.get("/ticker/AAPL").get_data(as_text=True)

    scan(make_scanning_app(yahoo(FakeYahoo())), "whole")

    assert client.get("/api/options/AAPL").get_json()["partial_expirations"] == []
    assert "badge-partial" not in client.get("/").get_data(as_text=True)


# -- credits -------------------------------------------------------------------------------


def test_the_credits_of_a_scan_split_across_engines_reach_the_last_run_facts(
    make_scanning_app, caplog
):
    """Two apps stand for two worker processes: the credits add up in Redis."""
    first, second = FakeMarketData(), FakeMarketData()
    first.answers.append(ok(credits=7))
    second.answers.append(ok(credits=3))
    symbols = ("AAPL", "KO")
    one = make_scanning_app(marketdata(first), symbols).extensions["put_scanner"].engine()
    other_app = make_scanning_app(marketdata(second), symbols)
    other = other_app.extensions["put_scanner"].engine()
    assert one.store.acquire_lock("split")

    one.begin("split")
    one.scan_batch("split", ["AAPL"])
    other.scan_batch("split", ["KO"])
    with caplog.at_level(logging.INFO, logger="scanner_app.scan.store"):
        other.finish("split")

    expected = (7 + 1) + (3 + 1)  # each ticker's chain and earnings date
    client = other_app.test_client()
    assert client.get("/api/scan").get_json()["last_run_facts"]["credits"] == expected
    assert f"; {expected} API credits used" in client.get("/").get_data(as_text=True)
    assert f"cost {expected} API credits" in caplog.text


def test_a_scan_on_a_market_that_bills_nothing_has_no_credits(make_scanning_app):
    app = make_scanning_app(yahoo(FakeYahoo()))
    scan(app, "free")

    client = app.test_client()
    assert client.get("/api/scan").get_json()["last_run_facts"]["credits"] is None
    assert "API credit" not in client.get("/").get_data(as_text=True)


# -- earnings ------------------------------------------------------------------------------


@pytest.fixture
def earnings_app(make_scanning_app):
    """AAPL scanned on the fake Yahoo: earnings on Nov 24, so its Nov 27 puts are marked."""
    app = make_scanning_app(yahoo(FakeYahoo()))
    scan(app, "earnings")
    return app


def test_rows_across_earnings_carry_the_date_and_a_badge(earnings_app):
    client = earnings_app.test_client()
    rows = client.get("/api/options/AAPL").get_json()["options"]

    assert {row["expiration"] for row in rows if row["earnings_before_expiry"]} == {"2026-11-27"}
    assert {row["earnings_date"] for row in rows} == {"2026-11-24"}
    page = client.get("/ticker/AAPL").get_data(as_text=True)
    marked = sum(1 for row in rows if row["earnings_before_expiry"])
    assert page.count('class="badge badge-earnings"') == marked > 0
    assert "earnings Tue Nov 24, 2026, before this expiration" in page


@pytest.mark.parametrize("path", ["/api/options", "/options.csv", "/", "/ticker/AAPL"])
def test_exclude_earnings_leaves_out_rows_across_earnings(earnings_app, path):
    client = earnings_app.test_client()
    every = client.get("/api/options").get_json()["options"]["AAPL"]
    safe = [row for row in every if not row["earnings_before_expiry"]]
    assert 0 < len(safe) < len(every)

    response = client.get(f"{path}?exclude_earnings=1")

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    if path == "/api/options":
        assert response.get_json()["options"] == {"AAPL": safe}
    elif path == "/options.csv":
        assert [record["expiration"] for record in csv_records(response)] == [
            row["expiration"] for row in safe
        ]
    elif path == "/":
        assert f'{len(safe)}<span class="visually-hidden"> puts of AAPL</span>' in text
        assert 'name="exclude_earnings" type="checkbox" value="1" checked' in text
    else:
        assert "badge-earnings" not in text and "Fri Nov 27, 2026" not in text


@pytest.mark.parametrize("path", ["/api/options", "/options.csv", "/", "/ticker/AAPL"])
def test_a_bad_exclude_earnings_is_ignored_never_a_500(earnings_app, path):
    response = earnings_app.test_client().get(f"{path}?exclude_earnings=%00maybe")

    assert response.status_code == 200
    if path != "/options.csv":
        assert (
            "Exclude puts expiring on or after earnings must be 1 or 0; ignored."
            in response.get_data(as_text=True)
        )


def test_earnings_off_asks_for_no_earnings_date(make_scanning_app):
    fake = FakeYahoo()
    app = make_scanning_app(yahoo(fake), EARNINGS=False)
    scan(app, "off")

    rows = app.test_client().get("/api/options/AAPL").get_json()["options"]
    assert rows and all(row["earnings_date"] is None for row in rows)
    assert fake.calendar_requests == []


# -- history -------------------------------------------------------------------------------


@pytest.mark.parametrize("market", ["yahoo", "marketdata"])
def test_the_first_scan_backfills_a_year_of_closes_so_hv20_works_at_once(
    make_scanning_app, tmp_path, market
):
    """The provider's daily closes (Yahoo's chart, Market Data's daily candles), asked once,
    fill in the year before today, and HV20 is measured from them and today's spot."""
    if market == "yahoo":
        provider = yahoo(FakeYahoo())
        chart = fixture_payload("AAPL_chart")["chart"]["result"][0]
        stamps, closes = chart["timestamp"], chart["indicators"]["quote"][0]["close"]
    else:
        provider = marketdata(FakeMarketData())
        provider.fundamentals_from = None  # no Yahoo behind it for the fair value here
        candles = marketdata_fixture("AAPL_candles")
        stamps, closes = candles["t"], candles["c"]
    sent = {
        datetime.fromtimestamp(stamp, NY).date().isoformat(): close
        for stamp, close in zip(stamps, closes, strict=True)
        if close is not None
    }
    app = make_scanning_app(provider, DATABASE_URL=f"sqlite:///{tmp_path / 'history.db'}")

    scan(app, "first")

    client = app.test_client()
    days = {day["date"]: day for day in client.get("/api/history/AAPL").get_json()["days"]}
    today = FROZEN_NOW.date().isoformat()
    earlier = sorted(day for day in sent if "2025-11-18" <= day < today)
    assert {day: days[day]["close"] for day in earlier} == {day: sent[day] for day in earlier}
    row = client.get("/api/options/AAPL").get_json()["options"][0]
    assert days[today]["close"] == row["spot"]
    expected = hv20([sent[day] for day in earlier[-20:]] + [row["spot"]])
    assert row["hv20"] == pytest.approx(expected) and days[today]["hv20"] == row["hv20"]
