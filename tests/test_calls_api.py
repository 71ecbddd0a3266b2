"""Covered calls through the API and the CSV: ``side=call``, ``put`` the default, and a
clear 400 for any other side."""

from __future__ import annotations

import csv
import io
from dataclasses import fields

import pytest

from scanner_app.market.models import ScreenedCall
from scanner_app.web.columns import VOLATILITY

HELD = '[[tickers]]\nsymbol = "AAPL"\nshares = 300\n\n[[tickers]]\nsymbol = "KO"\n'


@pytest.fixture
def app(make_app, watchlist_file):
    """The app on a watchlist holding 300 AAPL shares."""
    return make_app(WATCHLIST_FILE=watchlist_file(HELD))


@pytest.fixture
def scanned(client):
    response = client.post("/scan")
    assert response.status_code < 400, response.get_data(as_text=True)
    return client


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_side_call_lists_the_covered_calls(scanned):
    body = scanned.get("/api/options?side=call").get_json()

    assert body["side"] == "call" and body["cache_available"]
    assert list(body["options"]) == ["AAPL"]
    rows = body["options"]["AAPL"]
    assert rows and all(row["contracts"] == 3 and row["strike"] > row["spot"] for row in rows)
    puts = scanned.get("/api/options").get_json()
    assert puts["side"] == "put"
    assert all("contracts" not in row for rows in puts["options"].values() for row in rows)


def test_side_call_honours_the_filters(scanned):
    rows = scanned.get("/api/options?side=call").get_json()["options"]["AAPL"]
    highest = max(row["annualized"] for row in rows)
    kept = scanned.get(f"/api/options?side=call&min_annualized={highest}").get_json()
    assert [row["annualized"] for row in kept["options"]["AAPL"]] == [highest]


def test_one_tickers_calls(scanned):
    body = scanned.get("/api/options/aapl?side=call").get_json()
    assert (body["symbol"], body["side"]) == ("AAPL", "call")
    assert body["options"] == scanned.get("/api/options?side=call").get_json()["options"]["AAPL"]
    assert scanned.get("/api/options/KO?side=CALL").get_json()["options"] == []
    assert scanned.get("/api/options/AAPL").get_json()["side"] == "put"


def test_the_calls_csv_has_the_call_columns(scanned):
    response = scanned.get("/options.csv?side=call")
    assert response.headers["Content-Disposition"] == "attachment; filename=calls-2026-11-18.csv"
    header, *rows = csv_rows(response)
    history = [column.name for column in VOLATILITY]
    assert header == [*(field.name for field in fields(ScreenedCall)), "stale", *history]
    api_rows = scanned.get("/api/options?side=call").get_json()["options"]["AAPL"]
    assert len(rows) == len(api_rows) > 0
    assert {row[header.index("contracts")] for row in rows} == {"3"}


@pytest.mark.parametrize(
    "url", ["/api/options?side=straddle", "/api/options/AAPL?side=puts", "/options.csv?side=x"]
)
def test_an_unknown_side_is_a_clear_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert response.is_json
    message = response.get_json()["error"]
    assert "Unknown side" in message and "side=call" in message


def test_a_long_unknown_side_is_cut_in_the_message(client):
    message = client.get("/api/options?side=" + "x" * 500).get_json()["error"]
    assert len(message) < 120
