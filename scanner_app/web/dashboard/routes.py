"""The dashboard: the results page, its Calls tab, and the Scan button with its status poll.

``GET /`` is the page (for htmx, only the results, with the canonical URL to push);
``GET /calls`` is the Calls tab.

Starting a scan from the browser and following its progress with htmx polling:

``POST /scan`` answers at once with the status fragment. While a scan runs that fragment
polls ``GET /scan/status?v=<version>&at=<when rendered>``, taking along the view (filters,
sort, page) and the tickers its table shows:
- an unchanged version gets 204 and htmx keeps the page (one Redis round trip);
- a new version gets the progress, plus out-of-band swaps for just the rows of the shown
  page that were added, changed or moved since that version (``table_diff``);
- once the scan has ended the fragment comes back without its trigger, so polling stops.
A fragment older than half of ``SCAN_DEAD_SECONDS`` also needs the scan's heartbeat,
read in the same round trip, to be fresh; else the whole status is read again, so a scan
whose process died is reported as interrupted, instead of polling for ever.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request, url_for

from ...redis_door import CacheUnavailable
from ...scan.launch import Outcome, launch_scan
from ...scan.liveness import beating
from ...scan.store import Status
from ...screens.query import MAX_PER_PAGE, parse_filters
from ...services import Scanner, current_scanner
from ...watchlist import normalize_symbol
from ..auth.sessions import check_session, session_keys, verify_session
from ..display import data_banners, market_opens, scan_waits
from ..error_pages import error_response
from ..fragments import html_response, wants_fragment
from ..scope import scope_args
from .calls_tab import calls_context
from .listing import ResultsPage
from .results import results_context, results_page
from .scan_status import ScanStatus, scan_status, unavailable_status
from .table_diff import plan_table

log = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__)

SCAN_NOT_STARTED = "The scan was not started: {reason}."
DATA_LOST_NOTE = (
    "Redis has lost the results since this page was loaded (restarted without persistence, "
    "or keys evicted)."
)
STARTED_NOTE = "Scan started."
JOINED_NOTE = "A scan is already running; showing its progress."

_WHOLE_NUMBER = re.compile(r"\d{1,18}", re.ASCII)
_WHOLE_NUMBER_BYTES = re.compile(rb"\d{1,18}")
#: The poll's own arguments in a raw query string: the first of each, undecoded.
_POLL_ARGS = {name: re.compile(rb"(?:^|&)" + name.encode() + rb"=([^&]*)") for name in ("v", "at")}


def _whole_arg(name: str) -> int | None:
    """The query or form argument ``name`` as a non-negative integer, or None."""
    raw = request.values.get(name, "")
    return int(raw) if _WHOLE_NUMBER.fullmatch(raw) else None


def _whole_query_arg(name: str) -> int | None:
    """The poll's query argument ``name`` (``v`` or ``at``), as ``_whole_arg`` reads it,
    found in the raw query string: a poll answered 204 never parses the rest (the view and
    the shown tickers). A query with escapes is left to the full parse."""
    query = request.query_string
    if b"%" in query or b"+" in query:
        return _whole_arg(name)
    found = _POLL_ARGS[name].search(query)
    raw = found.group(1) if found else b""
    return int(raw) if _WHOLE_NUMBER_BYTES.fullmatch(raw) else None


def _shown_symbols() -> list[str]:
    """The tickers the browser's table shows, in order (``s``, repeated), checked."""
    shown: dict[str, None] = {}
    for raw in request.args.getlist("s")[:MAX_PER_PAGE]:
        symbol = normalize_symbol(raw)
        if symbol is not None:
            shown[symbol] = None
    return list(shown)


@bp.get("/")
def index() -> Response:
    """The dashboard; for htmx, only the results (and the canonical URL to push)."""
    if wants_fragment():
        page = results_page(request.args)
        response = html_response("partials/filtered.html", **results_context(page))
        query = urlencode(page.filters.query_args() | scope_args(request.args))
        response.headers["HX-Push-Url"] = f"{request.path}?{query}" if query else request.path
        return response
    # The status first: the table is then at least as new as the version the poll carries.
    status = scan_status(current_scanner().status())
    page = results_page(request.args)
    return html_response("index.html", status=status, **results_context(page))


@bp.get("/calls")
def calls() -> Response:
    """The Calls tab, a view of its own: the filtered, sorted calls, re-read while a scan
    runs. For htmx: the calls and the form out of band (a filter or sort); with ``v``, a
    poll: 204 while the running scan's version is still ``v``, else the calls alone."""
    filters, messages = parse_filters(request.args)
    known = _whole_arg("v")
    if wants_fragment() and known is not None:
        status = current_scanner().status()
        if status.available and status.state == "running" and status.version == known:
            return Response(status=204)
    context = calls_context(filters, messages)
    if wants_fragment():
        template = "partials/calls.html" if known is not None else "partials/calls_filtered.html"
        response = html_response(template, **context)
        if known is None:
            query = urlencode(filters.calls_args())
            response.headers["HX-Push-Url"] = f"{request.path}?{query}" if query else request.path
        return response
    return html_response(
        "calls.html", cache_banners=data_banners(context["calls_available"]), **context
    )


def _status_fragment(status: ScanStatus, code: int = 200) -> Response:
    return html_response("partials/status.html", code, status=status)


@bp.post("/scan")
def start() -> Response:
    """Start a scan or join the running one; answer with the status fragment at once.

    Without htmx, redirect to the dashboard. Redis down or refusing writes, no worker
    running with ``SCAN_EXECUTOR=rq``, or the market closed in production: nothing started
    and nothing stored, and the fragment (or a 503 page, or the page's banner) says why.
    """
    scanner = current_scanner()
    try:
        launch = launch_scan(scanner)
    except CacheUnavailable as error:
        log.warning("scan not started, cache unavailable: %s", error)
        message = SCAN_NOT_STARTED.format(reason=error)
        if not wants_fragment():
            return error_response(503, "Service unavailable", message)
        return _status_fragment(scan_status(scanner.store.read_status(), note=message), 503)
    if launch.outcome is Outcome.NO_WORKER:
        if not wants_fragment():
            return error_response(503, "No scan worker", launch.message)
        return _status_fragment(scan_status(scanner.status(), note=launch.message))
    if not wants_fragment():
        return redirect(url_for("dashboard.index"), 303)
    if launch.outcome is Outcome.MARKET_CLOSED:  # the last scan's line stays; the note says why
        return _status_fragment(scan_status(scanner.store.read_status(), note=launch.message))
    note = STARTED_NOTE if launch.outcome is Outcome.STARTED else JOINED_NOTE
    status = scan_status(scanner.store.read_status(), note=note)
    # Poll from the version the page shows, so the first poll brings what changed since.
    return _status_fragment(replace(status, poll=True, version=_whole_arg("v")))


def _unchanged(scanner: Scanner, known: int | None, recent: bool) -> Response | Status | None:
    """204 when nothing changed since ``known``; else the status when it was read.

    One round trip reads the version and, in production, the session. A recent fragment
    trusts the version; an older one also reads the lock and the heartbeat, which must
    show the scan alive, else the whole status is read (reporting a dead scan).
    """
    if known is None:
        return verify_session()
    answer = scanner.store.read_pulse(*session_keys(), heartbeat=not recent)
    if answer is None:
        return _status_fragment(unavailable_status(poll=True))
    pulse, session_values = answer
    refusal = check_session(session_values)
    if refusal is not None or pulse.version != known:
        return refusal
    dead_after = scanner.settings["SCAN_DEAD_SECONDS"]
    if recent or beating(pulse.running_scan, pulse.heartbeat, scanner.clock(), dead_after):
        return Response(status=204)
    status = scanner.status()
    if status.available and status.state == "running" and status.version == known:
        return Response(status=204)
    return status


@bp.get("/scan/status")
def status() -> Response:
    """The polling fragment: 204 while nothing changed, the changed rows when something did.

    Redis down: the unavailable message, still polling at the normal interval, so the
    page recovers by itself when Redis is back.
    """
    scanner = current_scanner()
    known, rendered_at = _whole_query_arg("v"), _whole_query_arg("at")
    now = int(scanner.clock().timestamp())
    recheck = scanner.settings["SCAN_DEAD_SECONDS"] / 2
    recent = rendered_at is not None and 0 <= now - rendered_at < recheck
    answer = _unchanged(scanner, known, recent)
    if isinstance(answer, Response):
        return answer
    status = answer or scanner.status()
    if not status.available:
        return _status_fragment(unavailable_status(poll=True))
    page = results_page(request.args)
    return _poll_response(status, page, known)


def _data_lost_note() -> str:
    """``DATA_LOST_NOTE`` and how to fetch the results again: press Scan, or while the
    market is closed (production) when a scan can run."""
    opens = market_opens(current_scanner())
    fetch = scan_waits(opens) if opens else "Press Scan to fetch them again."
    return f"{DATA_LOST_NOTE} {fetch}"


def _poll_response(status: Status, page: ResultsPage, known: int | None) -> Response:
    """Fresh status, and what the shown table needs, swapped out of band."""
    shown = _shown_symbols()
    lost = known is not None and status.version < known  # the browser's table is no base
    whole_table = (
        known is None
        or lost
        or not (shown and page.symbols and page.available)
        or bool(page.messages)
    )
    changed = {symbol for symbol, at in page.changed_at.items() if known is None or at > known}
    plan = None if whole_table else plan_table(shown, page.symbols, changed)
    context = results_context(page)
    return html_response(
        "partials/poll.html",
        # results that expired are said so by the status line, not blamed on Redis
        status=scan_status(status, note=_data_lost_note() if lost and not status.expired else None),
        plan=plan,
        summaries={summary.symbol: summary for summary in page.summaries},
        send_meta=whole_table or _whole_arg("n") != page.listed,
        send_banners=whole_table or status.state != "running",
        **context,
    )
