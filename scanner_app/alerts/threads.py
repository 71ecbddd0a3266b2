"""Deliveries on a background thread (``SCAN_EXECUTOR=thread``), off the scan's path.

Each delivery thread holds a stop signal of ``scan.stopping`` like a scan does: a graceful
shutdown (gunicorn's worker exit, ``stop_scans``) cuts its waits between retries short and
waits for it with the scans, so it ends within the shutdown. ``flask scan`` waits for its
own scan's deliveries before it exits.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from ..scan.stopping import StopSignal, running_scan

log = logging.getLogger(__name__)

#: How long ``flask scan`` waits for its deliveries at most (retries end within a minute).
WAIT_SECONDS = 90

_lock = threading.Lock()
_threads: dict[str, list[threading.Thread]] = {}


def start_delivery(scan_id: str, work: Callable[[StopSignal], None]) -> threading.Thread:
    """Run ``work`` (given its stop signal) on a daemon thread for scan ``scan_id``."""

    def deliver() -> None:
        with running_scan() as stop:
            try:
                work(stop)
            except Exception as error:  # never a traceback: its frames may hold a target
                log.warning("alerts of scan %s failed: %s", scan_id, type(error).__name__)

    thread = threading.Thread(target=deliver, name=f"alerts-{scan_id[:8]}", daemon=True)
    with _lock:
        for known, threads in list(_threads.items()):  # forget the ended ones
            if not any(other.is_alive() for other in threads):
                del _threads[known]
        _threads.setdefault(scan_id, []).append(thread)
        thread.start()
    return thread


def wait_for_deliveries(scan_id: str, timeout: float = WAIT_SECONDS) -> bool:
    """Wait for the delivery threads of scan ``scan_id``; True when none is left running."""
    with _lock:
        threads = _threads.pop(scan_id, [])
    for thread in threads:
        thread.join(timeout)
    return not any(thread.is_alive() for thread in threads)


def nap_until_stopped(stop: StopSignal) -> Callable[[float], None]:
    """A wait of some seconds that a stop cuts short."""

    def nap(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            stop.future.result(timeout=seconds)

    return nap
