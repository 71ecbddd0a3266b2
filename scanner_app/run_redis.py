"""The Redis of a running ``make run``, for ``flask`` commands started beside it.

``make run`` (``scripts/serve.sh``) starts a private redis-server when ``REDIS_URL`` is
unset, and records its URL and process id in ``<instance folder>/run-redis.json`` while
it runs. A ``flask`` command with ``REDIS_URL`` unset uses that Redis when the process is
still alive, so ``flask scan`` shows up on the open page.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

RECORD = "run-redis.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


def running_redis_url(instance_path: str | os.PathLike[str]) -> str | None:
    """The URL of the Redis that ``make run`` started, while its process lives; else None
    (no record, an unreadable one, or a process that is gone)."""
    try:
        record = json.loads((Path(instance_path) / RECORD).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    url, pid = record.get("url"), record.get("pid")
    if not isinstance(url, str) or type(pid) is not int or pid <= 0:
        return None
    return url if _alive(pid) else None
