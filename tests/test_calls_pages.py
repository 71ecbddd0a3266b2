"""The Calls tab and the calls in a ticker's drilldown, rendered through the routes."""

from __future__ import annotations

import re

import pytest

from scanner_app import create_app
from scanner_app.web.columns import CALLS

HX = {"HX-Request": "true"}
HELD = (
    '[[tickers]]\nsymbol = "AAPL"\nshares = 300\ncost_basis = 1.5\n\n[[tickers]]\nsymbol = "KO"\n'
)


@pytest.fixture
def app(make_app, watchlist_file):
    """The app on a watchlist holding 300 AAPL shares."""
    return make_app(WATCHLIST_FILE=watchlist_file(HELD))


@pytest.fixture
def scanned(client):
    assert client.post("/scan", headers=HX).status_code == 200
    return client


def test_the_dashboard_has_accessible_puts_and_calls_tabs(client):
    page = client.get("/").get_data(as_text=True)
    assert 'role="tablist"' in page
    puts = re.search(r'<a role="tab" id="tab-puts"[^>]*>', page).group(0)
    calls = re.search(r'<a role="tab" id="tab-calls"[^>]*>', page).group(0)
    assert 'aria-selected="true"' in puts and 'aria-controls="panel-puts"' in puts
    assert 'aria-selected="false"' in calls and 'tabindex="-1"' in calls
    assert 'href="/calls"' in calls and "aria-controls" not in calls  # a link to its own view
    assert 'id="panel-calls"' not in page
    assert '<div id="panel-puts" role="tabpanel" aria-labelledby="tab-puts">' in page
    assert "tabs.js" in page


def test_the_calls_tab_lists_every_held_tickers_calls(app, scanned):
    fragment = scanned.get("/calls", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment
    rows = app.extensions["put_scanner"].reader.read_ticker("AAPL").calls
    assert rows
    assert fragment.count('<tr class="call-row">') == len(rows)
    assert 'href="/ticker/AAPL#calls-AAPL"' in fragment
    assert "annualized at least 20 %" in fragment
    assert "≤ 7 days 0.20; 8-14 days 0.24; 15-21 days 0.28; 22-28 days 0.32; ≥ 29 days 0.36." in (
        fragment
    )
    assert 'href="/options.csv?side=call"' in fragment
    assert '<h2 id="calls-heading">Calls on shares held</h2>' in fragment
    for header in ("Bid × Ask", "Sprd", "IV", "If called"):
        assert header in fragment


def test_the_calls_tab_filters_and_sorts_like_the_puts(app, scanned):
    rows = app.extensions["put_scanner"].reader.read_ticker("AAPL").calls
    floor = sorted(row["annualized"] for row in rows)[len(rows) // 2]
    query = f"min_annualized={floor!r}&call_sort=annualized&call_dir=desc"
    response = scanned.get(f"/calls?{query}", headers=HX)
    assert response.headers["HX-Push-Url"] == f"/calls?{query}"
    fragment = response.get_data(as_text=True)
    index = CALLS.page.index("annualized")  # every column shows: the Calls tab has a ticker
    body_rows = re.findall(r'<tr class="call-row">(.*?)</tr>', fragment, re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in body_rows]
    shown = [float(row[index].rstrip("%")) for row in cells]
    kept = sorted((row["annualized"] for row in rows if row["annualized"] >= floor), reverse=True)
    assert fragment.count('<tr class="call-row">') == len(kept) < len(rows)
    assert shown == [round(value, 1) for value in kept]
    assert 'id="filters"' in fragment and 'hx-swap-oob="true"' in fragment  # the form, applied


def test_the_return_if_called_away_is_over_the_cost_basis_annualized(app, scanned):
    row = app.extensions["put_scanner"].reader.read_ticker("AAPL").calls[0]
    expected = (row["bid"] + row["strike"] - row["cost_basis"]) / row["cost_basis"]
    assert row["called_away_annualized"] == pytest.approx(expected * 365 / row["dte"] * 100)


def test_while_a_scan_runs_the_calls_tab_polls_and_an_unchanged_poll_is_204(app, scanned):
    store = app.extensions["put_scanner"].store
    assert store.acquire_lock("running")
    version = store.read_status().version
    fragment = scanned.get("/calls", headers=HX).get_data(as_text=True)
    assert f'hx-get="/calls?v={version}"' in fragment and 'hx-trigger="every' in fragment
    assert scanned.get(f"/calls?v={version}", headers=HX).status_code == 204
    store.release_lock("running")
    done = scanned.get(f"/calls?v={version}", headers=HX)
    assert done.status_code == 200 and 'hx-trigger="every' not in done.get_data(as_text=True)


def test_the_calls_page_without_htmx_is_a_whole_page_with_the_calls_tab_selected(scanned):
    page = scanned.get("/calls").get_data(as_text=True)
    assert "<html" in page and "<h1>Covered calls</h1>" in page
    calls = re.search(r'<a role="tab" id="tab-calls"[^>]*>', page).group(0)
    puts = re.search(r'<a role="tab" id="tab-puts"[^>]*>', page).group(0)
    assert 'aria-selected="true"' in calls
    assert "aria-controls" not in puts  # no puts panel here: the tab is a link to /


def test_without_shares_the_tab_says_how_to_add_them(make_app):
    client = make_app().test_client()
    fragment = client.get("/calls", headers=HX).get_data(as_text=True)
    assert "No shares held" in fragment and "<code>shares</code>" in fragment


def test_the_drilldown_shows_the_tickers_calls(app, scanned):
    page = scanned.get("/ticker/AAPL").get_data(as_text=True)
    rows = app.extensions["put_scanner"].reader.read_ticker("AAPL").calls
    section = re.search(r'<section class="ticker-calls" id="calls-AAPL".*?</section>', page, re.S)
    assert section and section.group(0).count('<tr class="call-row">') == len(rows)
    assert "AAPL covered calls" in section.group(0)
    assert "$1.50" in section.group(0)  # the cost basis
    assert 'id="calls-KO"' not in scanned.get("/ticker/KO").get_data(as_text=True)


def test_the_calls_tab_says_when_redis_is_down(app_config, tmp_path):
    path = tmp_path / "held.toml"
    path.write_text(HELD)
    config = {**app_config, "WATCHLIST_FILE": path, "REDIS_URL": "redis://127.0.0.1:1/0"}
    response = create_app(config).test_client().get("/calls", headers=HX)
    assert response.status_code == 200
    assert "The calls are unavailable right now" in response.get_data(as_text=True)
