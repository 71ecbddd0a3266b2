"""Keep a market's request rate polite: bounded concurrency and a requests-per-second ceiling
shared by every process that counts in the same storage (limits' moving window)."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

from .errors import MarketDataError

#: Seconds the window is stretched by before a request may take a place in it, so that Redis
#: round trips and small clock differences do not let a one-second window, as the market sees
#: it, hold one more than the limit.
GUARD = 0.05

#: Seconds added to every wait, at random, so waiters on a full window do not wake together.
JITTER = (0.001, 0.01)


def window_limit(per_second: float, name: str) -> RateLimitItem:
    """``per_second`` as whole requests per whole seconds, in the namespace ``name``.

    From 1 up, the whole part per second (2.5 -> 2 a second: three in one second would be
    more than 2.5); below 1, one request per the seconds it takes to earn one, rounded up
    (0.5 -> 1 every 2 seconds, 0.3 -> 1 every 4). Either way no window of the limit's length
    holds more than the rate times that length, and no one-second window more than
    ``max(1, per_second)``.
    """
    if not per_second > 0:
        raise ValueError(f"requests per second must be above 0, not {per_second!r}")
    if per_second >= 1:
        return RateLimitItemPerSecond(math.floor(per_second), 1, namespace=name)
    return RateLimitItemPerSecond(1, math.ceil(1 / per_second), namespace=name)


class RateLimiter:
    """Lets callers through at most ``per_second`` times a second, counted in ``storage``
    under ``name``: every process on the same storage (a shared Redis) shares the ceiling.

    Each request takes an entry in limits' moving window (see ``window_limit``), atomically
    in Redis, so no window of the limit's length ever holds more. A caller goes for an entry
    only when the window stretched by ``GUARD`` has room; else it sleeps until the oldest
    entry leaves that stretched window, plus a few milliseconds of jitter, and looks again.
    """

    def __init__(
        self,
        per_second: float,
        storage: Storage,
        name: str,
        *,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.limit = window_limit(per_second, name)
        self.name = name
        self._storage = storage
        self._strategy = MovingWindowRateLimiter(storage)
        self._guarded = self.limit.get_expiry() + GUARD
        self._sleep = sleep

    def acquire(self) -> None:
        """Block until the window has room, and take one entry in it.

        Raises ``MarketDataError`` when the storage (Redis) cannot be reached.
        """
        try:
            while (wait := self._wait()) or not self._strategy.hit(self.limit):
                self._sleep(wait + random.uniform(*JITTER))
        except StorageError as error:
            raise MarketDataError(
                f"the {self.name} rate limit could not be checked, Redis did not answer: "
                f"{error.storage_error}"
            ) from error

    def _wait(self) -> float:
        """Seconds until the window stretched by ``GUARD`` has room (0: it has now)."""
        start, entries = self._storage.get_moving_window(
            self.limit.key_for(), self.limit.amount, self._guarded
        )
        return 0.0 if entries < self.limit.amount else max(0.0, start + self._guarded - time.time())


class Throttle:
    """At most ``max_concurrent`` calls at once (None: no bound), each started when
    ``limiter`` lets it (None: no rate limit)."""

    def __init__(self, max_concurrent: int | None, limiter: RateLimiter | None) -> None:
        if max_concurrent is not None and max_concurrent < 1:
            raise ValueError(f"max concurrent requests must be 1 or more, not {max_concurrent!r}")
        self._slots: AbstractContextManager[object] = (
            nullcontext() if max_concurrent is None else threading.BoundedSemaphore(max_concurrent)
        )
        self._limiter = limiter

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the concurrent slots, entered no sooner than the rate allows."""
        with self._slots:
            if self._limiter is not None:
                self._limiter.acquire()
            yield
