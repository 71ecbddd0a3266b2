"""Helpers for tests that publish results or read them back through the store's new layout."""

from __future__ import annotations

import json
from dataclasses import dataclass

from scanner_app.market.models import ScreenedPut
from scanner_app.scan.store import Progress, RunFacts, ScanStore, TickerResult

SCANNED_AT = "2026-11-18T16:00:05+00:00"
STARTED_AT = "2026-11-18T16:00:00+00:00"


@dataclass(frozen=True)
class Results:
    """Every ticker's rows, scan time, error and failed expirations, as the working set
    holds them now."""

    options: dict[str, list[dict]]
    scan_times: dict[str, str]
    errors: dict[str, str]
    partial: dict[str, list[str]]


def read_results(scanner) -> Results:
    """The working set's rows, scan times, errors and partial tickers (fails the test when
    Redis is down)."""
    everything = scanner.reader.read_everything()
    assert everything is not None, "Redis could not be read"
    return Results(*everything)


def publish_scan(
    store: ScanStore,
    rows_by_ticker: dict[str, list[dict]],
    errors: dict[str, str] | None = None,
    *,
    scan_id: str = "fixture",
    scanned_at: str = SCANNED_AT,
    message: str = "Scan completed",
) -> None:
    """Publish a whole scan of ``rows_by_ticker`` (and failed ``errors``) as the engine would."""
    errors = errors or {}
    assert store.acquire_lock(scan_id)
    store.begin(
        Progress(scan_id=scan_id, total=len(rows_by_ticker) + len(errors), started_at=STARTED_AT)
    )
    results = [TickerResult(symbol, scanned_at, rows) for symbol, rows in rows_by_ticker.items()]
    results += [TickerResult(symbol, scanned_at, [], error) for symbol, error in errors.items()]
    store.publish(scan_id, results, None)
    _tickers, puts = store.assemble(scan_id)
    facts = RunFacts(scan_id, "completed", scanned_at, len(results), puts, len(errors))
    store.finish(scan_id, message, facts)
    assert store.release_lock(scan_id)


def sample_row(**overrides) -> dict:
    """A complete, valid row, with ``overrides`` applied."""
    row = ScreenedPut(
        ticker="AAPL",
        contract_symbol="AAPL261218P00150000",
        expiration="2026-12-18",
        strike=150.0,
        bid=2.5,
        ask=2.7,
        last=2.6,
        volume=10,
        open_interest=100,
        iv=0.3,
        spot=160.0,
        dte=30,
        annualized=20.3,
        pct_otm=6.67,
        delta=-0.25,
        prob_otm=0.75,
        breakeven=147.5,
        premium=250.0,
        collateral=15000.0,
        spread_pct=7.7,
    ).to_dict()
    row.update(overrides)
    return row


def hand_over_lock(redis_client, key_prefix: str, new_owner: str) -> None:
    """Give the scan lock to ``new_owner`` in one step, as another scan taking it after it
    expired would; the key never goes missing, which a running scan would read as a restart."""
    lock_key = f"{key_prefix}scan_in_progress"
    assert redis_client.set(lock_key, json.dumps(new_owner), xx=True, keepttl=True)
