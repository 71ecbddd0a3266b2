"""Alerts under ``SCAN_EXECUTOR=rq``: the finishing worker hands them to an RQ job, two
workers never send one contract twice, and a failing target is retried in the job."""

from __future__ import annotations

from pathlib import Path

import pytest
from rq.job import Job

from scanner_app.accounts.local_user import local_user_id
from scanner_app.jobs.executor import alert_job_id
from scanner_app.jobs.tasks import deliver_alerts
from scanner_app.screens.definition import check_screen

from .alert_receivers import http_receiver
from .rq_workers import WorkerProcess, process_env, wait_until
from .screens_data import forget_screens, no_screens_left  # noqa: F401 (a fixture)

HX = {"HX-Request": "true"}
TICKERS = [f"T{number:03d}" for number in range(12)]

pytestmark = pytest.mark.usefixtures("no_screens_left")


@pytest.fixture
def watchlist(tmp_path: Path) -> Path:
    path = tmp_path / "alerts-watchlist.toml"
    path.write_text("".join(f'[[tickers]]\nsymbol = "{symbol}"\n' for symbol in TICKERS))
    return path


@pytest.fixture
def rq_setup(make_app, watchlist, redis_url, key_prefix, tmp_path):
    """The web side on RQ and two real workers sharing its Redis and database."""
    app = make_app(SCAN_EXECUTOR="rq", SCAN_RUNNER=None, CLOCK=None, WATCHLIST_FILE=watchlist)
    forget_screens(app.extensions["put_scanner"].database)
    env = process_env(
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=key_prefix,
        WATCHLIST_FILE=str(watchlist),
        DEMO_LATENCY_MS="0",
        ALERT_RETRY_SECONDS="0.01",
    )
    workers = [WorkerProcess(env, tmp_path / f"worker-{n}.log") for n in range(2)]
    executor = app.extensions["put_scanner"].executor
    with app.app_context():
        wait_until(lambda: executor.workers() >= 2, 30, "two live workers")
    yield app
    for worker in workers:
        worker.stop()


def _queue(app):
    """The app's RQ queue."""
    with app.app_context():
        return app.extensions["rq"].get_queue(app.config["RQ_QUEUES"][0])


def _scan(app) -> str:
    """Start a scan from the dashboard and wait for its alerts job to end; its id."""
    client = app.test_client()
    assert client.post("/scan", headers=HX).status_code == 200
    scan_id = client.get("/api/scan").get_json()["scan_id"]
    queue = _queue(app)

    def alerts_done() -> bool:
        try:
            job = Job.fetch(alert_job_id(scan_id), connection=queue.connection)
        except Exception:
            return False
        return job.get_status() in ("finished", "failed")

    wait_until(alerts_done, 60, "the scan's alerts job")
    return scan_id


def test_two_workers_alert_each_contract_once(rq_setup):
    app = rq_setup
    scanner = app.extensions["put_scanner"]
    user = local_user_id(scanner.database)
    with http_receiver() as receiver:
        name, query = check_screen("Everything", "")
        scanner.screens.create(user, name, query, targets=[receiver.url])
        _scan(app)
        assert len(receiver.bodies) == 1
        _scan(app)
        # two alert jobs of one scan at once, one on each worker
        queue = _queue(app)
        scanner.screens.create(user, "Again", query, targets=[receiver.url])
        jobs = [queue.enqueue(deliver_alerts, "twice", job_id=f"alerts-twice-{n}") for n in (1, 2)]
        wait_until(
            lambda: all(job.get_status() in ("finished", "failed") for job in jobs),
            60,
            "both alert jobs",
        )
        titles = sorted(body["title"].split(" for ")[1] for body in receiver.bodies)
    assert titles == ["Again", "Everything"]
    assert [job.get_status() for job in jobs] == ["finished", "finished"]


def test_a_receiver_answering_500_is_retried_in_the_job_and_recorded_as_failed(rq_setup):
    """The RQ path retries like the thread path (the workers wait 10 ms, not 2 s, between
    tries: ``ALERT_RETRY_SECONDS`` above); the scan has completed whatever the delivery did."""
    app = rq_setup
    scanner = app.extensions["put_scanner"]
    user = local_user_id(scanner.database)
    with http_receiver() as receiver:
        receiver.status = 500
        name, query = check_screen("Everything", "")
        screen = scanner.screens.create(user, name, query, targets=[receiver.url])
        scan_id = _scan(app)
        assert receiver.hits == 4  # the first try and 3 retries
    job = Job.fetch(alert_job_id(scan_id), connection=_queue(app).connection)
    assert job.get_status() == "finished"  # a failed delivery is an outcome, not a crash
    client = app.test_client()
    [delivery] = client.get("/api/alerts").get_json()["deliveries"]
    assert (delivery["screen_id"], delivery["outcome"]) == (screen.id, "failed")
    assert delivery["contracts"] > 0 and "error=500" in delivery["error"]
    assert "t0ken-abcdef" not in delivery["error"]
    status = client.get("/api/scan").get_json()
    assert (status["scan_id"], status["state"], status["outcome"]) == (scan_id, "idle", "completed")
