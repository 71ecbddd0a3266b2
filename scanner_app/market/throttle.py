"""Keep a market's request rate polite: bounded concurrency and a requests-per-second ceiling."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class RateLimiter:
    """Lets callers through at most ``per_second`` times a second, evenly spaced, across threads.

    Each caller reserves the next free slot under a lock and sleeps outside it, so callers
    go through in arrival order and idle time never builds up into a burst.
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not per_second > 0:
            raise ValueError(f"requests per second must be above 0, not {per_second!r}")
        self._interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: float | None = None

    def wait(self) -> None:
        """Block until this caller's slot comes."""
        with self._lock:
            now = self._clock()
            slot = now if self._next_slot is None else max(now, self._next_slot)
            self._next_slot = slot + self._interval
        if slot > now:
            self._sleep(slot - now)


class Throttle:
    """At most ``max_concurrent`` calls at once, started no faster than ``per_second``."""

    def __init__(
        self,
        max_concurrent: int,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max concurrent requests must be 1 or more, not {max_concurrent!r}")
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._limiter = RateLimiter(per_second, clock=clock, sleep=sleep)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the concurrent slots, entered no sooner than the rate allows."""
        with self._slots:
            self._limiter.wait()
            yield
