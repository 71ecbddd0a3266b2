"""The Calls tab and the calls in a ticker's drilldown, rendered through the routes."""

from __future__ import annotations

import re

import pytest

from scanner_app import create_app

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
    assert 'hx-get="/calls"' in calls and 'hx-target="#panel-calls"' in calls
    assert '<div id="panel-calls" role="tabpanel" aria-labelledby="tab-calls" hidden>' in page
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
