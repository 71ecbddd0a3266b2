"""The history on the pages: the dashboard's IV rank column, sort and filter, and the
drilldown's figures and chart."""

from __future__ import annotations

import re

import pytest

from scanner_app import create_app
from scanner_app.market.demo import DemoFeed, DemoProvider

from .conftest import FROZEN_NOW, SynchronousExecutor


class YearlessFeed(DemoFeed):
    """A demo ticker without its synthetic year."""

    def daily_closes(self, first, last):
        return []


class NoYear(DemoProvider):
    """The demo market without its synthetic year: a ticker starts with one stored day."""

    def open(self, ticker, *, calls=False):
        return YearlessFeed(self, ticker.upper(), self._today(), calls=calls)


@pytest.fixture
def scanned(app_config, database_url):
    def scan(provider=None):
        app = create_app(
            {
                **app_config,
                "DATABASE_URL": database_url,
                "SCAN_RUNNER": SynchronousExecutor(),
                **({"MARKET_PROVIDER": provider} if provider else {}),
            }
        )
        client = app.test_client()
        client.post("/scan")
        return client

    return scan


def _ranks(page: str) -> list[float]:
    return [float(value) for value in re.findall(r'class="iv-rank"[^>]*>([\d.]+)<', page)]


def test_the_dashboard_sorts_and_filters_by_iv_rank(scanned):
    client = scanned()
    ranks = _ranks(client.get("/?sort=iv_rank&dir=desc&per_page=100").text)
    assert len(ranks) > 10 and ranks == sorted(ranks, reverse=True)

    page = client.get("/?min_iv_rank=50&per_page=100").text
    assert _ranks(page) and all(rank >= 50 for rank in _ranks(page))
    assert "IV rank &gt;= 50" in page
    assert "constant-maturity 30-day at-the-money IV, last 252 stored days" in page


def test_the_iv_rank_hover_writes_its_date_as_the_drilldown_does(scanned):
    client = scanned()
    hovers = re.findall(r'class="iv-rank" title="([^"]*)"', client.get("/").text)
    assert hovers and all(hover.endswith(", as of Wed Nov 18, 2026") for hover in hovers)
    assert "<dt>As of</dt><dd>Wed Nov 18, 2026 (" in client.get("/ticker/AAPL").text


def test_a_bad_min_iv_rank_is_ignored_with_a_message(scanned):
    page = scanned().get("/?min_iv_rank=120").text
    assert "Min IV rank must be a number from 0 to 100; ignored." in page


def test_the_min_iv_rank_field_is_among_the_more_filters_of_the_puts_only(scanned):
    client = scanned()
    folded = re.search(
        r'<details class="more-filters"[^>]*>.*?</details>', client.get("/").text, re.S
    )
    assert 'name="min_iv_rank"' in folded.group(0) and folded.group(0).startswith(
        '<details class="more-filters">'
    )
    opened = client.get("/?min_iv_rank=30").text
    assert '<details class="more-filters" open>' in opened
    assert 'name="min_iv_rank"' not in client.get("/calls").text


def test_the_drilldown_shows_the_figures_and_the_year_as_a_line_chart(scanned):
    page = scanned().get("/ticker/AAPL").text
    assert 'class="history-chart"' in page
    assert page.count("<polyline") == 2
    assert re.search(r">IV rank</abbr></dt>\s*<dd>\d+</dd>", page)
    assert re.search(r"<dt>IV30</dt><dd>[\d.]+%</dd>", page)
    assert re.search(r"IV/HV</abbr></dt>\s*<dd>[\d.]+</dd>", page)
    assert re.search(r'\$[\d,.]+ <span class="badge badge-new"[^>]*>new</span></th>', page)


def test_with_few_stored_days_the_pages_say_how_many_are_left(scanned):
    client = scanned(NoYear(latency_ms=0, today=lambda: FROZEN_NOW.date()))
    assert "IV rank in 19 days" in client.get("/ticker/AAPL").text
    assert "IV rank in 19 days" in client.get("/").text
