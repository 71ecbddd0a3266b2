"""Login throttling: a few password checks per client address, and a few failures per
username, then 429.

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

The same windows also count the *failed* logins of each username (``user/<name>``). Once
a username's window is full, a login for it is refused with 429 -- unless it comes from an
address with no failed login in the shortest window (``failed/<address>``): there the
password is checked, so the right one still gets in. Nobody can lock a colleague out by
failing with their name; an address that fails is refused for the name until it has been
clean for that window.

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
USER_THROTTLED_MESSAGE = "Too many failed logins for this username. Try again in {wait}."
#: The limits identifiers of a username's failures and of an address's recent failures.
USER_FAILURES, ADDRESS_FAILURES = "user", "failed"
#: The longest username counted (longer names share the windows of their first characters).
MAX_COUNTED_USERNAME = 64


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

    def username_full(self, username: str) -> RateLimitItem | None:
        """The first of the windows of ``username``'s failures that is full, else None."""
        for limit in self.limits:
            if not self._windows.test(limit, USER_FAILURES, username):
                return limit
        return None

    def address_is_clean(self, address: str) -> bool:
        """Whether ``address`` had no failed login within the shortest window."""
        shortest = self.limits[0]
        stats = self._windows.get_window_stats(shortest, ADDRESS_FAILURES, address)
        return stats.remaining >= shortest.amount

    def failed(self, address: str, username: str) -> None:
        """Count a failed login for ``username`` from ``address``."""
        for limit in self.limits:
            self._windows.hit(limit, USER_FAILURES, username)
        self._windows.hit(self.limits[0], ADDRESS_FAILURES, address)

    def wait(self, *identifiers: str) -> int:
        """Whole seconds until every window of ``identifiers`` (an address, or
        ``USER_FAILURES`` and a name) has room again (at least 1)."""
        now = time.time()
        resets = [
            stats.reset_time
            for limit in self.limits
            if (stats := self._windows.get_window_stats(limit, *identifiers)).remaining <= 0
        ]
        return max(1, math.ceil(max(resets, default=now) - now))


def init_login_throttle(app: Flask) -> None:
    """Build ``app``'s login throttle from ``LOGIN_RATE_LIMIT``."""
    app.extensions[EXTENSION] = LoginThrottle.from_app(app)


def admit_login(username: str) -> Response | None:
    """None when the current login for ``username`` may have its password checked (its
    place is taken); else the login page with 429 and how long to wait, or 503 while Redis
    is down."""
    throttle: LoginThrottle = current_app.extensions[EXTENSION]
    address = request.remote_addr or ""
    try:
        full = throttle.take(address)
        if full is None:
            name = counted_username(username)
            full = throttle.username_full(name)
            if full is None or throttle.address_is_clean(address):
                return None
            log.warning("login throttled for a username from %s: %s reached", address, full)
            return _throttled(USER_THROTTLED_MESSAGE, throttle.wait(USER_FAILURES, name))
        wait = throttle.wait(address)
    except StorageError as error:
        log.warning("login refused, throttle storage unavailable: %s", error)
        return make_response(login_page(LOGIN_UNAVAILABLE_MESSAGE, 503))
    log.warning("login throttled for %s: %s reached", address, full)
    return _throttled(THROTTLED_MESSAGE, wait)


def login_failed(username: str) -> None:
    """Count a failed login for ``username`` from the current address (logged, not raised,
    when the storage does not answer: the attempt was counted per address already)."""
    throttle: LoginThrottle = current_app.extensions[EXTENSION]
    try:
        throttle.failed(request.remote_addr or "", counted_username(username))
    except StorageError as error:
        log.warning("failed login not counted, throttle storage unavailable: %s", error)


def counted_username(username: str) -> str:
    """The name whose failures are counted: as the users store compares names."""
    return username.strip().lower()[:MAX_COUNTED_USERNAME]


def _throttled(message: str, wait: int) -> Response:
    """The login page with 429, ``message`` with the wait in words, and ``Retry-After``."""
    response = make_response(login_page(message.format(wait=_duration(wait)), 429))
    response.headers["Retry-After"] = str(wait)
    return response


def _duration(seconds: int) -> str:
    """``seconds`` in words: "40 seconds", "3 minutes", "24 hours" (to the nearest unit)."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size:
            return f"{(seconds + size // 2) // size} {unit}s"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
