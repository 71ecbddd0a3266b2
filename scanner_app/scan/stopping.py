"""Stopping the scans that run in this process: on a shutdown, or when one loses its lock.

Each scan running here holds a StopSignal. A shutdown (``stop_scans``, from a signal
handler or a gunicorn hook) sets every one of them, and each scan then publishes what it
has, reports itself interrupted and frees its lock; ``wait_for_scans`` waits for that.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future, InvalidStateError

#: How long a stopping process waits for its scans to report themselves and free the lock.
STOP_SECONDS = 5
SHUTDOWN_REASON = "the process running it shut down"
SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class ScanInterrupted(Exception):
    """The scan was stopped before its end (``reason`` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StopSignal:
    """Tells one running scan to stop, and why; ``future`` completes then, so a scan waiting
    for its tickers wakes at once."""

    def __init__(self) -> None:
        self.future: Future[Exception] = Future()

    def stop(self, error: Exception) -> None:
        """Stop the scan with ``error`` (raised in it); the first reason wins."""
        with contextlib.suppress(InvalidStateError):
            self.future.set_result(error)

    @property
    def error(self) -> Exception | None:
        """Why the scan must stop, or None while it may go on."""
        return self.future.result() if self.future.done() else None


# An RLock: a signal handler may run in the main thread while it holds the lock.
_changed = threading.Condition(threading.RLock())
_running: set[StopSignal] = set()


@contextlib.contextmanager
def running_scan() -> Iterator[StopSignal]:
    """A scan's StopSignal, known to ``stop_scans`` until the block ends."""
    stop = StopSignal()
    with _changed:
        _running.add(stop)
    try:
        yield stop
    finally:
        with _changed:
            _running.discard(stop)
            _changed.notify_all()


def stop_scans(reason: str = SHUTDOWN_REASON) -> None:
    """Tell every scan running in this process to stop; returns at once."""
    with _changed:
        stops = list(_running)
    for stop in stops:
        stop.stop(ScanInterrupted(reason))


def wait_for_scans(timeout: float = STOP_SECONDS) -> bool:
    """Wait until no scan runs in this process (at most ``timeout`` s); True when none does."""
    with _changed:
        return _changed.wait_for(lambda: not _running, timeout)


def _on_signal(signum: int, frame: object) -> None:
    stop_scans()


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[None]:
    """In the block, SIGTERM, SIGINT and SIGHUP stop this process's scans instead of killing
    it, so they end as interrupted (main thread only)."""
    previous = {number: signal.signal(number, _on_signal) for number in SHUTDOWN_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
