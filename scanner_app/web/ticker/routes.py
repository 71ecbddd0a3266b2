"""A ticker's drilldown: its puts by expiration or in one table, a chart, and its covered calls.

Asked for by htmx (``HX-Request``, not a history restore: a dashboard line's Puts button), the
page is only its fragment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from itertools import groupby
from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy.exc import SQLAlchemyError

from ...db import describe_database_error
from ...scan.store import NEVER_RUN_MESSAGE
from ...screens.badges import strike_badge
from ...screens.query import ResultFilters, parse_filters
from ...screens.row_filters import filter_rows
from ...services import current_scanner
from ...watchlist import normalize_symbol
from ..columns import PUTS
from ..criteria_text import criteria_sentence
from ..display import data_banners, last_run_text, market_opens
from ..error_pages import error_response
from ..fair_value_book import FairValueBook
from ..fragments import html_response, wants_fragment
from ..history_body import history_body
from ..own_watchlist import is_watched, own_rows, own_watchlist
from .chart import put_chart
from .history_chart import history_chart
from .sizing import position, sizing_cash

bp = Blueprint("ticker", __name__)

MAX_SHOWN_INPUT = 100


@dataclass(frozen=True)
class ExpirationGroup:
    """The puts of one expiration, each with its fair-value badge, and the earnings date
    when the expiration is on or after it."""

    expiration: str
    dte: Any
    rows: list[tuple[Mapping[str, Any], str]]
    earnings_date: str | None = None


def _badged(
    rows: list[Mapping[str, Any]], fair_value: float | None
) -> list[tuple[Mapping[str, Any], str]]:
    """Each row with its strike's fair-value badge."""
    return [(row, strike_badge(row.get("strike"), fair_value)) for row in rows]


def _groups(
    rows: list[Mapping[str, Any]], fair_value: float | None, filters: ResultFilters
) -> list[ExpirationGroup]:
    """``rows`` by expiration (earliest first), each sorted as ``filters`` say (by default
    highest strike first)."""

    def expiration(row: Mapping[str, Any]) -> str:
        return str(row.get("expiration"))

    groups = []
    for _day, members in groupby(sorted(rows, key=expiration), key=expiration):
        members = PUTS.sort_rows(members, filters.put_sort, filters.put_direction)
        badged = _badged(members, fair_value)
        first = members[0]
        earnings = (
            first.get("earnings_date") if first.get("earnings_before_expiry") is True else None
        )
        groups.append(ExpirationGroup(expiration(first), first.get("dte"), badged, earnings))
    return groups


def _history_context(symbol: str) -> dict[str, Any]:
    """The ticker's stored history for its page: the figures, the chart, or why not."""
    scanner = current_scanner()
    if not scanner.history_on:
        return {"history": None}
    try:
        days = scanner.history.days(symbol)
    except SQLAlchemyError as error:
        return {"history": None, "history_error": describe_database_error(error)}
    if not days:
        return {"history": None}
    return {"history": history_body(symbol, days), "history_chart": history_chart(symbol, days)}


@bp.get("/ticker/<path:symbol>")
def ticker(symbol: str) -> Response:
    """One ticker's puts grouped by expiration, with a chart; 404 if not in the watchlist."""
    scanner = current_scanner()
    normalized = normalize_symbol(symbol)
    if normalized is None or not is_watched(normalized):
        shown = symbol if len(symbol) <= MAX_SHOWN_INPUT else symbol[:MAX_SHOWN_INPUT] + "…"
        return error_response(404, "Ticker not found", f"“{shown}” is not in the watchlist.")
    read = scanner.reader.read_ticker(normalized)
    view = replace(read, calls=own_rows(normalized, read.calls))
    filters, messages = parse_filters(request.args)
    own = own_watchlist()
    fair = FairValueBook(own.watchlist, scanner.reader).describe(normalized)
    fair_value = fair.value
    rows = filter_rows(view.options, filters, fair_value)
    cash = sizing_cash(filters.cash, own.cash(scanner.settings["CASH_AVAILABLE"]))
    flat = filters.layout == "table"
    context = {
        "symbol": normalized,
        "view": view,
        "last_run": last_run_text(view.last_run_facts, view.last_run or NEVER_RUN_MESSAGE),
        "spot": next((row.get("spot") for row in view.options), None),
        "fair_value": fair_value,
        "fair": fair,
        "groups": [] if flat else _groups(rows, fair_value, filters),
        "flat_rows": _badged(
            PUTS.sort_rows(rows, filters.put_sort, filters.put_direction), fair_value
        )
        if flat
        else [],
        "cash": cash,
        "position": partial(position, cash=cash),
        "criteria_text": criteria_sentence(
            scanner.criteria, filters, today=scanner.clock(), cash=cash
        ),
        "standalone": not wants_fragment(),
        "shown": len(rows),
        "total": len(view.options),
        "filters": filters,
        "filter_messages": messages,
        "chart": put_chart(normalized, rows, fair_value),
        "market_opens": market_opens(scanner),
        **_history_context(normalized),
    }
    if wants_fragment():
        return html_response("partials/ticker_detail.html", **context)
    return html_response("ticker.html", cache_banners=data_banners(view.available), **context)
