"""Login throttling: a few password checks per client address, then 429.

``LOGIN_RATE_LIMIT`` (default ``5/minute;50/day``) bounds the passwords checked per client
address (``request.remote_addr``, which ProxyFix takes from ``X-Forwarded-For`` when
``TRUSTED_PROXY_COUNT`` is set), each limit a moving window of the ``limits`` library.

A login takes its place in every window *before* its password is checked, and each
window's test-and-take is one atomic step (a Lua script on Redis; a lock in memory): so at
most the limit is ever checked, however many attempts arrive at once and however many
workers serve them. Once a window is full, every login from that address gets 429 with
``Retry-After`` and the wait in words, for the longest of the full windows; other
addresses are not affected. The windows live in the cache's Redis under
``<CACHE_KEY_PREFIX>limits:`` (``Keys.login_limits``); the in-process cache counts in
memory. With Redis down a login gets 503, never a verdict on the password.

Only the login view calls it: no hook runs on any other request.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, current_app, make_response, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ...redis_door import Keys, limits_location
from .gate import LOGIN_UNAVAILABLE_MESSAGE, login_page

log = logging.getLogger(__name__)

EXTENSION = "login_throttle"
THROTTLED_MESSAGE = "Too many login attempts from your address. Try again in {wait}."


class LoginThrottle:
    """The windows of ``LOGIN_RATE_LIMIT`` per client address, in limits' storage."""

    def __init__(self, limits: list[RateLimitItem], windows: MovingWindowRateLimiter) -> None:
        #: Shortest window first: a burst is refused there, before it spends a place in a
        #: longer window.
        self.limits = sorted(limits, key=lambda limit: limit.get_expiry())
        self._windows = windows

    @classmethod
    def from_app(cls, app: Flask) -> LoginThrottle:
        """The throttle of ``app``'s settings, counting where its cache is."""
        uri, options = limits_location(app.config, Keys.from_settings(app.config).login_limits)
        windows = MovingWindowRateLimiter(storage_from_string(uri, **options))
        return cls(parse_many(app.config["LOGIN_RATE_LIMIT"]), windows)

    def take(self, address: str) -> RateLimitItem | None:
        """Take a place for one password check from ``address`` in every window; None when
        all had room, else the first full one. Raises StorageError when the storage (Redis)
        cannot be reached."""
        for limit in self.limits:
            if not self._windows.hit(limit, address):
                return limit
        return None

    def wait(self, address: str) -> int:
        """Whole seconds until every window of ``address`` has room again (at least 1)."""
        now = time.time()
        resets = [
            stats.reset_time
            for limit in self.limits
            if (stats := self._windows.get_window_stats(limit, address)).remaining <= 0
        ]
        return max(1, math.ceil(max(resets, default=now) - now))


def init_login_throttle(app: Flask) -> None:
    """Build ``app``'s login throttle from ``LOGIN_RATE_LIMIT``."""
    app.extensions[EXTENSION] = LoginThrottle.from_app(app)


def admit_login() -> Response | None:
    """None when the current login may have its password checked (its place is taken);
    else the login page with 429 and how long to wait, or 503 while Redis is down."""
    throttle: LoginThrottle = current_app.extensions[EXTENSION]
    address = request.remote_addr or ""
    try:
        full = throttle.take(address)
        if full is None:
            return None
        wait = throttle.wait(address)
    except StorageError as error:
        log.warning("login refused, throttle storage unavailable: %s", error)
        return make_response(login_page(LOGIN_UNAVAILABLE_MESSAGE, 503))
    log.warning("login throttled for %s: %s reached", address, full)
    response = make_response(login_page(THROTTLED_MESSAGE.format(wait=_duration(wait)), 429))
    response.headers["Retry-After"] = str(wait)
    return response


def _duration(seconds: int) -> str:
    """``seconds`` in words: "40 seconds", "3 minutes", "24 hours" (to the nearest unit)."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size:
            return f"{(seconds + size // 2) // size} {unit}s"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
