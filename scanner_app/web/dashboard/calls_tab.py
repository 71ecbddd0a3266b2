"""The dashboard's Calls tab: the covered calls of every ticker with shares, read from the
``calls`` hash (bounded by the positions in the watchlist, not by the whole market)."""

from __future__ import annotations

from typing import Any

from ...redis_door import CacheUnavailable
from ...scan.screen import CALL_DELTA_TARGETS, LATE_CALL_DELTA
from ...services import current_scanner


def delta_targets() -> list[tuple[str, float]]:
    """The delta target table as (DTE range, target) pairs, for the page."""
    steps, low = [], 1
    for days, target in CALL_DELTA_TARGETS:
        steps.append((f"{low}-{days}" if low > 1 else f"≤ {days}", target))
        low = days + 1
    return [*steps, (f"≥ {low}", LATE_CALL_DELTA)]


def calls_context() -> dict[str, Any]:
    """Every held ticker's calls (``call_rows``, by ticker, each naming its ticker), the
    criteria, and whether Redis could be read."""
    scanner = current_scanner()
    try:
        by_ticker = list(scanner.reader.stream_rows("calls"))
        available = True
    except CacheUnavailable:
        by_ticker, available = [], False
    rows = [{**row, "ticker": symbol} for symbol, calls in by_ticker for row in calls]
    return {
        "call_rows": rows,
        "calls_available": available,
        "positions": scanner.watchlist.positions(),
        "min_call_annualized": scanner.settings["MIN_CALL_ANNUALIZED"],
        "delta_targets": delta_targets(),
    }
