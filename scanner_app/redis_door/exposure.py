"""Whether the app's Redis lets anyone in: one that answers without a password on an address
other than the loopback lets whoever reaches it write jobs that RQ workers unpickle, that is,
run code on them.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

import redis

from .failures import REDIS_ERRORS

log = logging.getLogger(__name__)

OPEN_REDIS_WARNING = (
    "Redis at %s answers without a password: anyone who can reach it can read and change the "
    "results and run code on the scan workers (RQ jobs are pickled). Give the app an ACL user "
    "and password in REDIS_URL (see the README, Login and security)."
)
#: Seconds to wait for the unauthenticated PING.
PROBE_SECONDS = 2


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only: ``localhost`` or a loopback address."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def answers_without_password(url: str) -> bool:
    """Whether the Redis at ``url`` answers a PING from a client that gives no credentials."""
    parts = urlsplit(url)
    client = redis.Redis(
        host=parts.hostname or "localhost",
        port=parts.port or 6379,
        ssl=parts.scheme == "rediss",
        socket_timeout=PROBE_SECONDS,
        socket_connect_timeout=PROBE_SECONDS,
    )
    try:
        return bool(client.ping())
    except REDIS_ERRORS:  # NOAUTH, refused, unreachable: not open to anyone from here
        return False
    finally:
        client.close()


def warn_if_open(url: str | None) -> bool:
    """Log a warning when the TCP Redis at ``url``, off the loopback, answers without a
    password; True when it warned."""
    if not url or urlsplit(url).scheme not in ("redis", "rediss"):
        return False
    host = urlsplit(url).hostname or "localhost"
    if is_loopback(host) or not answers_without_password(url):
        return False
    log.warning(OPEN_REDIS_WARNING, f"{host}:{urlsplit(url).port or 6379}")
    return True
