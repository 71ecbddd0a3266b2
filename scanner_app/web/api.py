"""The JSON API, the CSV download and the health check: read-only views of the cached scan."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, fields
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..market.models import ScreenedPut
from ..scan.store import Progress, Snapshot
from ..services import current_scanner
from ..watchlist import normalize_symbol
from .filters import ResultFilters, apply_filters, parse_filters

bp = Blueprint("api", __name__)

CSV_FILENAME = "put-scanner-options.csv"
CSV_COLUMNS = tuple(field.name for field in fields(ScreenedPut))

#: A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_api_request() -> bool:
    """Whether the current request is for the API (answered in JSON, never HTML)."""
    return request.path.startswith("/api/") or request.path == "/options.csv"


def json_error(message: str, status: int) -> Response:
    """``{"error": message}`` with ``status``."""
    response = jsonify(error=message)
    response.status_code = status
    return response


def json_http_error(error: HTTPException) -> Response:
    """Any HTTP error inside an API view (a 500 included) as JSON."""
    response = json_error(error.description or error.name, error.code or 500)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


# Per code as well: the app's per-code HTML error pages would otherwise take precedence.
for _error in (400, 404, 405, 500, HTTPException):
    bp.register_error_handler(_error, json_http_error)


def json_routing_error() -> Response | None:
    """A ``before_request`` hook: an unknown API URL or method gets a JSON 404/405.

    Routing errors never reach blueprint error handlers, so they are caught here.
    """
    error = request.routing_exception
    if isinstance(error, HTTPException) and (error.code or 0) >= 400 and is_api_request():
        return json_http_error(error)
    return None


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


def _current_progress(snapshot: Snapshot) -> Progress | None:
    """The progress to report: while a scan runs, only its own (not the previous scan's)."""
    progress = snapshot.progress
    if snapshot.running_scan and progress and progress.scan_id != snapshot.running_scan:
        return None
    return progress


@bp.get("/api/scan")
def scan_status() -> Response:
    """The scan state: idle or running, its progress and times, and the data version."""
    snapshot = current_scanner().store.read_snapshot()
    progress = _current_progress(snapshot)
    return jsonify(
        state=snapshot.state,
        scan_id=snapshot.running_scan or (progress.scan_id if progress else None),
        progress=_progress_json(progress),
        last_run=snapshot.last_run,
        started_at=progress.started_at if progress else None,
        finished_at=progress.finished_at if progress else None,
        version=snapshot.version,
        cache_available=snapshot.available,
    )


def _filtered_results() -> tuple[
    Snapshot, dict[str, list[dict[str, Any]]], ResultFilters, list[str]
]:
    """The snapshot, its options after the query's filters, the filters and their messages."""
    filters, messages = parse_filters(request.args)
    snapshot = current_scanner().store.read_snapshot()
    return snapshot, apply_filters(snapshot.options, filters), filters, messages


@bp.get("/api/options")
def options() -> Response:
    """Every ticker's qualifying puts, filtered like the dashboard, with scan times and errors."""
    snapshot, filtered, filters, messages = _filtered_results()
    return jsonify(
        options=filtered,
        scan_times=snapshot.scan_times,
        errors=snapshot.errors,
        last_run=snapshot.last_run,
        filters=asdict(filters),
        messages=messages,
        cache_available=snapshot.available,
    )


@bp.get("/api/options/<symbol>")
def ticker_options(symbol: str) -> Response:
    """One watched ticker's puts, scan time and error, read from its own key."""
    scanner = current_scanner()
    normalized = normalize_symbol(symbol)
    if normalized is None:
        return json_error("Not a valid ticker symbol (1-10 of A-Z, 0-9, '.' or '-').", 404)
    if normalized not in scanner.watchlist:
        return json_error(f"{normalized} is not in the watchlist.", 404)
    view = scanner.store.read_ticker(normalized)
    return jsonify(
        symbol=normalized,
        fair_value=scanner.watchlist.fair_value(normalized),
        options=view.options,
        scanned_at=view.scanned_at,
        error=view.error,
        cache_available=view.available,
    )


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def csv_safe(value: Any) -> Any:
    """``value`` for a CSV cell: text a spreadsheet would run as a formula gets a leading "'".

    Numbers, and text that is a plain number such as "-1.5", are left as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _is_number(value):
        return "'" + value
    return value


def options_csv_text(options: dict[str, list[dict[str, Any]]]) -> str:
    """``options`` as CSV: a header of every ScreenedPut field, then a row per put, by ticker."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for _ticker, rows in sorted(options.items()):
        for row in rows:
            writer.writerow({column: csv_safe(row.get(column)) for column in CSV_COLUMNS})
    return buffer.getvalue()


@bp.get("/options.csv")
def options_csv() -> Response:
    """The current, filtered results as a CSV download."""
    _snapshot, filtered, _filters, _messages = _filtered_results()
    return Response(
        options_csv_text(filtered),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={CSV_FILENAME}"},
    )


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when Redis answers, 503 when it does not; public, for load balancers."""
    redis_up = current_scanner().store.ping()
    body = jsonify(status="ok" if redis_up else "unavailable", redis=redis_up)
    return body, 200 if redis_up else 503
