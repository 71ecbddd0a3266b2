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
WRONG = "Wrong username or password."


def log_in(page: Page, username: str, password: str) -> None:
    """Fill the login form's two labelled fields and submit it."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_login_refuses_a_wrong_password_and_an_unknown_user_alike_then_logs_in_and_out(
    production_server: LiveServer, page: Page, expected_console_errors: list
) -> None:
    expected_console_errors.append(WRONG_PASSWORD_STATUS)
    page.goto(production_server.url + "/")
    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")

    log_in(page, "admin", "not the password")
    expect(page.get_by_role("alert")).to_have_text(WRONG)
    expect(page.get_by_label("Username")).to_have_value("admin")
    log_in(page, "nobody", PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(WRONG)
    expect(page.get_by_role("button", name="Scan", exact=True)).to_have_count(0)

    log_in(page, "admin", PASSWORD)
    expect(page).to_have_url(production_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cash-secured puts")
    expect(page.get_by_role("button", name="Scan", exact=True)).to_be_visible()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("admin")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(LOGIN_URL)
    page.goto(production_server.url + "/")
    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()


def test_an_admin_creates_a_member_who_logs_in_and_is_refused_the_admin_page(
    production_server: LiveServer, page: Page, browser, expected_console_errors: list
) -> None:
    expected_console_errors.append(re.compile(r"status of 403 \(FORBIDDEN\)"))
    page.goto(production_server.url + "/login")
    log_in(page, "admin", PASSWORD)
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    form = page.get_by_role("form", name="Create a user")
    form.get_by_label("Username").fill("e2e-member")
    form.get_by_label("Password").fill("a member's own password")
    form.get_by_label("Role").select_option("member")
    form.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status")).to_have_text("Created e2e-member.")
    expect(page.get_by_role("rowheader", name="e2e-member")).to_be_visible()

    member = browser.new_page()
    try:
        member.goto(production_server.url + "/login")
        log_in(member, "e2e-member", "a member's own password")
        expect(member.get_by_role("button", name="Scan", exact=True)).to_be_visible()
        expect(member.get_by_role("link", name="Users")).to_have_count(0)
        answer = member.goto(production_server.url + "/admin/users")
        assert answer is not None and answer.status == 403

        page.get_by_role("button", name="Disable e2e-member").click()
        expect(page.get_by_role("status")).to_have_text(
            "Disabled e2e-member; their sessions ended."
        )
        member.goto(production_server.url + "/")
        expect(member).to_have_url(LOGIN_URL)
    finally:
        member.close()
