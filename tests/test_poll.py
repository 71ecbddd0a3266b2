"""Changed polls carry only the shown page's changes, and leave the table as a fresh render.

Also the lines above the table, of the tickers no scan has reached yet and those without a
qualifying put: every changed poll brings them up to date.

A scan is replayed through the real store on the real Redis, a few tickers at a time;
after every publish the browser's table (modelled in ``table_model``) takes the poll's
swaps and must equal a fresh render of the same URL.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

import pytest

from scanner_app.scan.store import Progress, TickerResult

from .conftest import FROZEN_NOW
from .table_model import apply_poll, rows_of, shown_symbols

HX = {"HX-Request": "true"}
SYMBOLS = [f"T{chr(65 + index // 26)}{chr(65 + index % 26)}" for index in range(40)]
VIEWS = (
    "",
    "sort=annualized&dir=desc",
    "sort=spot&per_page=7&page=2",
    "sort=value",
    "min_annualized=60&sort=puts&dir=desc&per_page=10",
)


@pytest.fixture
def app_config(app_config, tmp_path):
    """Forty tickers, three of them with a fair value, so every sort has something to do."""
    path = tmp_path / "watchlist.toml"
    path.write_text(
        "".join(
            f'[[tickers]]\nsymbol = "{symbol}"\n'
            + (f"fair_value = {50 + index}\n" if index % 13 == 0 else "")
            + "\n"
            for index, symbol in enumerate(SYMBOLS)
        )
    )
    return {**app_config, "WATCHLIST_FILE": path}


@pytest.fixture
def scanned(app):
    """The app after one real demo scan; returns every ticker's result."""
    scanner = app.extensions["put_scanner"]
    assert scanner.store.acquire_lock("first")
    scanner.engine().run("first")
    results = []
    for symbol in SYMBOLS:
        view = scanner.reader.read_ticker(symbol)
        results.append(TickerResult(symbol, view.scanned_at, view.options))
    return results


def _notes(html: str) -> str:
    """The lines naming the tickers a scan has not reached and those without a put."""
    match = re.search(r'<div id="results-notes"[^>]*>(.*?)</div>', html, re.S)
    assert match is not None, "no results-notes in the answer"
    return re.sub(r"\s+", " ", match.group(1)).strip()


def _version(html: str) -> int:
    return int(re.search(r'data-version="(\d+)"', html).group(1))


def _poll(client, view: str, version: int, rows) -> tuple[str, int]:
    args = [*parse_qsl(view), ("v", version), ("at", int(FROZEN_NOW.timestamp()))]
    args += [("s", symbol) for symbol in shown_symbols(rows)]
    response = client.get(f"/scan/status?{urlencode(args)}", headers=HX)
    assert response.status_code == 200
    return response.get_data(as_text=True), len(response.data)


def _repriced(result: TickerResult, rng: random.Random) -> TickerResult:
    """The ticker re-scanned later: new prices, so its summary and its place change."""
    factor = rng.uniform(0.5, 1.6)
    rows = [
        {**row, "annualized": row["annualized"] * factor, "spot": row["spot"] * factor}
        for row in result.rows
    ]
    return replace(result, rows=rows, scanned_at="2026-11-18T16:30:00+00:00")


def _replay(app, client, view: str, results: list[TickerResult], seed: int) -> list[int]:
    """Publish ``results`` in random batches, polling after each; returns poll sizes."""
    store = app.extensions["put_scanner"].store
    page = client.get(f"/?{view}").get_data(as_text=True)
    rows, version = rows_of(page), _version(page)
    rng = random.Random(seed)
    order = rng.sample(results, len(results))
    assert store.acquire_lock("replay")
    store.begin(Progress("replay", len(order), "2026-11-18T16:00:00+00:00"))
    sizes = []
    while order:
        batch, order = order[: rng.randint(1, 6)], order[rng.randint(1, 6) :]
        store.publish("replay", batch, current=None)
        html, size = _poll(client, view, version, rows)
        rows, version = apply_poll(rows, html), _version(html)
        sizes.append(size)
        fresh = client.get(f"/?{view}").get_data(as_text=True)
        assert rows == rows_of(fresh), view
        assert _notes(html) == _notes(fresh), view
    return sizes


@pytest.mark.parametrize("view", VIEWS)
def test_a_rescan_polled_page_always_equals_a_fresh_render(app, client, scanned, view):
    rng = random.Random(view)
    _replay(app, client, view, [_repriced(result, rng) for result in scanned], seed=1)


@pytest.mark.parametrize("view", VIEWS)
def test_a_first_scan_polled_page_always_equals_a_fresh_render(
    app, client, scanned, view, redis_client, key_prefix
):
    for key in redis_client.scan_iter(match=f"{key_prefix}*"):
        redis_client.delete(key)
    _replay(app, client, view, scanned, seed=2)


def test_a_poll_sends_no_row_of_another_page(app, client, scanned):
    store = app.extensions["put_scanner"].store
    page = client.get("/?per_page=10").get_data(as_text=True)
    rows, version = rows_of(page), _version(page)
    last = scanned[-1]  # on page 4 in symbol order
    assert last.symbol not in shown_symbols(rows)
    assert store.acquire_lock("later")
    store.publish("later", [replace(last, scanned_at="2026-11-18T16:45:00+00:00")], None)

    html, _size = _poll(client, "per_page=10", version, rows)

    assert _version(html) > version
    assert "<template>" not in html and 'id="results"' not in html
    assert apply_poll(rows, html) == rows


def test_a_changed_row_on_the_page_is_sent_alone(app, client, scanned):
    store = app.extensions["put_scanner"].store
    page = client.get("/").get_data(as_text=True)
    rows, version = rows_of(page), _version(page)
    second = next(result for result in scanned[1:] if result.rows)
    assert store.acquire_lock("later")
    store.publish("later", [replace(second, scanned_at="2026-11-18T16:45:00+00:00")], None)

    html, _size = _poll(client, "", version, rows)

    assert re.findall(r'<tbody class="ticker-group" id="([^"]+)"', html) == [
        f"ticker-{second.symbol}"
    ]
    assert apply_poll(rows, html) == rows_of(client.get("/").get_data(as_text=True))


def test_a_poll_without_the_shown_rows_gets_the_whole_table(app, client, scanned):
    page = client.get("/").get_data(as_text=True)
    html, _size = _poll(client, "", _version(page) - 1, rows=[])
    assert rows_of(html) == rows_of(page)
