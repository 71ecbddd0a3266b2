"""Small JSON values cached in Redis with a time to live, never failing their caller."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from ..redis_door import REDIS_ERRORS
from ..redis_door.memory import RedisFull, is_out_of_memory
from ..stored_json import load_json

log = logging.getLogger(__name__)

#: How long a fetched value is kept: one request per ticker per day.
KEEP_SECONDS = 86_400
#: How long a failed fetch is remembered before the market is asked again.
RETRY_SECONDS = 3_600

#: What ``read`` returns when there is no usable entry.
MISSING = object()


class JsonCache:
    """JSON objects under keys of their own; ``what`` names them in log messages.

    Redis failing to answer is logged and treated as a missing entry (on read) or
    skipped (on write): the caller then simply asks the market. A full Redis refusing a
    write is not skipped: RedisFull stops the scan.
    """

    def __init__(self, client: redis.Redis, what: str) -> None:
        self.client = client
        self.what = what

    def read(self, key: str) -> Any:
        """The cached JSON object under ``key``, or ``MISSING``."""
        try:
            stored = load_json(self.client.get(key))
        except REDIS_ERRORS as error:
            log.warning("%s cache unreadable, asking the market: %s", self.what, error)
            return MISSING
        return stored if isinstance(stored, dict) else MISSING

    def read_many(self, keys: list[str]) -> list[Any]:
        """The cached JSON object under each of ``keys`` (``MISSING`` where none), in one
        round trip."""
        try:
            stored = self.client.mget(keys)
        except REDIS_ERRORS as error:
            log.warning("%s cache unreadable, asking the market: %s", self.what, error)
            return [MISSING] * len(keys)
        values = [load_json(raw) for raw in stored]
        return [value if isinstance(value, dict) else MISSING for value in values]

    def write(self, key: str, value: dict[str, Any], seconds: int) -> None:
        """Keep ``value`` under ``key`` for ``seconds``; raises RedisFull when Redis is full."""
        try:
            self.client.set(key, json.dumps(value), ex=seconds)
        except REDIS_ERRORS as error:
            if is_out_of_memory(error):
                raise RedisFull.on(self.client) from error
            log.warning("%s not cached: %s", self.what, error)
