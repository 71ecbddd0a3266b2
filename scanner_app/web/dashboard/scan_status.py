"""What the status fragment shows about scanning, from the O(1) status read."""

from __future__ import annotations

from dataclasses import dataclass

from ...scan.store import UNAVAILABLE_MESSAGE, Progress, Status
from ...services import current_scanner
from ..display import status_line


@dataclass(frozen=True)
class ScanStatus:
    """What ``partials/status.html`` shows about scanning."""

    state: str  # running | idle | unavailable
    last_run: str
    progress: Progress | None = None
    note: str | None = None
    poll: bool = False
    version: int | None = None
    rendered_at: int = 0


def _now() -> int:
    return int(current_scanner().clock().timestamp())


def unavailable_status(note: str | None = None, *, poll: bool) -> ScanStatus:
    """The status while Redis cannot be read; it keeps polling when ``poll``, to recover."""
    return ScanStatus("unavailable", UNAVAILABLE_MESSAGE, note=note, poll=poll, rendered_at=_now())


def scan_status(status: Status, *, note: str | None = None) -> ScanStatus:
    """The status fragment's content for ``status``; it polls while a scan runs."""
    if not status.available:
        return unavailable_status(note, poll=False)
    return ScanStatus(
        state=status.state,
        last_run=status_line(status, current_scanner()),
        progress=status.current_progress,
        note=note,
        poll=status.state == "running",
        version=status.version,
        rendered_at=_now(),
    )
