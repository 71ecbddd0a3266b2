"""RQ through flask-rq: the queue, a forking worker with tuned intervals, the cron schedule.

``flask --app wsgi rq worker`` runs scan batches; ``flask --app wsgi rq cron`` enqueues a
scan every ``SCAN_EVERY_MINUTES`` (each tick does nothing while the NYSE is closed).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask_rq import RQ
from rq import Worker, worker_registration

from .config import ConfigError
from .market.calendar import warm_up
from .redis_door import Keys, cache_backend

#: The worker's defaults (its command-line flags still win). A job's heartbeat lapses
#: ``job_monitoring_interval + 60`` seconds after its worker dies; the next maintenance
#: pass of any worker then gives the job to another (see ``RECOVERY_SECONDS``).
WORKER_DEFAULTS = {"worker_ttl": 30, "job_monitoring_interval": 5, "maintenance_interval": 20}
#: The longest a dead worker's batch waits before RQ retries it: the lapsed heartbeat, a
#: maintenance interval, and an idle worker's dequeue wait (``worker_ttl - 15``).
RECOVERY_SECONDS = (
    WORKER_DEFAULTS["job_monitoring_interval"]
    + 60
    + WORKER_DEFAULTS["maintenance_interval"]
    + WORKER_DEFAULTS["worker_ttl"]
    - 15
)
REFUSED_BACKENDS = {
    "memory": "an in-process cache that workers cannot share",
    "redis_cluster": "Redis Cluster, which RQ does not support",
}


class ScanWorker(Worker):
    """RQ's forking worker, which also renews its registration with every heartbeat (two
    idempotent SADDs), so a worker that outlives a Redis restart is counted again."""

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        """RQ's heartbeat, then the registration."""
        super().heartbeat(timeout, pipeline)
        worker_registration.register(self, pipeline)


class ScannerRQ(RQ):
    """flask-rq, except that the worker forks the loaded app for each job, as RQ's own
    ``Worker`` does, instead of starting a new interpreter (about a second a job)."""

    def make_worker(
        self, queues: list[str] | tuple[str, ...] | None = None, **kwargs
    ) -> ScanWorker:
        """A forking worker on ``queues`` (default: every configured queue)."""
        warm_up(datetime.now(UTC))
        names = list(queues or self.queues)
        worker_queues = [self.get_queue(name) for name in names]
        return ScanWorker(worker_queues, job_class=worker_queues[0].job_class, **kwargs)


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
    from .scan.jobs import scheduled_scan

    rq = ScannerRQ(app)
    rq.cron_register(
        scheduled_scan,
        app.config["SCAN_EVERY_MINUTES"] * 60,
        queue=name,
    )
    app.cli.commands["rq"].context_settings["default_map"] = {"worker": dict(WORKER_DEFAULTS)}
