"""How full Redis is (``INFO memory``), and the error for a Redis that refuses writes because
it reached ``maxmemory`` under ``noeviction``.

"Full" is read, never stored: a full Redis cannot record that it is full. The status read
asks ``INFO memory`` when a scan ended without a word, and ``/healthz`` reports the figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import exceptions

from .failures import OUT_OF_MEMORY, REDIS_ERRORS, CacheUnavailable
from .remembered import Remembered

#: The share of maxmemory from which the page warns before a scan starts.
WARN_RATIO = 0.9


@dataclass(frozen=True)
class Memory:
    """Redis's used memory against its ``maxmemory`` (0: no limit), and its policy."""

    used: int
    maxmemory: int
    policy: str

    @property
    def ratio(self) -> float | None:
        """Used memory as a share of maxmemory; None without a limit."""
        return self.used / self.maxmemory if self.maxmemory else None

    @property
    def refuses_writes(self) -> bool:
        """Whether writes that need memory are refused now (over maxmemory, noeviction)."""
        return bool(self.maxmemory) and self.policy == "noeviction" and self.used >= self.maxmemory

    @property
    def nearly_full(self) -> bool:
        """At WARN_RATIO of maxmemory or more, under noeviction: a scan may not fit."""
        ratio = self.ratio
        return ratio is not None and self.policy == "noeviction" and ratio >= WARN_RATIO

    def to_dict(self) -> dict[str, Any]:
        """For /healthz: bytes used, maxmemory (null without a limit) and the percentage."""
        ratio = self.ratio
        return {
            "used_bytes": self.used,
            "maxmemory_bytes": self.maxmemory or None,
            "percent": None if ratio is None else round(100 * ratio, 1),
        }


def read_memory(client: Any) -> Memory | None:
    """Redis's memory figures; None when it cannot say (an in-process Redis, a managed one
    that refuses INFO, or one that does not answer)."""
    try:
        info = client.info("memory")
    except REDIS_ERRORS:
        return None
    try:
        return Memory(int(info["used_memory"]), int(info["maxmemory"]), info["maxmemory_policy"])
    except (KeyError, TypeError, ValueError):  # not one server's figures (a cluster's)
        return None


def full_text(memory: Memory | None) -> str:
    """``Redis is full (maxmemory 256 MB, noeviction)``, or without the size if unknown."""
    if memory is None or not memory.maxmemory:
        return OUT_OF_MEMORY
    megabytes = memory.maxmemory / 2**20
    size = f"{megabytes:.0f}" if megabytes >= 10 else f"{megabytes:.3g}"
    return f"Redis is full (maxmemory {size} MB, {memory.policy})"


class RedisFull(CacheUnavailable):
    """Redis refused a write: it is over ``maxmemory`` with ``noeviction``. Fatal for a scan."""

    @classmethod
    def on(cls, client: Any) -> RedisFull:
        """The error for ``client``'s Redis, its maxmemory read with INFO memory."""
        return cls(full_text(read_memory(client)))


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is Redis refusing a write for want of memory."""
    return isinstance(error, exceptions.OutOfMemoryError) or (
        isinstance(error, exceptions.ResponseError) and str(error).startswith("OOM")
    )


#: How long a page reuses the figures before asking INFO memory again.
GAUGE_SECONDS = 10.0


class MemoryGauge(Remembered["Memory | None"]):
    """Redis's memory figures for the pages' warning (None when Redis cannot say), asked at
    most every GAUGE_SECONDS per process, so that a page stays one round trip most of the
    time."""

    def __init__(self, client: Any, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(lambda: read_memory(client), GAUGE_SECONDS, clock)
