"""flask-rq's wiring: its settings, the RQ executor of an app, and the cron schedule.

``flask --app wsgi rq worker`` runs scan batches; ``flask --app wsgi rq cron`` enqueues a
scan every ``SCAN_EVERY_MINUTES`` (each tick does nothing while the NYSE is closed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask

from ..config import ConfigError
from ..redis_door import Keys, cache_backend
from .executor import ALERT_JOB_TIMEOUT, FAILURE_TTL, RESULT_TTL, RQExecutor, alert_job_id
from .recovery import WORKER_DEFAULTS
from .tasks import deliver_alerts, scheduled_scan
from .worker import ScannerRQ

REFUSED_BACKENDS = {
    "memory": "an in-process cache that workers cannot share",
    "redis_cluster": "Redis Cluster, which RQ does not support",
}


def check_rq_settings(settings: dict) -> None:
    """Refuse ``SCAN_EXECUTOR=rq`` without a Redis that every worker can reach."""
    if settings["SCAN_EXECUTOR"] != "rq":
        return
    backend = cache_backend(settings)
    if backend in REFUSED_BACKENDS or not settings["REDIS_URL"]:
        reason = REFUSED_BACKENDS.get(backend, "no REDIS_URL")
        raise ConfigError(
            f"SCAN_EXECUTOR=rq needs REDIS_URL pointing at a Redis shared by the web and the "
            f"workers; the cache is {reason}. Set REDIS_URL, or use SCAN_EXECUTOR=thread."
        )


def init_rq(app: Flask) -> None:
    """Configure flask-rq from the app's settings and register the cron schedule."""
    name = Keys.from_settings(app.config).queue
    app.config["RQ_CONNECTION"] = app.config["REDIS_URL"]
    app.config["RQ_QUEUES"] = [name]
    app.config["RQ_ASYNC"] = True  # real workers, in tests too
    rq = ScannerRQ(app)
    rq.cron_register(
        scheduled_scan,
        app.config["SCAN_EVERY_MINUTES"] * 60,
        queue=name,
    )
    app.cli.commands["rq"].context_settings["default_map"] = {"worker": dict(WORKER_DEFAULTS)}


def rq_executor(app: Flask, clock: Callable[[], datetime]) -> RQExecutor:
    """The executor that enqueues the app's scans on its RQ queue (after ``init_rq``)."""
    rq = app.extensions["rq"]
    name = app.config["RQ_QUEUES"][0]
    return RQExecutor(lambda: rq.get_queue(name), app.config["SCAN_CONCURRENCY"], clock)


def alert_enqueuer(app: Flask) -> Callable[[str], None]:
    """Hands a completed scan's alerts to the app's RQ queue (a worker delivers them)."""
    rq = app.extensions["rq"]
    name = app.config["RQ_QUEUES"][0]

    def enqueue(scan_id: str) -> None:
        rq.get_queue(name).enqueue(
            deliver_alerts,
            scan_id,
            job_id=alert_job_id(scan_id),
            job_timeout=ALERT_JOB_TIMEOUT,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
        )

    return enqueue
