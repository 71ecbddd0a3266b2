"""The screens in Chromium: cash typed into the form sizes the puts; the dashboard and an
expanded row's puts re-sort from the keyboard, keeping focus on the header used."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer

pytestmark = pytest.mark.e2e


def money_cells(page: Page, selector: str) -> list[float]:
    texts = page.locator(selector).all_inner_texts()
    return [float(text.strip("$").replace(",", "")) for text in texts]


def test_cash_typed_into_the_form_sizes_each_put(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    symbol = sorted(scanned_options)[0]
    page.goto(live_server.url + "/")
    page.get_by_text("More filters").click()  # the cash is among the filters folded away
    page.get_by_label("Cash to size with, $").fill("50000")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"\?cash=50000$"))
    expect(page.locator("details.more-filters")).to_have_attribute("open", "")

    page.locator(f"#ticker-{symbol} .puts-toggle").click()
    details = page.locator(f"#puts-ticker-{symbol}")
    table = details.locator(".puts-table").first
    expect(table.get_by_role("columnheader", name="Ctr.")).to_be_visible()
    strikes = money_cells(page, f"#puts-ticker-{symbol} .puts-table tbody th")
    contracts = [int(text) for text in details.locator("td.contracts").all_inner_texts()]
    assert contracts == [50000 * 100 // round(strike * 10_000) for strike in strikes]


def test_an_expanded_row_re_sorts_in_place_and_keeps_focus(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    symbol = max(scanned_options, key=lambda s: len(scanned_options[s]))
    page.goto(live_server.url + "/")
    page.locator(f"#ticker-{symbol} .puts-toggle").click()
    table = page.locator(f"#puts-ticker-{symbol} .puts-table").first
    expect(table).to_be_visible()

    bid_link = table.get_by_role("link", name="Bid × Ask")
    bid_link.focus()
    with page.expect_response(re.compile(r"put_sort=bid")):
        page.keyboard.press("Enter")

    bid_header = table.get_by_role("columnheader", name="Bid × Ask")
    expect(bid_header).to_have_attribute("aria-sort", "descending")
    expect(table.get_by_role("link", name="Bid × Ask")).to_be_focused()
    cells = page.locator(f"#puts-ticker-{symbol} .puts-table >> nth=0 >> tbody td:nth-child(3)")
    bids = [
        float(text.split("×")[0].strip(" $").replace(",", "")) for text in cells.all_inner_texts()
    ]
    assert bids == sorted(bids, reverse=True)
    assert page.url == live_server.url + "/"  # the dashboard's URL is left alone


def test_sorting_the_dashboard_by_keyboard_keeps_focus_on_the_header(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    page.goto(live_server.url + "/")
    spot = page.locator("#results").get_by_role("link", name="Spot")
    spot.focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"\?sort=spot$"))
    expect(page.get_by_role("columnheader", name="Spot")).to_have_attribute(
        "aria-sort", "ascending"
    )
    expect(page.locator("#results").get_by_role("link", name="Spot")).to_be_focused()
