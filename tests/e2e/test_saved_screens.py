"""Saved screens in Chromium: the dashboard saves the view its filters made (htmx changed
the address after the form was drawn), the screens page lists it, the dashboard's list
applies it, and the screens page renames and deletes it."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer

pytestmark = pytest.mark.e2e


def test_a_screen_is_saved_listed_applied_renamed_and_deleted(
    live_server: LiveServer, page: Page
) -> None:
    name = f"Weekly income {uuid.uuid4().hex[:6]}"
    page.goto(live_server.url + "/")
    page.locator("#filter-min-annualized").fill("30")
    page.locator("#filter-max-dte").fill("21")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/\?min_annualized=30&max_dte=21$"))

    page.locator("details.saved-screens > summary").click()
    page.get_by_label("Screen name").fill(name)
    page.get_by_role("button", name="Save screen").click()
    expect(page).to_have_url(re.compile(r"/screens#screen-\d+$"))
    expect(page.get_by_text(f"Saved screen “{name}”.")).to_be_visible()
    section = page.locator("#" + page.url.rsplit("#", 1)[1])
    expect(section.get_by_role("heading")).to_contain_text(name)
    expect(section.locator(".screen-query")).to_have_text("min_annualized=30&max_dte=21")

    page.goto(live_server.url + "/")
    expect(page.locator("#filter-min-annualized")).to_have_value("")
    page.locator("details.saved-screens > summary").click()
    page.locator("details.saved-screens").get_by_role("link", name=name).click()
    expect(page).to_have_url(re.compile(r"/\?min_annualized=30&max_dte=21$"))
    expect(page.locator("#filter-min-annualized")).to_have_value("30")
    expect(page.locator("#filter-max-dte")).to_have_value("21")

    page.goto(live_server.url + "/screens")
    renamed = f"{name} renamed"
    section.get_by_label("Name").fill(renamed)
    section.get_by_role("button", name="Rename").click()
    expect(page.get_by_text(f"Renamed to “{renamed}”.")).to_be_visible()
    expect(section.get_by_role("heading")).to_contain_text(renamed)

    section.get_by_role("button", name="Delete").click()
    expect(page.get_by_text(f"Deleted “{renamed}”.")).to_be_visible()
    expect(section).to_have_count(0)
    expect(page.locator("section.saved-screen", has_text=renamed)).to_have_count(0)
    page.goto(live_server.url + "/")
    expect(page.locator("details.saved-screens").get_by_text(renamed)).to_have_count(0)
