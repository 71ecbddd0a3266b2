"""Pagination and live rows in Chromium: rows arrive in sort order as swaps of rows alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import WATCHLIST, LiveServer, api_json

pytestmark = pytest.mark.e2e

#: After every change of the table: whether #results is still the element the test marked
#: (a whole-table swap would replace it), and the row order it shows.
WATCH_TABLE = """() => {
  window.tableLog = [];
  const record = () => {
    const section = document.querySelector("#results");
    const rows = [...document.querySelectorAll("#results tbody.ticker-group")].map(
      (row) => row.id.replace("ticker-", ""));
    if (rows.length && section && !section.dataset.marked) section.dataset.marked = "1";
    window.tableLog.push({marked: section ? section.dataset.marked === "1" : false, rows});
  };
  new MutationObserver(record).observe(document.body, {subtree: true, childList: true});
}"""


def test_rows_arrive_in_sort_order_without_a_whole_table_swap(page: Page, fresh_server):
    page.goto(f"{fresh_server.url}/")
    page.evaluate(WATCH_TABLE)
    page.get_by_role("button", name="Scan").click()
    expect(page.locator("#scan-status .last-run")).to_contain_text("completed", timeout=30_000)

    log = page.evaluate("window.tableLog")
    with_rows = [entry for entry in log if entry["rows"]]
    assert with_rows, "no row ever appeared"
    assert all(entry["rows"] == sorted(entry["rows"]) for entry in with_rows)
    first_full = next(i for i, entry in enumerate(log) if entry["rows"])
    # once the table exists, polls only swap rows: the marked section is never replaced
    assert all(entry["marked"] for entry in log[first_full + 1 :])
    assert len({tuple(entry["rows"]) for entry in with_rows}) > 1, "rows came all at once"
    shown = page.locator("#results tbody.ticker-group").evaluate_all(
        "rows => rows.map(row => row.id.replace('ticker-', ''))"
    )
    assert shown == sorted(api_json(fresh_server, "/api/options")["options"])


def test_page_two_by_link_and_back(page: Page, live_server: LiveServer, scanned_options):
    listed = sorted(scanned_options)
    assert len(listed) > 3, "the demo scan lists too few tickers for two pages"
    page.goto(f"{live_server.url}/?per_page=3")
    rows = page.locator("#results tbody.ticker-group th a")
    expect(rows).to_have_text(listed[:3])
    expect(page.locator("#results-meta")).to_contain_text(f"1–3 of {len(listed)} tickers")

    page.locator(".pager").get_by_role("link", name="2", exact=True).click()
    expect(rows).to_have_text(listed[3:6])
    assert "page=2" in page.url and "per_page=3" in page.url

    page.go_back()
    expect(rows).to_have_text(listed[:3])
    assert "page=2" not in page.url
    assert set(WATCHLIST) >= set(listed)
