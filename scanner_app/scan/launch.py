"""Start a scan, or join the one that is running, honouring market hours.

A scan that died is not joined: the new scan takes its lock over, and reports it as
interrupted in the same step (see ``liveness``). A refused start (market closed, no worker,
Redis refusing writes) stores nothing: the last scan's record stays, and the answer says why.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from ..market.calendar import eastern_text, is_market_open, next_open
from ..redis_door import CacheUnavailable
from .engine import ProgressListener, ScanSummary
from .liveness import DeadScan, dead_scan, report_dead
from .parts import ScanParts
from .store import Status

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
    """Why a scan is refused while the market is closed, with the next open."""
    return MARKET_CLOSED_MESSAGE.format(eastern_text(next_open(now)))


def launch_scan(
    parts: ScanParts, *, force: bool = False, foreground: ProgressListener | None = None
) -> Launch:
    """Start exactly one scan across all processes, or join the running one (a dead one is
    taken over instead).

    In production the market must be open unless ``force``. With ``foreground`` and an
    in-process executor the scan runs in the caller's thread, reporting progress to it;
    otherwise the parts' executor runs it and this returns at once (``summary`` None).
    A refusal writes nothing. Raises CacheUnavailable when Redis is down or refuses writes.
    """
    now = parts.clock()
    if parts.enforces_market_hours and not force and not is_market_open(now):
        return Launch(Outcome.MARKET_CLOSED, message=market_closed_message(now))
    status = _read_status(parts)
    dead = dead_scan(parts, status)
    if status.running_scan is not None and dead is None:
        return Launch(Outcome.JOINED, scan_id=status.running_scan)
    reason = parts.executor.unavailable_reason()
    if reason is not None:
        return Launch(Outcome.NO_WORKER, message=reason)
    scan_id = uuid.uuid4().hex
    running = _take_lock(parts, scan_id, dead)
    if running is not None:
        return Launch(Outcome.JOINED, scan_id=running)
    engine = parts.engine()
    if foreground is not None and parts.executor.in_process:
        summary = engine.run(scan_id, foreground)
        return Launch(Outcome.STARTED, scan_id, summary.message, summary)
    try:
        parts.executor.start(engine, scan_id)
    except Exception as error:
        engine.fail(scan_id, error)
        engine.release(scan_id)
        raise
    return Launch(Outcome.STARTED, scan_id)


#: Tries at the lock when other callers keep changing it (one of them then runs a scan).
TAKE_ATTEMPTS = 3


def _read_status(parts: ScanParts) -> Status:
    status = parts.store.read_status()
    if not status.available:
        raise CacheUnavailable("the scan status could not be read")
    return status


def _take_lock(parts: ScanParts, scan_id: str, dead: DeadScan | None) -> str | None:
    """Take the lock for ``scan_id``, over ``dead``'s if there is one; None when taken, else
    the running scan that holds it. Raises CacheUnavailable if it keeps changing hands."""
    for _attempt in range(TAKE_ATTEMPTS):
        if dead is not None:
            taken = report_dead(parts, dead, successor=scan_id)
        else:
            taken = parts.store.acquire_lock(scan_id)
        if taken:
            return None
        status = _read_status(parts)
        dead = dead_scan(parts, status)
        if status.running_scan is not None and dead is None:
            return status.running_scan
    raise CacheUnavailable("the scan lock kept changing hands")
