"""Every results table fits a laptop screen without sideways scrolling, and on a phone the
ticker stays fully visible while a table scrolls; the saved screens page fits both, in
headless Chromium."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from .conftest import HELD_SHARES, LiveServer, run_flask

pytestmark = pytest.mark.e2e

LAPTOPS = [{"width": 1440, "height": 900}, {"width": 1366, "height": 768}]
PHONE = {"width": 390, "height": 844}

#: Each table's scroller whose content is wider than it is, and the page's own overflow.
OVERFLOW = """() => ({
  tables: [...document.querySelectorAll(".table-wrap")]
    .filter((wrap) => wrap.scrollWidth > wrap.clientWidth + 1)
    .map((wrap) => `${wrap.getAttribute("aria-labelledby")}: ${wrap.scrollWidth}`
      + ` > ${wrap.clientWidth}`),
  page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
})"""

#: Scrolled fully to the right, the row headers (tickers) that are not wholly inside their
#: table's scroller.
HIDDEN_ROW_HEADERS = """(selector) => {
  const hidden = [];
  for (const wrap of document.querySelectorAll(selector)) {
    wrap.scrollLeft = wrap.scrollWidth;
    const box = wrap.getBoundingClientRect();
    for (const cell of wrap.querySelectorAll("tbody tr:not([hidden]) > th")) {
      const own = cell.getBoundingClientRect();
      if (own.left < box.left - 0.5 || own.right > box.right + 0.5 || own.width === 0)
        hidden.push(cell.innerText);
    }
  }
  return hidden;
}"""


#: The first scan of a day marks every contract "new" (``cells.new_badge``); the demo's
#: real clock may fall outside a session, so the badge is put on every strike here.
ALL_NEW = """() => {
  for (const table of document.querySelectorAll(".table-wrap table")) {
    const headers = [...table.querySelectorAll("thead th")].map((th) => th.innerText.trim());
    const strike = headers.findIndex((text) => text.startsWith("Strike"));
    if (table.closest("#results") || strike < 0) continue;  // a dashboard line has none
    for (const row of table.querySelectorAll("tbody tr")) {
      const cell = row.children[strike];
      if (cell && !cell.querySelector(".badge-new"))
        cell.insertAdjacentHTML("beforeend", ' <span class="badge badge-new">new</span>');
    }
  }
}"""


def _pages(symbol: str, held: str) -> dict[str, str]:
    return {
        "dashboard": "/",
        "drilldown with cash": f"/ticker/{symbol}?cash=250000",
        "drilldown as one table with cash": f"/ticker/{symbol}?cash=250000&layout=table",
        "Calls tab": "/calls",
        "call drilldown": f"/ticker/{held}",
    }


@pytest.mark.parametrize("viewport", LAPTOPS, ids=lambda v: f"{v['width']}x{v['height']}")
def test_no_results_table_scrolls_sideways_on_a_laptop(
    live_server: LiveServer, scanned_options: dict, page: Page, viewport: dict
) -> None:
    page.set_viewport_size(viewport)
    symbol = max(scanned_options, key=lambda s: len(scanned_options[s]))
    held = sorted(HELD_SHARES)[0]
    for name, path in _pages(symbol, held).items():
        page.goto(live_server.url + path)
        expect(page.locator(".table-wrap table").first).to_be_visible()
        found = page.evaluate(OVERFLOW)
        assert found == {"tables": [], "page": 0}, f"{name} ({path}) overflows: {found}"
        page.evaluate(ALL_NEW)
        found = page.evaluate(OVERFLOW)
        assert found == {"tables": [], "page": 0}, f"{name}, every row new, overflows: {found}"
    page.goto(live_server.url + f"/ticker/{symbol}?cash=250000")
    expect(page.get_by_role("columnheader", name="Ctr.").first).to_be_visible()


def test_the_results_start_above_the_fold_at_1440x900(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    page.set_viewport_size(LAPTOPS[0])
    page.goto(live_server.url + "/")
    first = page.locator("#results tbody.ticker-group").first
    expect(first).to_be_visible()
    assert first.bounding_box()["y"] + first.bounding_box()["height"] < LAPTOPS[0]["height"]


def test_on_a_phone_the_ticker_and_its_best_put_stay_in_view(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/")
    rows = page.locator("#results tbody.ticker-group > tr:first-child")
    expect(rows.first).to_be_visible()
    # the ticker, the best annualized, its strike and its delta, before any scrolling
    for row in rows.all()[:5]:
        for cell in row.locator("th, td").all()[:4]:
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], cell.inner_text()
    assert page.evaluate(OVERFLOW)["page"] == 0  # the table scrolls, not the page
    for path in ("/", "/calls"):
        page.goto(live_server.url + path)
        expect(page.locator(".table-wrap tbody th").first).to_be_visible()
        assert page.evaluate(HIDDEN_ROW_HEADERS, ".table-wrap") == [], path


@pytest.mark.parametrize("viewport", [*LAPTOPS, PHONE], ids=lambda v: f"{v['width']}x{v['height']}")
def test_the_saved_screens_page_fits_and_lays_each_screens_actions_in_a_row(
    live_server: LiveServer, page: Page, viewport: dict
) -> None:
    name = f"Deep discount wheel candidates on cheap tech names {uuid.uuid4().hex[:6]}"
    query = "min_annualized=15&min_dte=7&max_dte=45&max_delta=0.2&scope=all&sort=value"
    alert = ["--alert", "mailtos://user:app-password@example.com"]
    run_flask(live_server, "screens", "add", name, "--query", query, "--shared", *alert)
    try:
        page.set_viewport_size(viewport)
        page.goto(live_server.url + "/screens")
        section = page.locator("section.saved-screen", has_text=name)
        expect(section.get_by_role("button", name="Send test")).to_be_visible()
        assert page.evaluate(OVERFLOW)["page"] == 0
        textarea = section.get_by_role("textbox", name="Alert targets")
        assert "monospace" in textarea.evaluate("(area) => getComputedStyle(area).fontFamily")
        card = section.bounding_box()
        assert textarea.bounding_box()["width"] > card["width"] * 0.9  # the card's width
        if viewport == PHONE:
            return
        actions = [
            section.get_by_role("link", name="Apply", exact=True),
            section.get_by_role("button", name="Rename"),
            section.get_by_role("button", name="Keep private"),
            section.get_by_role("button", name="Send test"),
            section.get_by_role("button", name="Delete"),
        ]
        tops = {round(action.bounding_box()["y"]) for action in actions}
        assert len(tops) == 1, f"the actions wrap at {viewport}: {tops}"
    finally:
        run_flask(live_server, "screens", "delete", name)
