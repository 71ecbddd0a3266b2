"""What /healthz reports: whether Redis answers, and facts that can make the app degraded.

Each fact is one entry of ``_facts``; a fact that is ``degraded`` turns the status from
``ok`` to ``degraded`` (still 200: Redis answers). Redis down is 503. The database is
reported either way (``ok`` or ``down``): pages are served from Redis without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...db import database_reachable
from ...redis_door import REQUIRED_POLICY, CacheUnavailable
from ...redis_door.memory import read_memory

if TYPE_CHECKING:
    from ...services import Scanner

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Fact:
    """One reported value, and whether it makes the app degraded."""

    value: Any
    degraded: bool = False


def _maxmemory_policy(scanner: Scanner) -> Fact:
    """Any policy but noeviction can evict the app's keys; unknown (CONFIG refused) is not
    a fault."""
    policy = scanner.redis_policy.read()
    if policy is None:
        return Fact(UNKNOWN)
    return Fact(policy, degraded=policy != REQUIRED_POLICY)


def live_workers(scanner: Scanner) -> int | None:
    """Live RQ workers (None with the thread executor, or when Redis cannot say)."""
    try:
        return scanner.executor.workers()
    except CacheUnavailable:
        return None


def _workers(scanner: Scanner) -> Fact:
    """Live RQ workers; none at all is degraded."""
    workers = live_workers(scanner)
    return Fact(workers, degraded=workers == 0)


def _memory(scanner: Scanner) -> Fact:
    """Used memory against maxmemory (null when Redis does not say); at 90 % and over,
    under noeviction, degraded: the next scan may not fit."""
    memory = read_memory(scanner.store.write_client)
    if memory is None:
        return Fact(None)
    return Fact(memory.to_dict(), degraded=memory.nearly_full)


def _database(scanner: Scanner) -> Fact:
    """``ok`` when the database answers, else ``down`` (degraded: no history is saved)."""
    down = database_reachable(scanner.database) is not None
    return Fact("down" if down else "ok", degraded=down)


def _facts(scanner: Scanner) -> dict[str, Fact]:
    """The facts of a Redis that answers, by the name they are reported under."""
    return {
        "maxmemory_policy": _maxmemory_policy(scanner),
        "memory": _memory(scanner),
        "workers": _workers(scanner),
        "database": _database(scanner),
    }


def health_report(scanner: Scanner) -> tuple[dict[str, Any], int]:
    """The /healthz body and status code."""
    if not scanner.store.ping():
        return {"status": "unavailable", "redis": False, "database": _database(scanner).value}, 503
    facts = _facts(scanner)
    degraded = any(fact.degraded for fact in facts.values())
    body = {"status": "degraded" if degraded else "ok", "redis": True}
    body.update((name, fact.value) for name, fact in facts.items())
    return body, 200
