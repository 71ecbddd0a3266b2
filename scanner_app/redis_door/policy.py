"""Which ``maxmemory-policy`` Redis runs with: the app needs ``noeviction``.

Every key of the app has a TTL, so the ``volatile-*`` policies evict them just as the
``allkeys-*`` ones do, and an evicted lock, progress or hash loses data silently. The
policy is asked with CONFIG GET at most once a minute per process, so that /healthz
stays one PING most of the time. A managed Redis may refuse CONFIG: the policy is then
unknown, which is not a fault.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from .failures import REDIS_ERRORS
from .remembered import Remembered

log = logging.getLogger(__name__)

REQUIRED_POLICY = "noeviction"
CACHE_SECONDS = 60.0


class MaxmemoryPolicy(Remembered[str | None]):
    """Redis's ``maxmemory-policy`` (None when Redis refuses CONFIG GET or fails to answer
    it), remembered for CACHE_SECONDS."""

    def __init__(self, client: Any, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(self._ask, CACHE_SECONDS, clock)
        self.client = client

    def _ask(self) -> str | None:
        try:
            value = self.client.config_get("maxmemory-policy").get("maxmemory-policy")
        except REDIS_ERRORS as error:
            log.info("maxmemory-policy unknown, CONFIG GET failed: %s", error)
            return None
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        return value if isinstance(value, str) else None
