"""The dashboard's Calls tab: the covered calls of every ticker with shares, read from the
``calls`` hash (bounded by the positions in the watchlist, not by the whole market)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from ..numbers import finite_number
from ..scan.screen import CALL_DELTA_TARGETS, LATE_CALL_DELTA, call_delta_target
from ..scan.store import CacheUnavailable
from ..services import current_scanner
from .display import data_banners
from .htmx import wants_fragment
from .responses import html_response

bp = Blueprint("calls", __name__)


@bp.app_template_filter("delta_target")
def delta_target(dte: Any) -> float | None:
    """The highest call delta sold at ``dte`` days (None for a malformed stored DTE)."""
    days = finite_number(dte)
    return None if days is None else call_delta_target(int(days))


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


@bp.get("/calls")
def calls() -> Response:
    """The Calls tab: for htmx only its panel, else the whole page with the tab selected."""
    context = calls_context()
    if wants_fragment():
        return html_response("partials/calls.html", **context)
    return html_response(
        "calls.html", cache_banners=data_banners(context["calls_available"]), **context
    )
