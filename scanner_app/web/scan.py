"""Starting a scan from the browser and following its progress with htmx polling.

``POST /scan`` answers at once with the status fragment. While a scan runs that fragment
polls ``GET /scan/status?v=<version>&at=<when rendered>``: an unchanged version gets 204
(htmx keeps the fragment), a new one gets fresh progress plus the results and banners as
out-of-band swaps; once the scan has ended the fragment comes back without its trigger,
so polling stops. A fragment older than ``FULL_REFRESH_SECONDS`` is always re-rendered,
so a scan whose worker died (its lock expiring without a write) cannot poll forever.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from flask import Blueprint, Response, redirect, request, url_for

from ..scan.launch import launch_scan
from ..scan.store import UNAVAILABLE_MESSAGE, CacheUnavailable, Snapshot
from ..services import current_scanner
from .display import data_banners
from .pages import (
    ScanStatus,
    error_response,
    html_response,
    results_context,
    scan_status,
    wants_fragment,
)

log = logging.getLogger(__name__)

bp = Blueprint("scan", __name__)

FULL_REFRESH_SECONDS = 30
SCAN_NOT_STARTED = "The scan was not started: " + UNAVAILABLE_MESSAGE
STARTED_NOTE = "Scan started."
JOINED_NOTE = "A scan is already running; showing its progress."

_WHOLE_NUMBER = re.compile(r"\d{1,18}", re.ASCII)


def _whole_arg(name: str) -> int | None:
    """The query argument ``name`` as a non-negative integer, or None."""
    raw = request.args.get(name, "")
    return int(raw) if _WHOLE_NUMBER.fullmatch(raw) else None


def _status_fragment(status: ScanStatus, code: int = 200) -> Response:
    return html_response("partials/status.html", code, status=status)


def _unavailable_status(note: str | None = None, *, poll: bool) -> ScanStatus:
    now = int(current_scanner().clock().timestamp())
    return ScanStatus("unavailable", UNAVAILABLE_MESSAGE, note=note, poll=poll, rendered_at=now)


@bp.post("/scan")
def start() -> Response:
    """Start a scan or join the running one; answer with the status fragment at once.

    Without htmx, redirect to the dashboard. Redis down: 503, nothing started.
    """
    scanner = current_scanner()
    try:
        launch = launch_scan(scanner)
    except CacheUnavailable as error:
        log.warning("scan not started, cache unavailable: %s", error)
        if not wants_fragment():
            return error_response(503, "Service unavailable", SCAN_NOT_STARTED)
        return _status_fragment(_unavailable_status(SCAN_NOT_STARTED, poll=False), 503)
    if not wants_fragment():
        return redirect(url_for("pages.index"), 303)
    if launch.outcome == "market_closed":
        status = ScanStatus("idle", launch.message, rendered_at=int(scanner.clock().timestamp()))
        return _status_fragment(status)
    note = STARTED_NOTE if launch.outcome == "started" else JOINED_NOTE
    status = scan_status(scanner.store.read_snapshot(), note=note)
    # Poll without a version: the first poll renders, even if the scan has already ended.
    return _status_fragment(replace(status, poll=True, version=None))


def _poll_response(snapshot: Snapshot) -> Response:
    """Fresh status, with the results and banners swapped out of band."""
    return html_response(
        "partials/poll.html",
        status=scan_status(snapshot),
        cache_banners=data_banners(snapshot.available, snapshot.errors),
        **results_context(snapshot, request.args),
    )


@bp.get("/scan/status")
def status() -> Response:
    """The polling fragment: 204 while nothing changed, the final fragment once the scan ends.

    Redis down: the unavailable message, still polling at the normal interval, so the
    page recovers by itself when Redis is back.
    """
    scanner = current_scanner()
    known_version, rendered_at = _whole_arg("v"), _whole_arg("at")
    now = int(scanner.clock().timestamp())
    recent = rendered_at is not None and 0 <= now - rendered_at < FULL_REFRESH_SECONDS
    if known_version is not None and recent:
        version = scanner.store.read_version()
        if version is None:
            return _status_fragment(_unavailable_status(poll=True))
        if version == known_version:
            return Response(status=204)
    snapshot = scanner.store.read_snapshot()
    if not snapshot.available:
        return _status_fragment(_unavailable_status(poll=True))
    return _poll_response(snapshot)
