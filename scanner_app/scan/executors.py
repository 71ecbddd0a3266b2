"""Where a scan runs once it has the lock: a thread of this process, or RQ workers."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .engine import ScanEngine

log = logging.getLogger(__name__)


class Executor(Protocol):
    """Runs a scan somewhere and returns at once."""

    #: Whether a foreground scan (``flask scan``) runs in the caller's own thread.
    in_process: bool

    def workers(self) -> int | None:
        """Live workers that can run scans; None when scans run in this process."""

    def unavailable_reason(self) -> str | None:
        """Why a scan cannot run now (no worker), or None when it can."""

    def start(self, engine: ScanEngine, scan_id: str) -> None:
        """Run the scan ``scan_id``, whose lock is taken, with ``engine``."""

    def working_on(self, scan_id: str) -> bool:
        """Whether work of the scan ``scan_id``, silent for a while, may still be under way
        (asked only once its heartbeat is old)."""


class ThreadExecutor:
    """Runs each scan in a daemon thread of this process (the embedded default)."""

    in_process = True

    def workers(self) -> int | None:
        """No workers: scans run in this process."""
        return None

    def unavailable_reason(self) -> str | None:
        """A thread is always at hand."""
        return None

    def start(self, engine: ScanEngine, scan_id: str) -> None:
        """Run the whole scan in a new daemon thread."""
        name = f"scan-{scan_id[:8]}"
        threading.Thread(target=_logged(engine, scan_id, name), name=name, daemon=True).start()

    def working_on(self, scan_id: str) -> bool:
        """No: a scan thread beats until it ends, so a silent one is gone with its process."""
        return False


def _logged(engine: ScanEngine, scan_id: str, name: str):
    """The scan as a thread target that logs an exception instead of losing it."""

    def run() -> None:
        try:
            engine.run(scan_id)
        except Exception as error:  # the engine has logged the details already
            log.warning("%s ended with an error: %s", name, error)

    return run
