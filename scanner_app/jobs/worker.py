"""The scan worker: RQ's forking worker over the loaded app, quick to stop when idle."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_rq import RQ
from rq import Worker, worker_registration

from ..market.calendar import warm_up

#: How long the worker's command listener (RQ's pubsub thread) waits for a message before
#: it looks again whether it should stop. RQ waits 60 s; stopping joins that thread, and a
#: listener that read its unsubscribe reply before the stop flag was set slept out the whole
#: wait, so an idle worker given SIGTERM took up to a minute to exit.
LISTENER_WAKE_SECONDS = 1


class ScanWorker(Worker):
    """RQ's forking worker, which also renews its registration with every heartbeat (two
    idempotent SADDs), so a worker that outlives a Redis restart is counted again, and
    whose command listener wakes every second, so it stops at once."""

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        """RQ's heartbeat, then the registration."""
        super().heartbeat(timeout, pipeline)
        worker_registration.register(self, pipeline)

    def subscribe(self) -> None:
        """Listen on the worker's command channel (shutdown, stop or kill a job), as RQ
        does, waking every ``LISTENER_WAKE_SECONDS``."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=LISTENER_WAKE_SECONDS,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )


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
