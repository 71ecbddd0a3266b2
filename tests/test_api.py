"""The JSON API, the CSV download and the health check, on a real Redis."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import fields
from datetime import datetime

import pytest
import redis

from scanner_app import create_app
from scanner_app.extensions import cache
from scanner_app.market.models import ScreenedPut
from scanner_app.scan import reads
from scanner_app.scan.store import Progress, TickerResult
from scanner_app.web.api.csv_rows import csv_safe
from scanner_app.web.columns import VOLATILITY

from .scan_results import publish_scan, sample_row

HISTORY_FIELDS = [column.name for column in VOLATILITY]
SCREENED_PUT_FIELDS = [field.name for field in fields(ScreenedPut)] + HISTORY_FIELDS
CSV_HEADER = [*SCREENED_PUT_FIELDS[: -len(HISTORY_FIELDS)], "stale", *HISTORY_FIELDS]
DOWN_REDIS_URL = "redis://127.0.0.1:1/0"
SMALL_WATCHLIST = ("AAPL", "TSLA", "KO")


@pytest.fixture
def app(app_config, small_watchlist, redis_client):
    """The app on the three-ticker watchlist (AAPL has a fair value of 150)."""
    return create_app({**app_config, "WATCHLIST_FILE": small_watchlist})


@pytest.fixture
def scanned(client):
    """The client after one whole scan, run inline by POST /scan."""
    response = client.post("/scan")
    assert response.status_code < 400, response.get_data(as_text=True)
    return client


@pytest.fixture
def down_client(app_config, small_watchlist):
    """A client of an app whose Redis does not answer."""
    config = {**app_config, "WATCHLIST_FILE": small_watchlist, "REDIS_URL": DOWN_REDIS_URL}
    return create_app(config).test_client()


def store_of(app):
    return app.extensions["put_scanner"].store


def publish_rows(app, rows_by_ticker: dict[str, list[dict]]) -> None:
    """Publish ``rows_by_ticker`` as a finished scan would, under a lock of its own."""
    publish_scan(store_of(app), rows_by_ticker)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def all_rows(options: dict[str, list[dict]]) -> list[dict]:
    return [row for rows in options.values() for row in rows]


# -- /api/scan -----------------------------------------------------------------------------


def test_scan_status_before_any_scan_is_idle_with_nothing_to_report(client):
    body = client.get("/api/scan").get_json()

    assert body["state"] == "idle"
    assert body["scan_id"] is None and body["progress"] is None
    assert body["started_at"] is None and body["finished_at"] is None
    assert body["last_run"] == "Never" and body["last_run_facts"] is None
    assert body["version"] == 0
    assert body["cache_available"] is True


def test_scan_status_after_a_finished_scan_reports_every_ticker_done(scanned):
    body = scanned.get("/api/scan").get_json()

    assert body["state"] == "idle"
    assert isinstance(body["scan_id"], str) and body["scan_id"]
    total = len(SMALL_WATCHLIST)
    assert body["progress"]["done"] == total and body["progress"]["total"] == total
    assert body["progress"]["percent"] == 100
    assert body["progress"]["current"] is None
    started = datetime.fromisoformat(body["started_at"])
    finished = datetime.fromisoformat(body["finished_at"])
    assert started.tzinfo is not None and finished >= started
    assert body["version"] > 0
    assert body["last_run"].startswith("Scan completed successfully at ")
    puts = len(all_rows(scanned.get("/api/options").get_json()["options"]))
    assert body["last_run_facts"] == {
        "scan_id": body["scan_id"],
        "outcome": "completed",
        "finished_at": body["finished_at"],
        "tickers": total,
        "puts": puts,
        "failed": 0,
        "reason": None,
        "credits": None,
        "done": total,
        "history_saved": True,
        "history_error": None,
    }
    assert body["outcome"] == "completed"


def test_scan_status_while_a_scan_runs_shows_its_progress(app, client):
    store = store_of(app)
    started = "2026-11-18T16:00:00+00:00"
    assert store.acquire_lock("scan-1")
    store.begin(Progress(scan_id="scan-1", total=5, started_at=started))
    store.publish(
        "scan-1",
        [
            TickerResult("AAPL", started, [sample_row()]),
            TickerResult("KO", started, [], error="Timed out"),
        ],
        "TSLA",
    )

    body = client.get("/api/scan").get_json()

    assert body["state"] == "running"
    assert body["scan_id"] == "scan-1"
    assert body["progress"] == {
        "done": 2,
        "total": 5,
        "percent": 40,
        "current": "TSLA",
        "failed": 1,
    }
    assert body["started_at"] == started and body["finished_at"] is None
    assert body["last_run_facts"] is None


def test_scan_status_hides_the_previous_scans_progress_while_a_new_one_starts(app, client):
    store = store_of(app)
    assert store.acquire_lock("old")
    store.begin(Progress(scan_id="old", total=3, started_at="2026-11-18T15:00:00+00:00"))
    assert store.release_lock("old")
    assert store.acquire_lock("new")

    body = client.get("/api/scan").get_json()

    assert body["state"] == "running" and body["scan_id"] == "new"
    assert body["progress"] is None and body["started_at"] is None


# -- /api/options --------------------------------------------------------------------------


def test_options_after_a_scan_lists_complete_rows_for_watched_tickers(app, scanned):
    response = scanned.get("/api/options")
    assert response.is_streamed and response.mimetype == "application/json"
    body = response.get_json()

    rows = all_rows(body["options"])
    assert rows, "the demo market should offer qualifying puts"
    assert set(body["options"]) <= set(SMALL_WATCHLIST)
    assert all(set(row) == set(SCREENED_PUT_FIELDS) for row in rows)
    assert all(row["ticker"] == ticker for ticker, ts in body["options"].items() for row in ts)
    assert set(body["scan_times"]) == set(SMALL_WATCHLIST)
    assert body["errors"] == {} and body["messages"] == []
    assert body["last_run"] != "Never" and body["cache_available"] is True
    assert body["filters"]["min_annualized"] is None
    # every row of every ticker, as the contract key assembled at the end of the scan
    with app.app_context():
        assert body["options"] == cache.get("ticker_options")
        assert body["scan_times"] == cache.get("ticker_scan_times")


def test_options_honour_the_dashboard_filters(scanned):
    unfiltered = all_rows(scanned.get("/api/options").get_json()["options"])
    yields = sorted(row["annualized"] for row in unfiltered)
    threshold = yields[len(yields) // 2]

    body = scanned.get(f"/api/options?min_annualized={threshold}").get_json()

    kept = all_rows(body["options"])
    assert kept and len(kept) < len(unfiltered)
    assert all(row["annualized"] >= threshold for row in kept)
    assert len(kept) == sum(1 for value in yields if value >= threshold)
    assert body["filters"]["min_annualized"] == threshold


def test_options_honour_the_liquidity_and_dte_filters(scanned):
    unfiltered = all_rows(scanned.get("/api/options").get_json()["options"])
    query = "min_volume=20&min_vol_oi=0.1&max_spread=15&min_dte=3&max_dte=20"

    body = scanned.get(f"/api/options?{query}").get_json()

    kept = all_rows(body["options"])
    expected = [
        row
        for row in unfiltered
        if (row["volume"] or 0) >= 20
        and row["open_interest"]
        and (row["volume"] or 0) / row["open_interest"] >= 0.1
        and row["spread_pct"] is not None
        and row["spread_pct"] <= 15
        and 3 <= row["dte"] <= 20
    ]
    assert 0 < len(kept) < len(unfiltered)
    assert sorted(row["contract_symbol"] for row in kept) == sorted(
        row["contract_symbol"] for row in expected
    )
    assert body["filters"]["min_vol_oi"] == 0.1 and body["messages"] == []


def test_options_report_a_bad_filter_and_ignore_it(scanned):
    unfiltered = scanned.get("/api/options").get_json()["options"]

    body = scanned.get("/api/options?min_delta=lots").get_json()

    assert body["options"] == unfiltered
    assert any("Min delta must be" in message for message in body["messages"])
    assert body["filters"]["min_delta"] is None


def test_options_report_each_failed_tickers_error(app, client):
    publish_rows(app, {"AAPL": [sample_row()]})
    publish_scan(store_of(app), {}, {"KO": "KO: timed out"}, scan_id="second")

    body = client.get("/api/options").get_json()

    assert body["options"] == {"AAPL": [sample_row()]}
    assert body["errors"] == {"KO": "KO: timed out"}


def test_options_cut_short_by_redis_are_never_valid_json(app, client, monkeypatch):
    publish_rows(app, {"AAPL": [sample_row()], "KO": [sample_row(ticker="KO")]})
    client_of_reader = app.extensions["put_scanner"].reader.client
    real_hmget, calls = client_of_reader.hmget, []

    def failing_later(*args, **kwargs):
        calls.append(args)
        if len(calls) > 1:
            raise redis.ConnectionError("connection reset")
        return real_hmget(*args, **kwargs)

    monkeypatch.setattr(reads, "STREAM_BATCH", 1)
    monkeypatch.setattr(client_of_reader, "hmget", failing_later)
    response = client.get("/api/options")

    assert response.status_code == 200  # the headers went out before Redis failed
    text = response.get_data(as_text=True)
    assert text.startswith('{"options":{"AAPL":')
    with pytest.raises(ValueError):
        json.loads(text)


def test_options_with_a_key_of_the_wrong_type_are_unavailable_not_cut_short(
    app, client, redis_client, key_prefix
):
    publish_rows(app, {"AAPL": [sample_row()]})
    redis_client.delete(f"{key_prefix}puts")
    redis_client.set(f"{key_prefix}puts", "not a hash")

    body = client.get("/api/options").get_json()

    assert body["cache_available"] is False and body["options"] == {}


# -- /api/options/<symbol> -----------------------------------------------------------------


def test_one_ticker_matches_the_full_results(scanned):
    everything = scanned.get("/api/options").get_json()

    body = scanned.get("/api/options/AAPL").get_json()

    assert body["symbol"] == "AAPL"
    assert body["fair_value"] == 150
    assert body["options"] == everything["options"].get("AAPL", [])
    assert body["scanned_at"] == everything["scan_times"]["AAPL"]
    assert body["error"] is None


def test_one_ticker_accepts_any_case(scanned):
    body = scanned.get("/api/options/tsla").get_json()

    assert body["symbol"] == "TSLA" and body["fair_value"] == pytest.approx(128.72, abs=0.01)
    assert body["fair_value_estimate"]["method"] == "eps"  # no fair value in the watchlist


def test_one_ticker_before_any_scan_has_no_rows(client):
    body = client.get("/api/options/KO").get_json()

    assert body["options"] == [] and body["scanned_at"] is None


@pytest.mark.parametrize(
    ("path", "mentions"),
    [
        ("/api/options/NFLX", "NFLX"),
        ("/api/options/%3Cscript%3E", "valid"),
        ("/api/options/1A", "valid"),
    ],
)
def test_one_ticker_that_is_not_watched_is_a_json_404(client, path, mentions):
    response = client.get(path)

    assert response.status_code == 404
    assert response.is_json and mentions in response.get_json()["error"]


# -- API errors ----------------------------------------------------------------------------


def test_an_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.is_json and response.get_json()["error"]


def test_a_wrong_method_on_the_api_is_a_json_405_naming_the_allowed_ones(client):
    response = client.delete("/api/scan")

    assert response.status_code == 405
    assert response.is_json and response.get_json()["error"]
    assert "GET" in response.headers["Allow"]


def test_a_failure_inside_an_api_view_is_a_json_500(app, client, monkeypatch):
    def broken_read():
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(store_of(app), "read_status", broken_read)

    response = client.get("/api/scan")

    assert response.status_code == 500
    assert response.is_json and response.get_json()["error"]
    assert "boom" not in response.get_data(as_text=True)


# -- /options.csv --------------------------------------------------------------------------


def test_csv_download_has_its_type_name_and_every_field(scanned):
    response = scanned.get("/options.csv")

    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=puts-2026-11-18.csv"
    header, *rows = csv_rows(response)
    assert header == CSV_HEADER
    expected = all_rows(scanned.get("/api/options").get_json()["options"])
    assert len(rows) == len(expected)
    by_contract = {row["contract_symbol"]: row for row in expected}
    for cells in rows:
        record = dict(zip(header, cells, strict=True))
        original = by_contract[record["contract_symbol"]]
        # as the page shows them: prices to 2 decimals, greeks to 4, IV in percent
        assert record["strike"] == f"{original['strike']:.2f}"
        assert record["delta"] == f"{original['delta']:.4f}"
        assert record["iv"] == f"{original['iv'] * 100:.2f}"
        assert int(record["dte"]) == original["dte"]
        assert record["earnings_before_expiry"] in ("true", "false")


def test_csv_honours_the_filters_like_the_api(scanned):
    yields = sorted(
        row["annualized"] for row in all_rows(scanned.get("/api/options").get_json()["options"])
    )
    query = f"min_annualized={yields[len(yields) // 2]}"

    api_rows = all_rows(scanned.get(f"/api/options?{query}").get_json()["options"])
    header, *rows = csv_rows(scanned.get(f"/options.csv?{query}"))

    assert len(rows) == len(api_rows) < len(yields)
    assert sorted(row[header.index("contract_symbol")] for row in rows) == sorted(
        row["contract_symbol"] for row in api_rows
    )


def test_csv_honours_the_liquidity_filters(scanned):
    query = "min_volume=20&max_spread=15"
    api_rows = all_rows(scanned.get(f"/api/options?{query}").get_json()["options"])
    header, *rows = csv_rows(scanned.get(f"/options.csv?{query}"))

    assert rows and len(rows) == len(api_rows)
    assert all(int(row[header.index("volume")]) >= 20 for row in rows)
    assert all(float(row[header.index("spread_pct")]) <= 15 for row in rows)


def test_csv_before_any_scan_is_just_the_header(client):
    assert csv_rows(client.get("/options.csv")) == [CSV_HEADER]


def test_csv_defuses_formulas_and_keeps_numbers(app, client):
    publish_rows(
        app,
        {
            "AAPL": [
                sample_row(
                    contract_symbol='=HYPERLINK("http://evil.example","x")',
                    expiration="@SUM(A1:A9)",
                    ticker="+cmd|' /C calc'!A0",
                    delta=-0.25,
                ),
                sample_row(contract_symbol="-2+3", expiration="2026-12-18", delta=-0.1),
            ]
        },
    )

    header, *rows = csv_rows(client.get("/options.csv"))

    cells = [dict(zip(header, row, strict=True)) for row in rows]
    by_delta = {cell["delta"]: cell for cell in cells}
    assert set(by_delta) == {"-0.2500", "-0.1000"}
    attack = by_delta["-0.2500"]
    assert attack["contract_symbol"] == '\'=HYPERLINK("http://evil.example","x")'
    assert attack["expiration"] == "'@SUM(A1:A9)"
    assert attack["ticker"] == "'+cmd|' /C calc'!A0"
    assert by_delta["-0.1000"]["contract_symbol"] == "'-2+3"
    assert attack["strike"] == "150.00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-A1", "'-A1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-1.5", "-1.5"),
        ("+2", "+2"),
        ("AAPL", "AAPL"),
        ("", ""),
        (-0.25, -0.25),
        (None, None),
    ],
)
def test_csv_safe_prefixes_only_formula_text(value, expected):
    assert csv_safe(value) == expected


# -- Redis down ------------------------------------------------------------------------------


def test_the_api_still_answers_when_redis_is_down(down_client):
    # each body is read before the next request: a streamed response holds its context
    status = down_client.get("/api/scan")  # never a made-up "idle": the reason instead
    assert status.status_code == 503
    assert status.get_json() == {"error": "Redis is unreachable", "cache_available": False}

    options = down_client.get("/api/options")
    assert options.status_code == 200 and options.get_json()["options"] == {}
    assert options.get_json()["cache_available"] is False

    ticker = down_client.get("/api/options/AAPL")
    assert ticker.status_code == 200 and ticker.get_json()["cache_available"] is False

    download = down_client.get("/options.csv")
    assert csv_rows(download) == [CSV_HEADER]


def test_a_drilldowns_csv_has_its_tickers_puts_and_its_name(scanned):
    response = scanned.get("/options.csv?symbol=aapl&min_annualized=0")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=puts-AAPL-2026-11-18.csv"
    )
    header, *rows = csv_rows(response)
    expected = scanned.get("/api/options/AAPL").get_json()["options"]
    assert len(rows) == len(expected) > 0
    assert {row[header.index("ticker")] for row in rows} == {"AAPL"}


def test_a_csv_for_a_ticker_outside_the_watchlist_is_a_404(scanned):
    response = scanned.get("/options.csv?symbol=ZZZZ")
    assert response.status_code == 404 and "not in the watchlist" in response.text
