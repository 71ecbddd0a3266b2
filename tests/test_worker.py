"""The scan worker: an idle ``flask --app wsgi rq worker`` stops at once on SIGTERM."""

from __future__ import annotations

import signal
import threading

from rq import Queue

from scanner_app.jobs.worker import ScanWorker

from .rq_workers import WorkerProcess, process_env, wait_until

#: A generous bound for "at once": RQ's own listener could hold a stopping worker a minute.
STOPPED_WITHIN = 10


def test_an_idle_worker_exits_soon_after_sigterm(make_app, redis_url, key_prefix, tmp_path):
    app = make_app(SCAN_EXECUTOR="rq", SCAN_RUNNER=None)
    executor = app.extensions["put_scanner"].executor
    env = process_env(REDIS_URL=redis_url, CACHE_KEY_PREFIX=key_prefix)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        with app.app_context():
            wait_until(lambda: executor.workers() == 1, 30, "the worker to listen")
        worker.process.send_signal(signal.SIGTERM)
        code = worker.process.wait(timeout=STOPPED_WITHIN)
    finally:
        worker.stop()
    assert code == 0, worker.output()
    assert "warm shut down requested" in worker.output()
    with app.app_context():
        assert executor.workers() == 0  # it registered its death on the way out


def test_stopping_does_not_wait_out_the_command_listener(redis_client, key_prefix):
    worker = ScanWorker([Queue(f"{key_prefix}q", connection=redis_client)], connection=redis_client)
    worker.subscribe()
    wait_until(lambda: worker.pubsub.subscribed, 10, "the subscription")
    # The listener reads its unsubscribe reply before the stop flag is set, as it may when a
    # worker stops, and goes back to waiting for a subscription: RQ's waited 60 s.
    worker.pubsub.unsubscribe()
    wait_until(lambda: not worker.pubsub.subscribed, 10, "the listener to read the reply")

    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    stopping.start()
    stopping.join(timeout=STOPPED_WITHIN)

    assert not stopping.is_alive(), "the worker waited out its command listener"
    assert not worker.pubsub_thread.is_alive()
