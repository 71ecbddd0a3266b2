"""The HTML pages: the dashboard, a ticker's drilldown, and the error pages.

A page asked for by htmx (``HX-Request``, not a history restore) gets only its fragment.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, make_response, render_template, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from ..scan.store import UNAVAILABLE_MESSAGE, CacheUnavailable, Progress, Snapshot
from ..services import current_scanner
from ..watchlist import normalize_symbol
from .chart import put_chart
from .display import data_banners
from .filters import (
    apply_filters,
    filter_rows,
    parse_filters,
    sort_summaries,
    strike_badge,
    summarize,
)

log = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)

MAX_SHOWN_INPUT = 100
NOT_FOUND_MESSAGE = "There is no page at this address."
SERVER_ERROR_MESSAGE = "Something went wrong on our side. Please try again in a moment."
MINIMAL_ERROR_PAGE = "<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>"


def wants_fragment() -> bool:
    """Whether htmx asked for a fragment (a history restore wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def html_response(template: str, http_status: int = 200, **context: Any) -> Response:
    """``template`` rendered, varying with the htmx headers (it may be a page or a fragment)."""
    response = make_response(render_template(template, **context), http_status)
    response.vary.update(("HX-Request", "HX-History-Restore-Request"))
    return response


def results_context(snapshot: Snapshot, args: Mapping[str, str]) -> dict[str, Any]:
    """What ``partials/results.html`` shows: the filtered, sorted summary per ticker."""
    filters, messages = parse_filters(args)
    summaries = summarize(
        apply_filters(snapshot.options, filters),
        snapshot.scan_times,
        snapshot.errors,
        current_scanner().watchlist.fair_value,
    )
    return {
        "filters": filters,
        "filter_messages": messages,
        "summaries": sort_summaries(summaries, filters),
        "put_count": sum(summary.puts for summary in summaries),
        "has_results": bool(snapshot.options),
        "available": snapshot.available,
    }


@dataclass(frozen=True)
class ScanStatus:
    """What ``partials/status.html`` shows about scanning."""

    state: str  # running | idle | unavailable
    last_run: str
    progress: Progress | None = None
    note: str | None = None
    poll: bool = False
    version: int | None = None
    rendered_at: int = 0


def scan_status(snapshot: Snapshot, *, note: str | None = None) -> ScanStatus:
    """The status fragment's content for ``snapshot``; it polls while a scan runs."""
    rendered_at = int(current_scanner().clock().timestamp())
    if not snapshot.available:
        return ScanStatus("unavailable", UNAVAILABLE_MESSAGE, note=note, rendered_at=rendered_at)
    progress = snapshot.progress
    if snapshot.running_scan and progress and progress.scan_id != snapshot.running_scan:
        progress = None  # the new scan has not published yet; this is the previous one's
    return ScanStatus(
        state=snapshot.state,
        last_run=snapshot.last_run,
        progress=progress,
        note=note,
        poll=snapshot.state == "running",
        version=snapshot.version,
        rendered_at=rendered_at,
    )


@bp.get("/")
def index() -> Response:
    """The dashboard; for htmx, only the results (and the canonical URL to push)."""
    snapshot = current_scanner().store.read_snapshot()
    results = results_context(snapshot, request.args)
    if wants_fragment():
        response = html_response("partials/filtered.html", **results)
        query = urlencode(results["filters"].query_args())
        response.headers["HX-Push-Url"] = f"{request.path}?{query}" if query else request.path
        return response
    return html_response(
        "index.html",
        status=scan_status(snapshot),
        cache_banners=data_banners(snapshot.available, snapshot.errors),
        **results,
    )


@dataclass(frozen=True)
class ExpirationGroup:
    """The puts of one expiration, each with its fair-value badge."""

    expiration: str
    dte: Any
    rows: list[tuple[Mapping[str, Any], str]]


def _groups(rows: list[Mapping[str, Any]], fair_value: float | None) -> list[ExpirationGroup]:
    """``rows`` by expiration (earliest first), highest strike first within each."""

    def order(row: Mapping[str, Any]) -> tuple[str, float]:
        strike = row.get("strike")
        return str(row.get("expiration")), -strike if isinstance(strike, int | float) else 0.0

    groups = []
    by_expiration = groupby(sorted(rows, key=order), key=lambda row: str(row.get("expiration")))
    for expiration, members in by_expiration:
        members = list(members)
        badged = [(row, strike_badge(row.get("strike"), fair_value)) for row in members]
        groups.append(ExpirationGroup(expiration, members[0].get("dte"), badged))
    return groups


@bp.get("/ticker/<path:symbol>")
def ticker(symbol: str) -> Response:
    """One ticker's puts grouped by expiration, with a chart; 404 if not in the watchlist."""
    scanner = current_scanner()
    normalized = normalize_symbol(symbol)
    if normalized is None or normalized not in scanner.watchlist:
        shown = symbol if len(symbol) <= MAX_SHOWN_INPUT else symbol[:MAX_SHOWN_INPUT] + "…"
        return error_response(404, "Ticker not found", f"“{shown}” is not in the watchlist.")
    view = scanner.store.read_ticker(normalized)
    filters, messages = parse_filters(request.args)
    all_rows = [row for row in view.options if isinstance(row, Mapping)]
    rows = filter_rows(all_rows, filters)
    fair_value = scanner.watchlist.fair_value(normalized)
    spot = next((row.get("spot") for row in all_rows), None)
    context = {
        "symbol": normalized,
        "view": view,
        "spot": spot,
        "fair_value": fair_value,
        "groups": _groups(rows, fair_value),
        "shown": len(rows),
        "total": len(all_rows),
        "filters": filters,
        "filter_messages": messages,
        "chart": put_chart(normalized, rows, fair_value),
    }
    if wants_fragment():
        return html_response("partials/ticker_detail.html", **context)
    return html_response("ticker.html", cache_banners=data_banners(view.available, {}), **context)


def error_response(code: int, title: str, message: str) -> Response:
    """The error page (or, for htmx, a short alert fragment) with ``code``.

    Falls back to a minimal page when the templates themselves fail, so an error page
    never turns into a traceback.
    """
    template = "partials/error.html" if wants_fragment() else "error.html"
    try:
        return html_response(template, code, code=code, title=title, message=message)
    except Exception as error:  # the page that reports errors must not raise one itself
        log.error("could not render the %s page: %s", code, error)
        page = MINIMAL_ERROR_PAGE.format(title=escape(title), message=escape(message))
        return make_response(page, code)


def _http_error(error: HTTPException) -> Response:
    """A 4xx/5xx from routing or a view, with its headers (such as Allow on a 405)."""
    code = error.code or 500
    messages = {404: NOT_FOUND_MESSAGE, 500: SERVER_ERROR_MESSAGE}
    response = error_response(code, error.name, messages.get(code, error.description or ""))
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _server_error(error: InternalServerError) -> Response:
    """An unhandled exception: logged by Flask, shown as a plain apology."""
    return error_response(500, "Server error", SERVER_ERROR_MESSAGE)


def _cache_unavailable(error: CacheUnavailable) -> Response:
    """Redis failed where a view did not expect it: 503 with the standard message."""
    log.warning("cache unavailable: %s", error)
    return error_response(503, "Service unavailable", UNAVAILABLE_MESSAGE)


def register_error_pages(app: Flask) -> None:
    """Render HTTP errors, unhandled exceptions and a lost cache as the app's error page."""
    for code in (400, 404, 405):
        app.register_error_handler(code, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(CacheUnavailable, _cache_unavailable)
