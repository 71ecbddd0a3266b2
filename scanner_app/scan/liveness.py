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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..redis_door import CacheUnavailable
from .engine import interruption
from .store import Heartbeat, Progress, Status

if TYPE_CHECKING:
    from ..services import Scanner

log = logging.getLogger(__name__)

DEAD_REASON = "the process running it stopped"


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


def dead_scan(scanner: Scanner, status: Status) -> DeadScan | None:
    """The dead scan ``status`` shows, if any. The executor is asked (RQ: the scan's job
    statuses) only about a silent scan that still holds the lock."""
    found = suspect(
        status,
        scanner.clock(),
        scanner.settings["SCAN_DEAD_SECONDS"],
        len(scanner.watchlist),
    )
    if found is not None and found.owner is not None and scanner.executor.working_on(found.owner):
        return None
    return found


def report_dead(scanner: Scanner, dead: DeadScan, successor: str | None = None) -> bool:
    """Report ``dead`` as interrupted and free its lock, or hand it to ``successor``; False
    when someone else did first, or the scan beat meanwhile."""
    ending = interruption(dead.progress, dead.last_seen, DEAD_REASON)
    reported = scanner.store.interrupt(dead.owner, dead.beat_at, ending, successor)
    if reported:
        log.warning("scan %s stopped without a word; reported it as interrupted", ending[1].scan_id)
    return reported


def settled_status(scanner: Scanner) -> Status:
    """The status, read again after reporting a dead scan it showed."""
    status = scanner.store.read_status()
    if not status.available:
        return status
    try:
        dead = dead_scan(scanner, status)
        if dead is None:
            return status
        report_dead(scanner, dead)
    except CacheUnavailable as error:
        log.warning("a silent scan could not be checked or reported: %s", error)
        return status
    return scanner.store.read_status()
