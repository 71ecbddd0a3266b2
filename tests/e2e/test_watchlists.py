"""Two real users through the browser (production mode, gunicorn, headless Chromium): each
signs in, adds tickers, edits a position in place, and after a scan sees only their own
rows, and the calls of their own shares."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer, run_flask

pytestmark = pytest.mark.e2e

TEAM_PASSWORD = "a long team password"


def _log_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEAM_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cash-secured puts")


def _add_and_hold(page: Page, server: LiveServer, symbols: str, held: str, shares: str) -> None:
    """Add ``symbols`` on /watchlist, then set the shares of ``held`` in its row."""
    page.goto(server.url + "/watchlist")
    page.get_by_label("Add tickers").fill(symbols)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Added "))).to_be_visible()
    expect(page.get_by_text("waiting for the next scan").first).to_be_visible()
    page.get_by_role("button", name=f"Edit {held}").click()
    page.get_by_label(f"{held} shares").fill(shares)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(f"Saved {held}.")).to_be_visible()


def _rows(page: Page) -> set[str]:
    """The tickers of the dashboard's rows."""
    return set(re.findall(r'id="ticker-([A-Z.\-]+)"', page.content()))


def test_two_users_each_see_their_own_rows_and_the_calls_of_their_own_shares(
    production_server: LiveServer, browser
) -> None:
    for name in ("ann", "ben"):
        new_user = ("users", "create", name, "--password-stdin")
        run_flask(production_server, *new_user, stdin=TEAM_PASSWORD)
    ann = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    ben = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _log_in(ann, production_server, "ann")
    _log_in(ben, production_server, "ben")
    _add_and_hold(ann, production_server, "IBM, ORCL", "IBM", "300")
    _add_and_hold(ben, production_server, "INTC\nQCOM", "QCOM", "200")
    run_flask(production_server, "scan", "--force")  # the market may be closed today

    ann.goto(production_server.url + "/")
    ben.goto(production_server.url + "/")
    anns, bens = _rows(ann), _rows(ben)
    assert anns and anns <= {"IBM", "ORCL"}
    assert bens and bens <= {"INTC", "QCOM"}
    ann.goto(production_server.url + "/?scope=all")
    assert anns | bens <= _rows(ann)  # every watched ticker's puts

    ann.goto(production_server.url + "/calls")
    ben.goto(production_server.url + "/calls")
    assert "IBM" in ann.content() and "QCOM" not in ann.content()
    assert "QCOM" in ben.content() and "IBM" not in ben.content()
    for page in (ann, ben):
        page.context.close()
