"""Logging in and out in production mode, in headless Chromium against gunicorn."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import PASSWORD, LiveServer

pytestmark = pytest.mark.e2e

LOGIN_URL = re.compile(r"/login(\?next=(/|%2F))?$")
#: Chromium logs the 401 the login page answers a wrong password with (by design).
WRONG_PASSWORD_STATUS = re.compile(r"Failed to load resource: .* status of 401 \(UNAUTHORIZED\)")


def test_login_rejects_a_wrong_password_then_logs_in_and_out(
    production_server: LiveServer, page: Page, expected_console_errors: list
) -> None:
    expected_console_errors.append(WRONG_PASSWORD_STATUS)
    page.goto(production_server.url + "/")
    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")

    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong password.")
    expect(page.get_by_role("button", name="Scan", exact=True)).to_have_count(0)

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(production_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cash-secured puts")
    expect(page.get_by_role("button", name="Scan", exact=True)).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(LOGIN_URL)
    page.goto(production_server.url + "/")
    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_label("Password")).to_be_visible()
