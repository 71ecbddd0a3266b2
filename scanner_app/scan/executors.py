"""Where a scan runs once it has the lock: a background thread here, a queue worker later."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class Executor(Protocol):
    """Runs ``job`` somewhere and returns at once."""

    def submit(self, job: Callable[[], object], name: str) -> None:
        """Start ``job``; ``name`` labels it in logs and thread lists."""


class ThreadExecutor:
    """Runs each scan in a daemon thread of this process (the embedded default)."""

    def submit(self, job: Callable[[], object], name: str) -> None:
        """Start ``job`` in a new daemon thread."""
        threading.Thread(target=_logged(job, name), name=name, daemon=True).start()


def _logged(job: Callable[[], object], name: str) -> Callable[[], None]:
    """Wrap ``job`` so that an exception is logged instead of vanishing with its thread."""

    def run() -> None:
        try:
            job()
        except Exception as error:  # the engine has logged the details already
            log.warning("%s ended with an error: %s", name, error)

    return run
