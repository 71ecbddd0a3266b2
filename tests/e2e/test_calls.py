"""The Calls tab in headless Chromium: switched to by mouse and keyboard, its rows match the
API, and a ticker opens its drilldown at its covered calls."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

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
    puts_panel, calls_panel = page.locator("#panel-puts"), page.locator("#panel-calls")
    expect(calls_panel).to_be_hidden()

    calls_tab.click()
    expect(calls_tab).to_have_attribute("aria-selected", "true")
    expect(puts_tab).to_have_attribute("aria-selected", "false")
    expect(puts_panel).to_be_hidden()
    expect(calls_panel.locator("tr.call-row")).to_have_count(
        sum(len(rows) for rows in calls.values())
    )

    calls_tab.press("ArrowLeft")  # the keyboard moves between the tabs
    expect(puts_tab).to_be_focused()
    expect(puts_panel).to_be_visible()
    expect(calls_panel).to_be_hidden()
    puts_tab.press("ArrowRight")
    expect(calls_tab).to_have_attribute("aria-selected", "true")
    expect(calls_panel).to_be_visible()

    symbol = sorted(calls)[0]
    calls_panel.get_by_role("link", name=symbol, exact=True).first.click()
    expect(page).to_have_url(re.compile(rf"/ticker/{symbol}#calls-{symbol}$"))
    section = page.locator(f"#calls-{symbol}")
    expect(section.get_by_role("heading", name=f"{symbol} covered calls")).to_be_visible()
    expect(section.locator("tr.call-row")).to_have_count(len(calls[symbol]))
    contracts = HELD_SHARES[symbol] // 100
    first = section.locator("tr.call-row").first
    expect(first.locator("td").nth(8)).to_have_text(str(contracts))
