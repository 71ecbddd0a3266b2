"""Every Redis name the app uses, derived from one prefix, ``CACHE_KEY_PREFIX``.

Each name is a contract (redis-cli, other deployments on the same Redis, a previous release
during an upgrade): they stay byte for byte as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The lock a running scan holds (its value is the scan id).
LOCK = "scan_in_progress"
#: The RQ queue when the prefix is nothing but colons.
DEFAULT_QUEUE = "scanner"


@dataclass(frozen=True)
class Keys:
    """Full Redis names for one prefix: the results and status, the lock, the sessions, the
    login limits, the market's rate limit, the RQ queue, the scan universe and each user's
    symbols."""

    prefix: str

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Keys:
        """The names of the app configured by ``settings``."""
        return cls(settings["CACHE_KEY_PREFIX"])

    def __call__(self, name: str) -> str:
        """The full key of ``name``, a key of the results and status (``scan/layout.py``)."""
        return f"{self.prefix}{name}"

    def index(self, sort: str) -> str:
        """The sorted set that orders the listed tickers by ``sort``."""
        return self(f"idx:{sort}")

    def earnings(self, symbol: str) -> str:
        """The cached next earnings date of ``symbol`` (a key of its own, with its own TTL)."""
        return self(f"earnings:{symbol}")

    def fundamentals(self, symbol: str) -> str:
        """The cached fundamentals of ``symbol`` (a key of its own, with its own TTL)."""
        return self(f"fundamentals:{symbol}")

    @property
    def universe(self) -> str:
        """The last known scan universe: every user's watchlist entries, as JSON (what a scan
        scans when the database is down)."""
        return self("universe")

    def user_symbols(self, user_id: int) -> str:
        """The sorted set of one user's symbols (score 0: symbol order), which their own
        dashboard pages are cut from."""
        return self(f"user:{user_id}:symbols")

    @property
    def lock(self) -> str:
        """The scan lock."""
        return self(LOCK)

    def session(self, session_id: str) -> str:
        """The server-side record of a login session."""
        return self(f"session:{session_id}")

    def session_epoch(self, username: str) -> str:
        """The count of a user's revocations: a session recorded with another count is over."""
        return self(f"session_epoch:{username}")

    @property
    def login_limits(self) -> str:
        """The key prefix of the wrong-password counts (limits adds ``:`` and its own names)."""
        return self("limits")

    @property
    def market_rate_limit(self) -> str:
        """The key prefix of the market's request window (limits adds ``:`` and its names)."""
        return self("ratelimit")

    @property
    def queue(self) -> str:
        """The RQ queue's name: the prefix without its trailing colons (``scanner:`` ->
        ``scanner``); RQ adds its own ``rq:`` namespace."""
        return self.prefix.rstrip(":") or DEFAULT_QUEUE
