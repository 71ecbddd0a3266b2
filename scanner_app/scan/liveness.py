"""Tell live, finished and dead scans apart, and report a dead one as interrupted, once.

A running scan proves it is alive with its heartbeat. One silent for more than
``SCAN_DEAD_SECONDS`` is dead unless its executor still has work queued for it (RQ jobs
waiting for a worker or a retry; a scan thread has none). So is a scan whose lock expired
before it said how it ended. Whoever notices first -- a page, a poll, ``flask scan``, a
Scan click -- writes the report, in one compare-and-set on the lock and on the heartbeat it
saw: the report is written once, never for a scan that has shown a sign of life since, and
the lock is freed, or handed to the scan the click starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ..redis_door import CacheUnavailable
from .engine import DEAD_REASON, interruption
from .parts import ScanParts
from .store import Heartbeat, Progress, Status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadScan:
    """A scan that stopped without a word, as a status read showed it."""

    owner: str | None  # the lock's value: the scan's id, or None once its lock expired
    beat_at: str | None  # the heartbeat's time as read (None: no heartbeat)
    progress: Progress  # how far it got
    last_seen: datetime  # its last heartbeat (or when it was found, lacking one)


def suspect(status: Status, now: datetime, dead_after: float, total: int) -> DeadScan | None:
    """The scan that ``status`` shows silent for more than ``dead_after`` seconds, or ended
    without saying how; None when there is none. ``total`` is the watchlist's length."""
    if status.running_scan is not None:
        if beating(status.running_scan, status.heartbeat, now, dead_after):
            return None
        scan_id = status.running_scan
        seen = _seen(status.heartbeat, scan_id)
    else:
        progress = status.progress
        if progress is None or progress.finished_at is not None:
            return None
        if status.facts is not None and status.facts.scan_id == progress.scan_id:
            return None
        scan_id = progress.scan_id
        seen = _seen(status.heartbeat, scan_id)
    progress = status.progress
    if progress is None or progress.scan_id != scan_id:  # it died before it began
        progress = Progress(
            scan_id=scan_id, total=total, started_at=now.isoformat(timespec="seconds")
        )
    beat_at = status.heartbeat.at if status.heartbeat else None
    return DeadScan(status.running_scan, beat_at, progress, seen or now)


def beating(
    running_scan: str | None, heartbeat: Heartbeat | None, now: datetime, dead_after: float
) -> bool:
    """Whether the scan holding the lock (``running_scan``) beat within ``dead_after``
    seconds of ``now``."""
    if running_scan is None:
        return False
    seen = _seen(heartbeat, running_scan)
    return seen is not None and (now - seen).total_seconds() <= dead_after


def _seen(heartbeat: Heartbeat | None, scan_id: str) -> datetime | None:
    """When ``scan_id`` last beat, if the heartbeat is its own and readable."""
    if heartbeat is None or heartbeat.scan_id != scan_id:
        return None
    try:
        moment = datetime.fromisoformat(heartbeat.at)
        return moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):  # not a time, or one no clock can show
        return None


def dead_scan(parts: ScanParts, status: Status) -> DeadScan | None:
    """The dead scan ``status`` shows, if any. The executor is asked (RQ: the scan's job
    statuses) only about a silent scan that still holds the lock."""
    found = suspect(status, parts.clock(), parts.dead_after, len(parts.watchlist))
    if found is not None and found.owner is not None and parts.executor.working_on(found.owner):
        return None
    return found


def report_dead(parts: ScanParts, dead: DeadScan, successor: str | None = None) -> bool:
    """Report ``dead`` as interrupted and free its lock, or hand it to ``successor``; False
    when someone else did first, or the scan beat meanwhile."""
    ending = interruption(dead.progress, dead.last_seen, DEAD_REASON)
    reported = parts.store.interrupt(dead.owner, dead.beat_at, ending, successor)
    if reported:
        log.warning("scan %s stopped without a word; reported it as interrupted", ending[1].scan_id)
    return reported


def settled_status(parts: ScanParts) -> Status:
    """The status, read again after reporting a dead scan it showed.

    When Redis refuses the report (full, or not saving), the scan is shown as it would
    have been reported, with Redis's refusal as the reason: worked out at each read, since
    it cannot be written.
    """
    status = parts.store.read_status()
    if not status.available:
        return status
    dead = None
    try:
        dead = dead_scan(parts, status)
        if dead is None:
            return status
        report_dead(parts, dead)
    except CacheUnavailable as error:
        log.warning("a silent scan could not be checked or reported: %s", error)
        return status if dead is None else _unreported(status, dead, str(error))
    return parts.store.read_status()


def _unreported(status: Status, dead: DeadScan, refusal: str) -> Status:
    """``status`` with ``dead`` shown interrupted because Redis refused its writes."""
    message, facts, progress = interruption(dead.progress, dead.last_seen, refusal)
    return replace(status, last_run=message, facts=facts, progress=progress, running_scan=None)
