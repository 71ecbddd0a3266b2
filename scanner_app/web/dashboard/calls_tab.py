"""The Calls tab: the covered calls of every ticker the user holds shares of, read from
the ``calls`` hash for their own positions only, sized to their shares and cut at their
cost basis (``scan.own_calls``), filtered and sorted like the puts, and re-read while a
scan runs."""

from __future__ import annotations

from typing import Any

from ...redis_door import CacheUnavailable
from ...scan.own_calls import own_calls
from ...scan.screen import CALL_DELTA_TARGETS, LATE_CALL_DELTA
from ...screens.query import ResultFilters
from ...screens.row_filters import filter_rows
from ...services import current_scanner
from ..columns import CALLS
from ..criteria_text import filters_phrase
from ..display import market_opens
from ..own_watchlist import own_watchlist
from .scan_status import scan_status


def delta_targets() -> list[tuple[str, float]]:
    """The delta target table as (DTE range, target) pairs, for the page."""
    steps, low = [], 1
    for days, target in CALL_DELTA_TARGETS:
        steps.append((f"{low}-{days}" if low > 1 else f"≤ {days}", target))
        low = days + 1
    return [*steps, (f"≥ {low}", LATE_CALL_DELTA)]


def calls_context(filters: ResultFilters, messages: list[str]) -> dict[str, Any]:
    """Every held ticker's calls that pass ``filters`` (``call_rows``, each naming its
    ticker, in the view's order), the criteria, the scan's status (the tab re-reads itself
    while a scan runs), whether Redis could be read, and when the market opens while it
    is closed in production."""
    scanner = current_scanner()
    status = scanner.status()
    positions = own_watchlist().watchlist.positions()
    try:
        by_ticker = [
            (symbol, mine)
            for symbol, rows in scanner.reader.rows_of("calls", positions)
            if (mine := own_calls(rows, positions[symbol]))
        ]
        available = status.available
    except CacheUnavailable:
        by_ticker, available = [], False
    rows = [
        {**row, "ticker": symbol}
        for symbol, calls in by_ticker
        for row in filter_rows(calls, filters, side="call")
    ]
    return {
        "call_rows": CALLS.sort_rows(rows, filters.call_sort, filters.call_direction),
        "held_calls": sum(len(calls) for _symbol, calls in by_ticker),
        "calls_available": available,
        "status": scan_status(status),
        "filters": filters,
        "form_messages": messages,
        "filters_text": filters_phrase(filters),
        "positions": positions,
        "min_call_annualized": scanner.settings["MIN_CALL_ANNUALIZED"],
        "delta_targets": delta_targets(),
        "market_opens": market_opens(scanner),
    }
