"""Put Scanner: scan a watchlist for cash-secured puts worth selling."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask

from .config import check_production, load_settings
from .db import init_db, is_sqlite_app
from .extensions import cache
from .jobs.extension import check_rq_settings, init_rq
from .redis_door import CACHE_BACKENDS, cache_backend
from .redis_door.exposure import warn_if_open
from .run_redis import running_redis_url
from .scan.parts import APP_EXTENSION
from .services import Scanner

log = logging.getLogger(__name__)

NO_REDIS_WARNING = (
    "REDIS_URL is not set: using an in-process cache (one process only). "
    "Install redis-server or set REDIS_URL=redis://host:6379/0 for the Redis backend."
)
#: The warning when redis-server is installed but not used (no ``make run`` serving).
NO_REDIS_RUNNING_WARNING = (
    "REDIS_URL is not set and no make run is serving: using an in-process cache (one "
    "process only). make run starts redis-server; or set REDIS_URL=redis://host:6379/0."
)


SQLITE_RQ_WARNING = (
    "SCAN_EXECUTOR=rq with a SQLite database: only workers on this machine can share its "
    "file. For workers on other machines set DATABASE_URL=postgresql://user@host/dbname."
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, with ``config`` overriding any setting.

    Besides the settings, ``config`` may inject parts for embedding and tests:
    ``MARKET_PROVIDER`` (a provider object), ``SCAN_RUNNER`` (an executor object: where
    scans run) and ``CLOCK`` (a function returning the current aware datetime).
    """
    settings = load_settings()
    settings.update(config or {})
    check_production(settings)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"])
    if settings["REDIS_URL"] is None and click.get_current_context(silent=True) is not None:
        # a `flask` command: beside a running `make run`, use its Redis
        settings["REDIS_URL"] = running_redis_url(app.instance_path)
    app.config.update(settings)
    app.config.from_prefixed_env()
    _configure_cache(app)
    check_rq_settings(app.config)
    cache.init_app(app)
    if cache_backend(app.config) == "redis":
        warn_if_open(app.config["REDIS_URL"])
    init_db(app)
    if app.config["SCAN_EXECUTOR"] == "rq":
        init_rq(app)
        if is_sqlite_app(app):
            log.warning(SQLITE_RQ_WARNING)
    scanner = app.extensions[APP_EXTENSION] = Scanner.from_app(app)

    from .cli import register_commands

    register_commands(app)
    from .web import register_web

    register_web(app)
    scanner.start()  # after the first admin exists (production's upgrade, in register_web)
    return app


def _configure_cache(app: Flask) -> None:
    """Flask-Caching settings: JSON on Redis, or on an in-process Redis when there is none."""
    backend = cache_backend(app.config)
    if app.config["CACHE_BACKEND"] is None and backend == "memory":
        installed = shutil.which("redis-server") is not None
        log.warning(NO_REDIS_RUNNING_WARNING if installed else NO_REDIS_WARNING)
    app.config.setdefault("CACHE_TYPE", CACHE_BACKENDS[backend])
    app.config.setdefault("CACHE_REDIS_URL", app.config["REDIS_URL"])
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", app.config["CACHE_TTL_OPTIONS"])
    app.config.setdefault(
        "CACHE_OPTIONS",
        {"socket_timeout": 2, "socket_connect_timeout": 2, "health_check_interval": 30},
    )
