"""The JSON API, the CSV download and the health check: read-only views of the cached scan.

``/api/scan`` reads only the status keys and ``/healthz`` only pings Redis (see
``health``): O(1), whatever the watchlist.
``/api/options`` and ``/options.csv`` stream every row, a batch of tickers at a time, so
their memory does not grow with the result; ``side=call`` streams the covered calls instead
of the puts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, jsonify, request, stream_with_context
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from ...db import describe_database_error
from ...market.calendar import market_today
from ...redis_door import CacheUnavailable
from ...scan.store import Progress, Status
from ...screens.query import ResultFilters, parse_filters, parse_side
from ...screens.row_filters import filter_rows
from ...services import current_scanner
from ...watchlist import normalize_symbol
from ..columns import Table, shown_tables
from ..display import expired_text, market_opens
from ..error_pages import error_response
from ..fair_value_book import FairValueBook
from ..history_body import history_body
from ..json_errors import json_error, json_http_error
from ..own_watchlist import is_watched, own_rows, own_watchlist, shown_rows
from ..scope import wants_everyone
from .csv_rows import csv_lines
from .health import health_report, live_workers

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__)

#: The longest unknown symbol an error message repeats.
MAX_SHOWN_SYMBOL = 100


def _table(side: str) -> Table:
    """The table the rows of ``side`` belong to (the fields of their JSON and their CSV
    columns), with the history's columns while ``HISTORY`` is on."""
    return shown_tables(current_scanner().history_on)[side]


# Per code as well: the app's per-code HTML error pages would otherwise take precedence.
for _error in (400, 404, 405, 500, HTTPException):
    bp.register_error_handler(_error, json_http_error)


def _progress_json(progress: Progress | None) -> dict[str, Any] | None:
    if progress is None:
        return None
    return {
        "done": progress.done,
        "total": progress.total,
        "percent": progress.percent,
        "current": progress.current,
        "failed": progress.failed,
    }


@bp.get("/api/scan")
def scan_status() -> Response:
    """The scan state: idle or running, how the last scan ended (``outcome``), its progress
    and times, and the data version. 503 with the reason when Redis cannot be read: no
    state is made up."""
    scanner = current_scanner()
    status: Status = scanner.status()
    if not status.available:
        response = jsonify(error=status.unavailable_reason, cache_available=False)
        response.status_code = 503
        return response
    progress = status.current_progress
    ended = status.state == "idle" and status.facts is not None
    return jsonify(
        executor=scanner.settings["SCAN_EXECUTOR"],
        workers=live_workers(scanner),
        state=status.state,
        outcome=status.facts.outcome if ended else None,
        scan_id=status.running_scan or (progress.scan_id if progress else None),
        progress=_progress_json(progress),
        last_run=(
            expired_text(status.expired, market_opens(scanner))
            if status.expired
            else status.last_run
        ),
        last_run_facts=asdict(status.facts) if status.facts else None,
        started_at=progress.started_at if progress else None,
        finished_at=progress.finished_at if progress else None,
        version=status.version,
        cache_available=status.available,
    )


def _filtered(
    tickers: Iterator[tuple[str, list[dict[str, Any]]]], filters: ResultFilters, side: str
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The rows of ``tickers`` (of ``side``) that pass ``filters``; tickers left without
    rows drop out."""
    scanner = current_scanner()
    fair_values = FairValueBook(own_watchlist().watchlist, scanner.reader)
    by_value = filters.at_or_below_fair_value and side == "put"
    if by_value:  # every scanned ticker's, in one round trip
        fair_values.prime(scanner.reader.read_hash("scan_times"))
    for symbol, rows in tickers:
        fair_value = fair_values(symbol) if by_value else None
        kept = filter_rows(rows, filters, fair_value, side)
        if kept:
            yield symbol, kept


def _json_chunks(filters: ResultFilters, messages: list[str], side: str) -> Iterator[str]:
    """``/api/options`` as JSON text, one ticker at a time; cut short if Redis fails."""
    scanner = current_scanner()
    reader = scanner.reader
    table = _table(side)
    try:  # fail before the first byte when Redis is down or a key is of the wrong type
        scan_times, errors = reader.read_hash("scan_times"), reader.read_hash("errors")
        partial = reader.read_partial()
        tickers = shown_rows(side, wants_everyone(request.args))
    except CacheUnavailable:
        yield json.dumps(
            {
                "options": {},
                "scan_times": {},
                "errors": {},
                "stale": {},
                "partial_expirations": {},
                "last_run": None,
                "side": side,
                "filters": asdict(filters),
                "messages": messages,
                "cache_available": False,
            }
        )
        return
    yield '{"options":{'
    stale = []
    try:
        for index, (symbol, rows) in enumerate(_filtered(tickers, filters, side)):
            yield (
                ("," if index else "")
                + json.dumps(symbol)
                + ":"
                + json.dumps(list(map(table.json_row, rows)))
            )
            if symbol in errors:
                stale.append(symbol)
    except CacheUnavailable as error:
        log.warning("options stream cut short: %s", error)
        return  # the client sees invalid JSON, never a silently partial answer
    status = scanner.store.read_status()
    yield (
        "},"
        + json.dumps(
            {
                "scan_times": scan_times,
                "errors": errors,
                "stale": {symbol: scan_times.get(symbol) for symbol in stale},
                "partial_expirations": partial,
                "last_run": status.last_run,
                "side": side,
                "filters": asdict(filters),
                "messages": messages,
                "cache_available": True,
            }
        )[1:]
    )


@bp.get("/api/options")
def options() -> Response:
    """Every ticker's qualifying puts (``side=call``: covered calls), filtered like the
    dashboard, with scan times, errors, stale tickers (with the time their rows were
    fetched) and partial ones."""
    side = parse_side(request.args)
    filters, messages = parse_filters(request.args)
    return Response(
        stream_with_context(_json_chunks(filters, messages, side)), mimetype="application/json"
    )


@bp.get("/api/options/<symbol>")
def ticker_options(symbol: str) -> Response:
    """One watched ticker's puts (``side=call``: covered calls), scan time, error,
    staleness and failed expirations, read from its own fields."""
    side = parse_side(request.args)
    scanner = current_scanner()
    normalized = normalize_symbol(symbol)
    if normalized is None:
        return json_error("Not a valid ticker symbol (1-10 of A-Z, 0-9, '.' or '-').", 404)
    if not is_watched(normalized):
        return json_error(f"{normalized} is not in the watchlist.", 404)
    view = scanner.reader.read_ticker(normalized)
    rows = own_rows(normalized, view.calls) if side == "call" else view.options
    fair = FairValueBook(own_watchlist().watchlist, scanner.reader).describe(normalized)
    return jsonify(
        symbol=normalized,
        side=side,
        fair_value=fair.value,
        fair_value_estimate=fair.estimate.to_dict() if fair.estimate else None,
        options=[_table(side).json_row(row) for row in rows],
        scanned_at=view.scanned_at,
        error=view.error,
        stale=view.stale,
        partial_expirations=view.partial_expirations,
        cache_available=view.available,
    )


def _stale_marked(
    tickers: Iterator[tuple[str, list[dict[str, Any]]]], errors: dict[str, str]
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """``tickers`` with ``stale`` on each row: whether its ticker's latest fetch failed
    (it has an error in ``errors``), so the row is an earlier scan's."""
    for symbol, rows in tickers:
        yield symbol, [{**row, "stale": symbol in errors} for row in rows]


def _one_ticker(symbol: str, side: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The rows of ``side`` of one ticker, as ``stream_rows`` gives them; raises
    CacheUnavailable when Redis fails."""
    view = current_scanner().reader.read_ticker(symbol)
    if not view.available:
        raise CacheUnavailable("Redis did not answer")
    rows = own_rows(symbol, view.calls) if side == "call" else view.options
    return iter([(symbol, rows)] if rows else [])


def _csv_stream(filters: ResultFilters, side: str, symbol: str | None) -> Iterator[str]:
    """The CSV's lines: the header even when Redis fails, before the rows or among them."""

    everyone = wants_everyone(request.args)

    def tickers() -> Iterator[tuple[str, list[dict[str, Any]]]]:
        reader = current_scanner().reader  # read only once the header is out
        errors = reader.read_hash("errors")
        if symbol is None:
            rows = shown_rows(side, everyone)
        else:
            rows = _one_ticker(symbol, side)
        yield from _stale_marked(_filtered(rows, filters, side), errors)

    try:
        yield from csv_lines(tickers(), _table(side))
    except CacheUnavailable as error:
        log.warning("CSV stream cut short: %s", error)


def csv_filename(side: str, symbol: str | None) -> str:
    """``puts-2026-12-05.csv``: the side, the ticker when there is one, and today (New
    York)."""
    day = market_today(current_scanner().clock()).isoformat()
    return "-".join([f"{side}s", *([symbol] if symbol else []), day]) + ".csv"


@bp.get("/options.csv")
def options_csv() -> Response:
    """The current, filtered puts (``side=call``: covered calls) as a CSV download,
    streamed; ``symbol`` limits it to one watched ticker."""
    side = parse_side(request.args)
    filters, _messages = parse_filters(request.args)
    symbol = None
    raw = request.args.get("symbol")
    if raw is not None:
        symbol = normalize_symbol(raw)
        if symbol is None or not is_watched(symbol):
            shown = raw if len(raw) <= MAX_SHOWN_SYMBOL else raw[:MAX_SHOWN_SYMBOL] + "…"
            return error_response(404, "Ticker not found", f"“{shown}” is not in the watchlist.")
    filename = csv_filename(side, symbol)
    return Response(
        stream_with_context(_csv_stream(filters, side, symbol)),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@bp.get("/api/history/<symbol>")
def ticker_history(symbol: str) -> tuple[Response, int] | Response:
    """Every stored day of one ticker (oldest first, values as stored), with its IV rank and
    percentile over the last 252 days with an IV30; 404 when it has no history."""
    normalized = normalize_symbol(symbol)
    if normalized is None:
        return json_error("Not a valid ticker symbol (1-10 of A-Z, 0-9, '.' or '-').", 404)
    try:
        days = current_scanner().history.days(normalized)
    except SQLAlchemyError as error:
        return json_error(f"History unavailable: {describe_database_error(error)}.", 503)
    if not days:
        return json_error(f"No history is stored for {normalized}.", 404)
    return jsonify(history_body(normalized, days))


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when Redis answers (``degraded`` when it may evict keys), 503 when it does not;
    public, for load balancers."""
    body, code = health_report(current_scanner())
    return jsonify(body), code
