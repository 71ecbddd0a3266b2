"""The Calls tab in headless Chromium: switched to by mouse and keyboard, its rows match the
API, and a ticker opens its drilldown at its covered calls."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from scanner_app.web.columns import CALLS

from .conftest import HELD_SHARES, api_json

pytestmark = pytest.mark.e2e


def test_the_calls_tab_shows_the_calls_and_opens_a_call_drilldown(
    page, live_server, scanned_options
):
    calls = api_json(live_server, "/api/options?side=call")["options"]
    assert calls and set(calls) <= set(HELD_SHARES)
    page.goto(live_server.url + "/")
    puts_tab = page.get_by_role("tab", name="Puts")
    calls_tab = page.get_by_role("tab", name="Calls")
    expect(puts_tab).to_have_attribute("aria-selected", "true")

    calls_tab.click()  # a view of its own, at its own URL
    expect(page).to_have_url(f"{live_server.url}/calls")
    expect(page.get_by_role("heading", level=1)).to_have_text("Covered calls")
    calls_tab = page.get_by_role("tab", name="Calls")
    expect(calls_tab).to_have_attribute("aria-selected", "true")
    panel = page.locator("#panel-calls")
    expect(panel.locator("tr.call-row")).to_have_count(sum(len(rows) for rows in calls.values()))
    expect(panel.get_by_role("columnheader", name="If called")).to_be_visible()

    calls_tab.press("ArrowLeft")  # the keyboard moves between the tabs; Enter follows one
    puts_tab = page.get_by_role("tab", name="Puts")
    expect(puts_tab).to_be_focused()
    puts_tab.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/")
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/calls")

    symbol = sorted(calls)[0]
    page.locator("#calls").get_by_role("link", name=symbol, exact=True).first.click()
    expect(page).to_have_url(re.compile(rf"/ticker/{symbol}#calls-{symbol}$"))
    section = page.locator(f"#calls-{symbol}")
    expect(section.get_by_role("heading", name=f"{symbol} covered calls")).to_be_visible()
    expect(section.locator("tr.call-row")).to_have_count(len(calls[symbol]))
    contracts = HELD_SHARES[symbol] // 100
    column = [c.name for c in CALLS.page_columns([])].index("contracts")
    first = section.locator("tr.call-row").first
    expect(first.locator("td").nth(column)).to_have_text(str(contracts))


def test_the_calls_tab_filters_and_sorts_in_place_with_a_shareable_url(
    page, live_server, scanned_options
):
    calls = [
        row
        for rows in api_json(live_server, "/api/options?side=call")["options"].values()
        for row in rows
    ]
    floor = sorted(row["annualized"] for row in calls)[len(calls) // 2]
    kept = [row for row in calls if row["annualized"] >= round(floor, 2)]
    page.goto(live_server.url + "/calls")
    page.get_by_label("Min annualized %").fill(f"{floor:.2f}")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/calls\?min_annualized="))
    expect(page.locator("#calls tr.call-row")).to_have_count(len(kept))

    page.locator("#calls").get_by_role("link", name="IV").click()
    expect(page).to_have_url(re.compile(r"call_sort=iv&call_dir=desc"))
    expect(page.get_by_role("columnheader", name="IV")).to_have_attribute("aria-sort", "descending")
    page.reload()  # the URL alone brings the same view back
    expect(page.locator("#calls tr.call-row")).to_have_count(len(kept))
    expect(page.get_by_role("columnheader", name="IV")).to_have_attribute("aria-sort", "descending")
