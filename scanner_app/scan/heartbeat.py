"""A scan's heartbeat: proof that it is alive, written every few seconds by a daemon thread."""

from __future__ import annotations

import logging
import threading

from ..redis_door import CacheUnavailable
from .stopping import StopSignal
from .store import LockLost, ScanStore

log = logging.getLogger(__name__)


class Heartbeat:
    """While the block runs, refreshes the scan's lock and heartbeat every ``interval``
    seconds; stops the scan at once (LockLost) when another scan owns the lock.

    Its thread is a daemon: it never keeps a stopping process alive.
    """

    def __init__(self, store: ScanStore, scan_id: str, interval: float, stop: StopSignal) -> None:
        self.store = store
        self.scan_id = scan_id
        self.interval = interval
        self.stop = stop
        self._ended = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"heartbeat-{scan_id[:8]}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._ended.set()

    def _beat(self) -> None:
        while not self._ended.wait(self.interval):
            try:
                alive = self.store.refresh_lock(self.scan_id)
            except CacheUnavailable as error:  # the store retried; try again next beat
                log.warning("scan %s: heartbeat not written: %s", self.scan_id, error)
                continue
            if not alive:
                self.stop.stop(LockLost(f"scan {self.scan_id} no longer holds the lock"))
                return
