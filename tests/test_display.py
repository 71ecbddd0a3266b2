"""How stored values are shown: the "Last scan" line worded from the stored facts, and a dash
for anything that is not a usable value."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scanner_app.scan.store import RunFacts, ScanRecord
from scanner_app.web.display import MISSING, eastern_time, expired_text, last_run_text, money

FINISHED = "2026-11-18T16:02:00+00:00"  # 11:02 AM EST


def facts(**overrides) -> RunFacts:
    values = {"scan_id": "s", "outcome": "completed", "finished_at": FINISHED}
    return RunFacts(**(values | {"tickers": 25, "puts": 212, "failed": 0} | overrides))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "Scan completed successfully at Wed Nov 18, 2026 11:02 AM EST — 25 tickers, 212 puts"),
        (
            {"failed": 1, "credits": 4180},
            "Scan completed successfully at Wed Nov 18, 2026 11:02 AM EST — 25 tickers, 212 puts"
            " (1 failed ticker); 4,180 API credits used",
        ),
        (
            {"credits": 1},
            "Scan completed successfully at Wed Nov 18, 2026 11:02 AM EST — 25 tickers, 212 puts"
            "; 1 API credit used",
        ),
        (
            {"outcome": "failed", "reason": "2 of 25 tickers could not be scanned", "credits": 0},
            "Scan failed at Wed Nov 18, 2026 11:02 AM EST: 2 of 25 tickers could not be scanned"
            "; 0 API credits used",
        ),
    ],
    ids=["no-credits", "credits", "one-credit", "failed"],
)
def test_the_last_scan_line_names_the_credits_a_billing_provider_used(overrides, expected):
    assert last_run_text(facts(**overrides), "stored message") == expected


def test_without_facts_the_stored_message_is_shown():
    assert last_run_text(None, "Never") == "Never"


def test_expired_results_invite_a_scan_or_say_when_one_can_run():
    record = ScanRecord(finished_at=FINISHED, ttl=2700)
    expired = "Results from the scan at Wed Nov 18, 2026 11:02 AM EST expired after 45 minutes"
    assert expired_text(record) == f"{expired}; press Scan"
    opens = "Mon Nov 23, 2026 9:30 AM EST"
    assert expired_text(record, opens) == (
        f"{expired}. The market is closed: a scan can run when it opens, {opens}."
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2026-11-18T16:00:00+00:00", "Wed Nov 18, 2026 11:00 AM EST"),
        ("9999-12-31T23:59:59-23:59", MISSING),  # past year 9999 in New York
        ("0001-01-01T00:00:00+14:00", MISSING),  # before year 1 in New York
        ("2026-11-18T16:00:00", MISSING),  # no offset: no moment
        (datetime(2026, 11, 18, 16, 0, tzinfo=UTC), "Wed Nov 18, 2026 11:00 AM EST"),
        (datetime(2026, 11, 18, 16, 0), MISSING),  # no zone: no moment
        ("soon", MISSING),
        (1795017600, MISSING),
    ],
)
def test_eastern_time_shows_a_moment_or_a_dash(value, shown):
    assert eastern_time(value) == shown


@pytest.mark.parametrize("value", [10**400, float("nan"), "12", None])
def test_money_shows_a_dash_for_what_is_not_a_finite_number(value):
    assert money(value) == MISSING
