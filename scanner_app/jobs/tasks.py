"""The RQ jobs of a scan: its batches, its finish, its alerts and the scheduled tick.

They are enqueued by reference (RQ records each one's module and name). Their arguments stay
plain (a scan id and symbols): RQ pickles them into Redis. Each runs in a worker with the
app's context, takes the app's scan parts from it, and writes through the same fenced store
as a scan in a thread.
"""

from __future__ import annotations

import logging
import time

from flask import current_app

from ..market.calendar import is_market_open
from ..market.errors import ProviderRefused
from ..redis_door.memory import RedisFull
from ..scan.launch import launch_scan
from ..scan.parts import APP_EXTENSION, ScanParts
from ..scan.store import LockLost

log = logging.getLogger(__name__)


def _parts() -> ScanParts:
    """The scan parts of the app whose context the job runs in."""
    return current_app.extensions[APP_EXTENSION]


def scan_batch(scan_id: str, symbols: list[str]) -> None:
    """Scan ``symbols`` for the scan ``scan_id``; stop quietly once the scan is over.

    The batch that completes the last ticker finishes the scan at once (the finishing job
    then finds nothing to do). Redis trouble raises, so RQ retries the batch; a refused
    account, or a full Redis, fails the whole scan at once: a retry would only be refused
    again, and freeing the lock stops the other batches.
    """
    engine = _parts().engine()
    try:
        engine.scan_batch(scan_id, symbols)
    except LockLost:
        engine.report_lost(scan_id)
        return
    except (ProviderRefused, RedisFull) as error:
        log.warning("scan %s stopped: %s", scan_id, error)
        engine.fail(scan_id, error)
        engine.release(scan_id)
        return
    progress = engine.store.read_status().current_progress
    if progress is not None and progress.scan_id == scan_id and progress.done >= progress.total:
        finish_scan(scan_id)


def finish_scan(scan_id: str) -> None:
    """Once every batch has ended: assemble the results, say how it went, free the lock."""
    try:
        _parts().engine().finish(scan_id)
    except LockLost:
        log.info("scan %s had already ended", scan_id)


def deliver_alerts(scan_id: str) -> None:
    """After scan ``scan_id`` completed: match the saved screens, deliver what is new
    (retries wait in the job)."""
    alerts = current_app.extensions[APP_EXTENSION].alerts
    if alerts is not None:
        alerts.run(scan_id, time.sleep)


def scheduled_scan() -> None:
    """The cron tick: start a scan while the NYSE is open; outside its hours do nothing."""
    parts = _parts()
    if not is_market_open(parts.clock()):
        log.info("scheduled scan skipped: the market is closed")
        return
    launch = launch_scan(parts, force=True)
    log.info("scheduled scan: %s %s", launch.outcome.value, launch.scan_id or "")
