"""Start a scan, or join the one that is running, honouring market hours."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..market.calendar import NY, is_market_open, next_open
from .engine import ProgressListener, ScanSummary

if TYPE_CHECKING:
    from ..services import Scanner

MARKET_CLOSED_MESSAGE = (
    "Market is closed. Scans only run during market hours (9:30 AM - 4:00 PM ET). Next open: {}."
)


class Outcome(enum.Enum):
    """What a scan request did."""

    STARTED = "started"
    JOINED = "joined"
    MARKET_CLOSED = "market_closed"
    NO_WORKER = "no_worker"


@dataclass(frozen=True)
class Launch:
    """What a scan request did, and the scan it started or joined."""

    outcome: Outcome
    scan_id: str | None = None
    message: str = ""
    summary: ScanSummary | None = None


def market_closed_message(now: datetime) -> str:
    """The "Last scan" message for a scan refused because the market is closed."""
    return MARKET_CLOSED_MESSAGE.format(
        next_open(now).astimezone(NY).strftime("%a %b %d %I:%M %p ET")
    )


def launch_scan(
    scanner: Scanner, *, force: bool = False, foreground: ProgressListener | None = None
) -> Launch:
    """Start exactly one scan across all processes, or join the running one.

    In production the market must be open unless ``force``. With ``foreground`` and an
    in-process executor the scan runs in the caller's thread, reporting progress to it;
    otherwise the scanner's executor runs it and this returns at once (``summary`` None).
    Raises CacheUnavailable when Redis is down.
    """
    now = scanner.clock()
    if scanner.enforces_market_hours and not force and not is_market_open(now):
        message = market_closed_message(now)
        scanner.store.set_last_run(message)
        return Launch(Outcome.MARKET_CLOSED, message=message)
    running = scanner.store.lock_owner()
    if running is not None:
        return Launch(Outcome.JOINED, scan_id=running)
    reason = scanner.executor.unavailable_reason()
    if reason is not None:
        return Launch(Outcome.NO_WORKER, message=reason)
    scan_id = uuid.uuid4().hex
    if not scanner.store.acquire_lock(scan_id):
        return Launch(Outcome.JOINED, scan_id=scanner.store.lock_owner())
    engine = scanner.engine()
    if foreground is not None and scanner.executor.in_process:
        summary = engine.run(scan_id, foreground)
        return Launch(Outcome.STARTED, scan_id, summary.message, summary)
    try:
        scanner.executor.start(engine, scan_id)
    except Exception as error:
        engine.fail(scan_id, error)
        engine.release(scan_id)
        raise
    return Launch(Outcome.STARTED, scan_id)
