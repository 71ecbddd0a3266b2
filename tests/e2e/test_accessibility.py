"""axe-core finds no accessibility violation on the app's pages, in headless Chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .axe import assert_no_violations
from .conftest import PASSWORD, LiveServer, run_flask

pytestmark = pytest.mark.e2e

#: Chromium logs the status of a page answered 404, as it does any failed load.
NOT_FOUND_STATUS = re.compile(r"Failed to load resource: .* status of 404 \(NOT FOUND\)")


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """The pages' Content-Security-Policy forbids inline scripts, axe-core's way in."""
    return {**browser_context_args, "bypass_csp": True}


def test_dashboard_with_results_has_no_violations(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    page.goto(live_server.url + "/")
    expect(page.locator("#results tbody.ticker-group").first).to_be_visible()
    assert_no_violations(page)


def test_dashboard_with_a_row_expanded_has_no_violations(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    symbol = sorted(scanned_options)[0]
    page.goto(live_server.url + "/")
    page.locator(f"#ticker-{symbol} .puts-toggle").click()
    expect(page.locator(f"#puts-ticker-{symbol} .puts-table").first).to_be_visible()
    assert_no_violations(page)


def test_the_calls_tab_has_no_violations(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    page.goto(live_server.url + "/")
    page.get_by_role("tab", name="Calls").click()
    expect(page).to_have_url(f"{live_server.url}/calls")
    expect(page.locator("#calls tr.call-row").first).to_be_visible()
    assert_no_violations(page)


def test_the_folded_filters_opened_with_an_ignored_value_have_no_violations(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    page.goto(live_server.url + "/?min_dte=soon&cash=25000")
    expect(page.locator(".form-errors")).to_contain_text("Min days to expiry must be")
    expect(page.get_by_label("Cash to size with, $")).to_be_visible()
    assert_no_violations(page)
    page.goto(live_server.url + "/calls?min_annualized=0&call_sort=iv&call_dir=desc")
    expect(page.locator("#calls tr.call-row").first).to_be_visible()
    assert_no_violations(page)


def test_the_drilldowns_one_table_has_no_violations(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    symbol = max(scanned_options, key=lambda s: len(scanned_options[s]))
    page.goto(f"{live_server.url}/ticker/{symbol}?layout=table&cash=50000&put_sort=expiration")
    expect(page.locator("table.puts-table")).to_have_count(1)
    assert_no_violations(page)


def test_the_dashboard_at_phone_width_has_no_violations(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/")
    expect(page.locator("#results tbody.ticker-group").first).to_be_visible()
    assert_no_violations(page)


def test_a_call_drilldown_has_no_violations(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    page.goto(live_server.url + "/ticker/AAPL")
    expect(page.get_by_role("heading", name="AAPL covered calls")).to_be_visible()
    assert_no_violations(page)


def test_drilldown_has_no_violations(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    symbol = sorted(scanned_options)[-1]
    page.goto(f"{live_server.url}/ticker/{symbol}")
    expect(page.locator("table.puts-table").first).to_be_visible()
    assert_no_violations(page)


def test_a_narrow_drilldown_scrolls_its_tables_by_keyboard(
    live_server: LiveServer, scanned_options: dict, page: Page
) -> None:
    symbol = sorted(scanned_options)[-1]
    page.set_viewport_size({"width": 480, "height": 800})
    page.goto(f"{live_server.url}/ticker/{symbol}?cash=50000&put_sort=annualized")
    scroller = page.locator(".table-wrap").first
    expect(scroller).to_have_attribute("tabindex", "0")
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth"), "the table should scroll"
    assert_no_violations(page)

    scroller.focus()
    page.keyboard.press("ArrowRight")
    expect(scroller).to_be_focused()
    page.wait_for_function("el => el.scrollLeft > 0", arg=scroller.element_handle())


@pytest.fixture(scope="module")
def history_server(session_server: LiveServer) -> LiveServer:
    """The in-session server after a scan: a year of history, today's rows marked new."""
    run_flask(session_server, "scan")
    return session_server


def test_a_drilldown_with_its_volatility_and_new_badges_has_no_violations(
    history_server: LiveServer, page: Page
) -> None:
    page.goto(f"{history_server.url}/ticker/MSFT")
    volatility = page.get_by_role("region", name="Volatility")
    expect(volatility).to_be_visible()
    expect(volatility.locator("figure.chart svg")).to_be_visible()
    expect(page.locator(".badge-new").first).to_be_visible()
    assert_no_violations(page)


def test_the_dashboard_with_its_iv_rank_column_has_no_violations(
    history_server: LiveServer, page: Page
) -> None:
    page.goto(history_server.url + "/?sort=iv_rank")
    expect(page.get_by_role("columnheader", name="IV rank").first).to_be_visible()
    assert_no_violations(page)


def test_login_page_has_no_violations(production_server: LiveServer, page: Page) -> None:
    page.goto(production_server.url + "/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    assert_no_violations(page)


def _log_in_as_admin(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("admin")


def test_the_users_page_has_no_violations(production_server: LiveServer, page: Page) -> None:
    _log_in_as_admin(page, production_server)
    page.goto(production_server.url + "/admin/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    assert_no_violations(page)


def test_the_watchlist_page_and_its_edit_row_have_no_violations(
    live_server: LiveServer, page: Page
) -> None:
    page.goto(live_server.url + "/watchlist")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_label("Add tickers")).to_be_visible()
    assert_no_violations(page)
    page.get_by_role("button", name="Edit AAPL").click()
    expect(page.get_by_label("AAPL shares")).to_be_visible()
    assert_no_violations(page)


def test_the_saved_screens_page_has_no_violations(live_server: LiveServer, page: Page) -> None:
    name = "Accessible weekly income"
    run_flask(live_server, "screens", "add", name, "--query", "min_annualized=40&sort=annualized")
    try:
        page.goto(live_server.url + "/screens")
        expect(page.get_by_role("heading", level=1)).to_have_text("Saved screens")
        expect(page.get_by_role("link", name=name)).to_be_visible()
        assert_no_violations(page)
    finally:
        run_flask(live_server, "screens", "delete", name)


def test_the_not_found_page_has_no_violations(
    live_server: LiveServer, page: Page, expected_console_errors: list
) -> None:
    expected_console_errors.append(NOT_FOUND_STATUS)
    response = page.goto(live_server.url + "/no-such-page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_contain_text("Not Found")
    expect(page.get_by_text("There is no page at this address.")).to_be_visible()
    assert_no_violations(page)


def test_the_production_dashboard_with_the_market_closed_has_no_violations(
    closed_market_server: LiveServer, page: Page
) -> None:
    _log_in_as_admin(page, closed_market_server)
    page.goto(closed_market_server.url + "/")
    scan = page.get_by_role("button", name="Scan", exact=True)
    expect(scan).to_be_disabled()
    expect(page.locator("#scan-closed")).to_contain_text("Market closed: Scan opens")
    expect(page.locator("#results .empty")).to_contain_text("The market is closed")
    assert_no_violations(page)

    run_flask(closed_market_server, "scan", "--force")  # rows, with the button still disabled
    page.reload()
    expect(page.locator("#results tbody.ticker-group").first).to_be_visible()
    expect(scan).to_be_disabled()
    assert_no_violations(page)
