"""Login throttling with Flask-Limiter: a few wrong passwords per client address, then 429.

``LOGIN_RATE_LIMIT`` (default ``5/minute;50/day``) counts wrong passwords only, per client
address (``request.remote_addr``, which ProxyFix takes from ``X-Forwarded-For`` when
``TRUSTED_PROXY_COUNT`` is set), in a moving window. Once one limit is reached, every login
from that address gets 429 with ``Retry-After`` until the window moves on; other addresses
are not affected. The counts live in the cache's Redis under ``<CACHE_KEY_PREFIX>limits:``
(``Keys.login_limits``); the in-process cache backend counts in memory.

The check is made before the password is: with Redis down a login gets 503, never a
verdict on the password. Requests in flight at once are checked before any of them is
counted, so a burst can pass a limit by at most the number of requests served at once.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, current_app, make_response, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.errors import StorageError

from ...redis_door import Keys, limits_location
from .gate import LOGIN_UNAVAILABLE_MESSAGE, login_page

log = logging.getLogger(__name__)

EXTENSION = "login_throttle"
THROTTLED_MESSAGE = "Too many wrong passwords from your address. Try again in {wait}."


def init_login_throttle(app: Flask, endpoint: str) -> None:
    """Limit wrong passwords posted to ``endpoint`` (its view answers 401 for one)."""
    uri, options = limits_location(app.config, Keys.from_settings(app.config).login_limits)
    limiter = Limiter(
        get_remote_address,
        app=app,
        strategy="moving-window",
        storage_uri=uri,
        storage_options=options,
    )
    app.extensions[EXTENSION] = limiter
    app.view_functions[endpoint] = limiter.limit(
        app.config["LOGIN_RATE_LIMIT"], methods=["POST"], deduct_when=_wrong_password
    )(app.view_functions[endpoint])
    app.register_error_handler(RateLimitExceeded, _throttled)
    app.register_error_handler(StorageError, _storage_down)


def _wrong_password(response: Response) -> bool:
    """Whether a login answer counts against the limit: a refused password (401)."""
    return response.status_code == 401


def _throttled(error: RateLimitExceeded) -> Response:
    """The login page with 429, ``Retry-After`` and how long to wait."""
    wait = _retry_after()
    log.warning("login throttled for %s: %s reached", request.remote_addr, error.description)
    message = THROTTLED_MESSAGE.format(wait=_duration(wait))
    response = make_response(login_page(message, 429))
    response.headers["Retry-After"] = str(wait)
    return response


def _storage_down(error: StorageError) -> Response:
    """The login page with 503: the wrong-password count cannot be read."""
    log.warning("login refused, throttle storage unavailable: %s", error)
    return make_response(login_page(LOGIN_UNAVAILABLE_MESSAGE, 503))


def _retry_after() -> int:
    """Whole seconds until the breached limit lets this address try again (at least 1)."""
    breached = current_app.extensions[EXTENSION].current_limit
    return max(1, breached.reset_at - int(time.time()))


def _duration(seconds: int) -> str:
    """``seconds`` in words: "40 seconds", "3 minutes", "24 hours" (to the nearest unit)."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size:
            return f"{(seconds + size // 2) // size} {unit}s"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
