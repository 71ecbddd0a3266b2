"""The narrow parts that launching a scan, and telling a dead one, take from the app.

The app's composition root (``services.Scanner``) is one such set of parts; the scan layer
names only this protocol, never the object that builds the app.
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from datetime import datetime
from typing import Protocol

from .engine import ScanEngine
from .executors import Executor
from .store import ScanStore

#: Where an app keeps its parts, in ``app.extensions`` (RQ jobs find them there).
APP_EXTENSION = "put_scanner"


class ScanParts(Protocol):
    """A store, an executor, a clock and an engine factory, with the few settings a launch
    and the liveness check read."""

    @property
    def store(self) -> ScanStore:
        """The scan's status, lock and results in Redis."""

    @property
    def executor(self) -> Executor:
        """Where a started scan runs."""

    @property
    def clock(self) -> Callable[[], datetime]:
        """The current time, timezone-aware."""

    @property
    def watchlist(self) -> Sized:
        """The tickers a scan covers (only their number is read here)."""

    @property
    def enforces_market_hours(self) -> bool:
        """Whether a scan needs the NYSE open (production) unless forced."""

    @property
    def dead_after(self) -> float:
        """Seconds of heartbeat silence after which a running scan counts as dead."""

    def engine(self) -> ScanEngine:
        """A new engine over the current watchlist."""
