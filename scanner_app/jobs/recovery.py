"""How long a dead worker's batch waits before RQ retries it, and the lock that outlives it.

RQ notices a dead worker through its job's heartbeat, which lapses
``job_monitoring_interval + 60`` seconds after the worker dies; the next maintenance pass of
any worker then gives the job to another. The worker's defaults below keep that short.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The worker's defaults (its command-line flags still win).
WORKER_DEFAULTS = {"worker_ttl": 30, "job_monitoring_interval": 5, "maintenance_interval": 20}
#: The longest a dead worker's batch waits before RQ retries it: the lapsed heartbeat, a
#: maintenance interval, and an idle worker's dequeue wait (``worker_ttl - 15``).
RECOVERY_SECONDS = (
    WORKER_DEFAULTS["job_monitoring_interval"]
    + 60
    + WORKER_DEFAULTS["maintenance_interval"]
    + WORKER_DEFAULTS["worker_ttl"]
    - 15
)


def scan_lock_ttl(settings: Mapping[str, Any]) -> int:
    """The scan lock's TTL: ``SCAN_LOCK_TTL``, plus ``RECOVERY_SECONDS`` on RQ workers so
    that the lock outlives the wait for a dead worker's batch to be retried."""
    ttl = settings["SCAN_LOCK_TTL"]
    if settings["SCAN_EXECUTOR"] == "rq":
        ttl += RECOVERY_SECONDS
    return ttl
