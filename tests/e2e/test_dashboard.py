"""The dashboard in headless Chromium against gunicorn: a live scan, filters, drilldowns."""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from .conftest import ROOT, WATCHLIST, LiveServer, api_json

pytestmark = pytest.mark.e2e

SCREENSHOT = ROOT / "docs" / "dashboard-mid-scan.png"
DRILLDOWN_SCREENSHOT = ROOT / "docs" / "drilldown.png"
#: The README's screenshots are taken at this size (E2E_SCREENSHOT=1).
SCREENSHOT_VIEWPORT = {"width": 1440, "height": 900}
POLL_SECONDS = 1  # POLL_INTERVAL_SECONDS of the live server
SCAN_TIMEOUT_MS = 30_000

#: Remembers every distinct progress value the page shows, in order, as htmx swaps it in.
RECORD_PROGRESS = """() => {
  window.progressValues = [];
  const record = () => {
    const bar = document.querySelector("#scan-progress[value]");
    if (!bar) return;
    const value = Number(bar.getAttribute("value"));
    const seen = window.progressValues;
    if (seen[seen.length - 1] !== value) seen.push(value);
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, attributes: true,
  });
}"""

#: While the scan runs (progress below its max) and at least ``minRows`` results are shown:
#: what the page shows; else null.
ROWS_BEFORE_END = """(minRows) => {
  const bar = document.querySelector("#scan-progress[value][max]");
  const rows = document.querySelectorAll("#results tbody.ticker-group").length;
  return bar !== null && Number(bar.value) < Number(bar.max) && rows >= minRows
    ? {value: Number(bar.value), max: Number(bar.max), rows: rows}
    : null;
}"""


#: The tickers the dashboard shows a row for, and those its "waiting" line names, read at once.
ROWS_AND_WAITING = """() => ({
  rows: [...document.querySelectorAll("#results tbody.ticker-group th")].map(
    (th) => th.textContent.trim()),
  waiting: (document.querySelector("#waiting")?.textContent ?? "")
    .replace(/: waiting for the next scan\\.$/, "").split(", ").filter(Boolean),
})"""


#: The put chart's legend entries whose boxes (as the browser lays out their text) overlap
#: another's or leave the chart: "label: reason" lines; empty when the legend is laid out well.
LEGEND_PROBLEMS = """(svg) => {
  const width = svg.viewBox.baseVal.width, height = svg.viewBox.baseVal.height;
  const boxes = [...svg.querySelectorAll(".legend-entry")].map((entry) => ({
    label: entry.textContent, box: entry.getBBox(),
  }));
  const problems = [];
  boxes.forEach(({label, box}, i) => {
    if (box.x < 0 || box.x + box.width > width || box.y + box.height > height) {
      problems.push(`${label}: leaves the chart`);
    }
    for (const other of boxes.slice(i + 1)) {
      const b = other.box;
      if (box.x < b.x + b.width && b.x < box.x + box.width
          && box.y < b.y + b.height && b.y < box.y + box.height) {
        problems.push(`${label}: overlaps ${other.label}`);
      }
    }
  });
  return problems;
}"""


def ticker_rows(page: Page):
    """The dashboard's result rows, one ``tbody`` per ticker."""
    return page.locator("#results tbody.ticker-group")


def requests_to(page: Page, path_pattern: str) -> list[str]:
    """A list that fills with the URLs of the page's requests whose path matches."""
    pattern = re.compile(path_pattern)
    seen: list[str] = []

    def remember(request: Request) -> None:
        if pattern.fullmatch(urlsplit(request.url).path):
            seen.append(request.url)

    page.on("request", remember)
    return seen


def best_annualized(options: dict[str, list[dict]]) -> dict[str, float]:
    """Each ticker's highest annualized return."""
    return {symbol: max(row["annualized"] for row in rows) for symbol, rows in options.items()}


def splitting_threshold(best: dict[str, float]) -> float:
    """A min-annualized value that some tickers' best puts meet and others' do not."""
    values = sorted(set(best.values()))
    if len(values) < 2:
        pytest.fail(f"the demo scan needs tickers with different returns: {best}")
    middle = len(values) // 2
    return round((values[middle - 1] + values[middle]) / 2, 2)


def test_dashboard_shows_title_scan_button_last_scan_and_banners(
    live_server: LiveServer, page: Page
) -> None:
    page.goto(live_server.url + "/")

    expect(page).to_have_title("Dashboard · Put Scanner")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cash-secured puts")
    expect(page.get_by_role("button", name="Scan", exact=True)).to_be_enabled()
    expect(page.locator("#scan-status")).to_contain_text("Last scan:")
    banners = page.locator("#banners")
    expect(banners).to_contain_text("Local mode")
    expect(banners).to_contain_text("Demo market data")


def test_scan_streams_progress_and_rows_then_stops_polling(
    fresh_server: LiveServer, page: Page
) -> None:
    status_requests = requests_to(page, r"/scan/status")
    if os.environ.get("E2E_SCREENSHOT") == "1":
        page.set_viewport_size(SCREENSHOT_VIEWPORT)
    page.goto(fresh_server.url + "/")
    expect(page.locator("#results")).to_contain_text("No qualifying puts yet")
    assert sorted(page.evaluate(ROWS_AND_WAITING)["waiting"]) == sorted(WATCHLIST)
    page.evaluate(RECORD_PROGRESS)

    page.get_by_role("button", name="Scan", exact=True).click()

    expect(page.locator("#scan-progress")).to_be_visible()
    mid_scan = page.wait_for_function(ROWS_BEFORE_END, arg=1, timeout=SCAN_TIMEOUT_MS)
    assert mid_scan.json_value()["max"] == len(WATCHLIST)
    # while the rows stream in, the progress stays in view
    assert page.locator(".scan-panel").evaluate("el => getComputedStyle(el).position") == "sticky"
    # the line of tickers waiting for the scan keeps up with the rows
    seen = page.evaluate(ROWS_AND_WAITING)
    assert seen["rows"] and not set(seen["rows"]) & set(seen["waiting"]), seen
    if os.environ.get("E2E_SCREENSHOT") == "1":
        page.wait_for_function(ROWS_BEFORE_END, arg=3, timeout=SCAN_TIMEOUT_MS)
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=False)

    status = page.locator("#scan-status")
    expect(status.locator(".scan-done")).to_have_text(
        f"Scanned {len(WATCHLIST)} of {len(WATCHLIST)} tickers.", timeout=SCAN_TIMEOUT_MS
    )
    expect(page.locator("#scan-progress")).to_have_count(0)
    expect(page.locator("#waiting")).to_have_count(0)  # the scan reached every ticker
    assert status.get_attribute("hx-trigger") is None
    assert status.get_attribute("hx-get") is None
    # every ticker with qualifying puts today (the demo market's chains change by the day)
    expect(ticker_rows(page)).to_have_count(len(api_json(fresh_server, "/api/options")["options"]))

    values = page.evaluate("window.progressValues")
    assert len(values) >= 2, f"progress was seen at only {values}"
    assert values == sorted(set(values)), f"progress went backwards: {values}"
    assert values[-1] < len(WATCHLIST)

    polls_at_end = len(status_requests)
    assert polls_at_end >= 2
    page.wait_for_timeout(3.5 * POLL_SECONDS * 1000)  # nothing to wait for: polling has stopped
    assert len(status_requests) == polls_at_end, status_requests[polls_at_end:]


def test_expanding_a_row_loads_its_puts_lazily(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    symbol = sorted(scanned_options)[0]
    detail_requests = requests_to(page, r"/ticker/.+")
    page.goto(live_server.url + "/")
    button = page.locator(f"#ticker-{symbol} .puts-toggle")
    puts_row = page.locator(f"#puts-ticker-{symbol}")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(puts_row).to_be_hidden()  # one line per ticker until its puts are asked for
    expect(puts_row.locator(".puts-table")).to_have_count(0)
    assert detail_requests == []

    with page.expect_request(re.compile(rf"/ticker/{symbol}(\?|$)")):
        button.click()

    expect(button).to_have_attribute("aria-expanded", "true")
    puts = puts_row.locator(".puts-table tbody tr")
    expect(puts).to_have_count(len(scanned_options[symbol]))
    button.click()  # hides them again, without another request
    expect(puts_row).to_be_hidden()
    assert [urlsplit(url).path for url in detail_requests] == [f"/ticker/{symbol}"]


def test_drilldown_page_shows_grouped_tables_chart_and_badges(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    symbol = sorted(scanned_options)[-1]
    rows = scanned_options[symbol]
    page.goto(live_server.url + "/")

    page.locator(f"#ticker-{symbol} th a").click()

    expect(page).to_have_url(f"{live_server.url}/ticker/{symbol}")
    expect(page).to_have_title(f"{symbol} puts · Put Scanner")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{symbol} puts")
    chart = page.locator("svg.put-chart[role=img]")
    expect(chart).to_be_visible()
    assert chart.evaluate(LEGEND_PROBLEMS) == []
    tables = page.locator("table.puts-table")
    expect(tables).to_have_count(len({row["expiration"] for row in rows}))
    expect(tables.first.locator("caption")).to_contain_text(f"{symbol} ·")
    expect(page.locator("table.puts-table tbody tr")).to_have_count(len(rows))
    expect(page.locator("table.puts-table tbody .badge")).to_have_count(len(rows))
    if os.environ.get("E2E_SCREENSHOT") == "1":
        page.set_viewport_size(SCREENSHOT_VIEWPORT)
        page.goto(f"{live_server.url}/ticker/{symbol}?cash=50000")
        # from the breadcrumb and heading down, past the banners every page shows
        page.locator("#banners").evaluate(
            "el => window.scrollTo(0, el.getBoundingClientRect().bottom + window.scrollY)"
        )
        page.screenshot(path=str(DRILLDOWN_SCREENSHOT), full_page=False)


def test_filter_pushes_url_survives_reload_and_back_restores(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    best = best_annualized(scanned_options)
    threshold = splitting_threshold(best)
    kept = sum(value >= threshold for value in best.values())
    assert 0 < kept < len(best)
    page.goto(live_server.url + "/")
    expect(ticker_rows(page)).to_have_count(len(scanned_options))

    page.get_by_label("Min annualized %").fill(str(threshold))
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"\?min_annualized="))
    query = parse_qs(urlsplit(page.url).query)
    assert list(query) == ["min_annualized"]
    assert float(query["min_annualized"][0]) == threshold
    expect(ticker_rows(page)).to_have_count(kept)

    page.reload()
    expect(ticker_rows(page)).to_have_count(kept)
    assert float(page.get_by_label("Min annualized %").input_value()) == threshold

    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(ticker_rows(page)).to_have_count(len(scanned_options))
