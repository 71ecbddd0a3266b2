"""The RQ executor: a scan split into batch jobs that any number of workers take in turn.

The web process (or ``flask scan``) takes the lock, publishes the starting progress and
enqueues the batches plus a finishing job that waits for all of them, whatever their
fate (``allow_failure``). A batch whose worker dies comes back through RQ's abandoned-job
handling and is retried a bounded number of times.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from rq import Queue, Retry, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Dependency, Job, JobStatus

from ..redis_door import REDIS_ERRORS, CacheUnavailable
from .tasks import finish_scan, scan_batch

if TYPE_CHECKING:
    from ..scan.engine import ScanEngine

#: Batches per live worker: enough for workers to even out, few enough that the cost of a
#: job (a fork and RQ's bookkeeping, some 50 ms) stays small against its work.
BATCHES_PER_WORKER = 2
#: At most this many rounds of ``SCAN_CONCURRENCY`` tickers in a batch: what a dead worker's
#: retried batch scans again.
MAX_BATCH_ROUNDS = 16
#: Attempts after the first for a batch whose worker died or whose Redis writes failed.
BATCH_RETRIES = 2
BATCH_TIMEOUT = 3600
RESULT_TTL = 600
#: Seconds an alerts job may take: the matching, and each target's retries (a minute each).
ALERT_JOB_TIMEOUT = 900
FAILURE_TTL = 86400
#: A worker whose last heartbeat is older than this does not count as running.
LIVE_WORKER_SECONDS = 60
NO_WORKER_MESSAGE = (
    "No scan worker is running, so the scan was not started. "
    "Start one with: flask --app wsgi rq worker"
)
_HEARTBEAT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
#: A job in any other state is queued, running, deferred or waiting for a retry.
ENDED_JOBS = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def batch_size(tickers: int, workers: int, concurrency: int) -> int:
    """Tickers per batch: about ``BATCHES_PER_WORKER`` batches for each live worker, in whole
    rounds of ``concurrency`` (so no thread idles before a batch's last round)."""
    wanted = max(workers, 1) * BATCHES_PER_WORKER * concurrency
    rounds = min(max(math.ceil(tickers / wanted), 1), MAX_BATCH_ROUNDS)
    return rounds * concurrency


def batches(symbols: list[str], size: int) -> Iterator[list[str]]:
    """``symbols`` in consecutive runs of ``size``."""
    for start in range(0, len(symbols), size):
        yield symbols[start : start + size]


def alert_job_id(scan_id: str) -> str:
    """The id of the job that delivers a completed scan's alerts (one per scan)."""
    return f"alerts-{scan_id}"


def finish_job_id(scan_id: str) -> str:
    """The id of the scan's finishing job, which depends on all of its batches."""
    return f"scan-{scan_id}-finish"


def live_workers(queue: Queue, now: datetime) -> int:
    """Workers listening to ``queue`` whose heartbeat is recent (raises CacheUnavailable)."""
    try:
        keys = Worker.all_keys(connection=queue.connection, queue=queue)
        with queue.connection.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(key, "last_heartbeat")
            beats = pipe.execute()
    except REDIS_ERRORS as error:
        raise CacheUnavailable.because(error) from error
    oldest = now - timedelta(seconds=LIVE_WORKER_SECONDS)
    return sum(1 for beat in beats if beat and _heartbeat_time(beat) >= oldest)


def _heartbeat_time(raw: bytes) -> datetime:
    try:
        return datetime.strptime(raw.decode(), _HEARTBEAT_FORMAT).replace(tzinfo=UTC)
    except (UnicodeDecodeError, ValueError):
        return datetime.min.replace(tzinfo=UTC)


class RQExecutor:
    """Enqueues a scan's batches on the app's RQ queue; workers run them."""

    in_process = False

    def __init__(
        self, queue: Callable[[], Queue], concurrency: int, clock: Callable[[], datetime]
    ) -> None:
        self.queue = queue
        self.concurrency = concurrency
        self.clock = clock

    def workers(self) -> int:
        """Workers on the queue with a heartbeat in the last minute."""
        return live_workers(self.queue(), self.clock())

    def unavailable_reason(self) -> str | None:
        """The "no worker" message while no worker has shown a heartbeat in the last minute."""
        if self.workers() == 0:
            return NO_WORKER_MESSAGE
        return None

    def start(self, engine: ScanEngine, scan_id: str) -> None:
        """Begin the scan and enqueue its batches and its finishing job."""
        engine.begin(scan_id)
        queue = self.queue()
        size = batch_size(len(engine.symbols), self.workers(), self.concurrency)
        retry = Retry(max=BATCH_RETRIES)
        jobs = [
            Queue.prepare_data(
                scan_batch,
                args=(scan_id, batch),
                job_id=f"scan-{scan_id}-{number}",
                timeout=BATCH_TIMEOUT,
                result_ttl=RESULT_TTL,
                failure_ttl=FAILURE_TTL,
                retry=retry,
            )
            for number, batch in enumerate(batches(engine.symbols, size))
        ]
        try:
            enqueued = queue.enqueue_many(jobs)
            queue.enqueue(
                finish_scan,
                scan_id,
                job_id=finish_job_id(scan_id),
                depends_on=Dependency(jobs=enqueued, allow_failure=True) if enqueued else None,
                job_timeout=BATCH_TIMEOUT,
                result_ttl=RESULT_TTL,
                failure_ttl=FAILURE_TTL,
            )
        except REDIS_ERRORS as error:
            raise CacheUnavailable.because(error) from error

    def working_on(self, scan_id: str) -> bool:
        """Whether a job of the scan (its finishing job, or a batch it waits for) has not
        ended: queued, running, deferred or waiting for a retry."""
        connection = self.queue().connection
        try:
            finish = Job.fetch(finish_job_id(scan_id), connection=connection)
            jobs = [finish, *finish.fetch_dependencies()]
            return any(job.get_status(refresh=False) not in ENDED_JOBS for job in jobs)
        except NoSuchJobError:
            return False
        except REDIS_ERRORS as error:
            raise CacheUnavailable.because(error) from error
