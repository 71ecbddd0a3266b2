"""The RQ executor on real ``flask --app wsgi rq worker`` processes and a real Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rq import Retry, Worker
from rq.job import Dependency, Job, JobStatus
from rq.registry import FailedJobRegistry, FinishedJobRegistry

from scanner_app import create_app
from scanner_app import scan as scan_package
from scanner_app.config import ConfigError
from scanner_app.jobs.executor import NO_WORKER_MESSAGE, finish_job_id
from scanner_app.jobs.recovery import RECOVERY_SECONDS
from scanner_app.jobs.tasks import scheduled_scan
from scanner_app.market.calendar import is_market_open
from scanner_app.scan.store import Progress

from .conftest import FROZEN_NOW
from .redis_server import RedisServer
from .rq_workers import FLASK, ROOT, WorkerProcess, process_env, wait_until
from .test_gunicorn import TOKEN, Server, request

HX = {"HX-Request": "true"}
TICKERS = [f"T{number:03d}" for number in range(24)]


@pytest.fixture
def watchlist(tmp_path: Path) -> Path:
    """A 24-ticker watchlist: four batches of six for two workers at a concurrency of two."""
    path = tmp_path / "rq-watchlist.toml"
    path.write_text("".join(f'[[tickers]]\nsymbol = "{symbol}"\n' for symbol in TICKERS))
    return path


@pytest.fixture
def rq_app(make_app, watchlist):
    """Build the web side of an RQ setup (real clock, real executor) on the test Redis."""

    def build(**overrides):
        settings = {
            "SCAN_EXECUTOR": "rq",
            "SCAN_RUNNER": None,
            "CLOCK": None,
            "WATCHLIST_FILE": watchlist,
            "SCAN_CONCURRENCY": 2,
        }
        return make_app(**{**settings, **overrides})

    return build


@pytest.fixture
def worker_env(redis_url, key_prefix, watchlist):
    """The environment of worker processes that share the test app's Redis and prefix."""

    def env(latency_ms: int = 30, **settings: str) -> dict[str, str]:
        return process_env(
            REDIS_URL=redis_url,
            CACHE_KEY_PREFIX=key_prefix,
            WATCHLIST_FILE=str(watchlist),
            DEMO_LATENCY_MS=str(latency_ms),
            SCAN_CONCURRENCY="2",
            **settings,
        )

    return env


@pytest.fixture
def start_workers(tmp_path, worker_env):
    """Start worker processes; every one is killed at the end of the test."""
    started: list[WorkerProcess] = []

    def start(count: int, latency_ms: int = 30) -> list[WorkerProcess]:
        env = worker_env(latency_ms)
        new = [
            WorkerProcess(env, tmp_path / f"worker-{len(started) + number}.log")
            for number in range(count)
        ]
        started.extend(new)
        return new

    yield start
    for worker in started:
        worker.stop()


def queue_name(app) -> str:
    """The app's RQ queue."""
    return app.config["RQ_QUEUES"][0]


def live_workers(app) -> int:
    """What the app counts as live workers."""
    with app.app_context():
        return app.extensions["put_scanner"].executor.workers()


def wait_for_workers(app, count: int, seconds: float = 30) -> None:
    """Wait until ``count`` workers have registered with a fresh heartbeat."""
    wait_until(lambda: live_workers(app) >= count, seconds, f"{count} live workers")


def start_scan(client) -> str:
    """Click Scan; the id of the scan that started."""
    response = client.post("/scan", headers=HX)
    assert response.status_code == 200, response.text
    assert "Scan started." in response.text
    scan_id = client.get("/api/scan").get_json()["scan_id"]
    assert scan_id
    return scan_id


def ended(app, scan_id: str):
    """The status once scan ``scan_id`` has ended (lock freed, its facts written), else None."""
    status = app.extensions["put_scanner"].store.read_status()
    if status.state == "idle" and status.facts and status.facts.scan_id == scan_id:
        return status
    return None


def test_a_scan_is_split_across_two_workers(rq_app, start_workers, redis_client, key_prefix):
    app = rq_app()
    workers = start_workers(2)
    wait_for_workers(app, 2)
    client = app.test_client()

    scan_id = start_scan(client)
    status = wait_until(lambda: ended(app, scan_id), 60, "the scan to end")

    assert status.facts.outcome == "completed", status.last_run
    assert (status.facts.tickers, status.facts.failed) == (24, 0)
    assert (status.progress.done, status.progress.total) == (24, 24)
    assert status.last_run.startswith("Scan completed successfully at ")
    times = json.loads(redis_client.get(f"{key_prefix}ticker_scan_times"))
    assert sorted(times) == TICKERS
    batches = Job.fetch_many([f"scan-{scan_id}-{n}" for n in range(24)], connection=redis_client)
    names = {job.worker_name for job in batches if job is not None}
    assert len(names) == 2, f"the batches ran on {names}"
    api = client.get("/api/scan").get_json()
    assert (api["executor"], api["workers"], api["state"]) == ("rq", 2, "idle")
    assert all(worker.process.poll() is None for worker in workers)


def test_a_killed_worker_loses_no_ticker(rq_app, start_workers):
    app = rq_app()
    doomed, survivor = start_workers(2, latency_ms=150)
    wait_for_workers(app, 2)
    client = app.test_client()
    scanner = app.extensions["put_scanner"]

    scan_id = start_scan(client)
    doomed.kill_mid_batch()

    seen_idle_early = []

    def finished():
        status = scanner.store.read_status()
        if status.state == "idle" and not (status.facts and status.facts.scan_id == scan_id):
            seen_idle_early.append(status)
        return ended(app, scan_id)

    # RQ notices the dead worker once its job's heartbeat lapses (RECOVERY_SECONDS at most)
    status = wait_until(finished, RECOVERY_SECONDS + 60, "the scan to end", interval=0.5)

    assert not seen_idle_early, "the lock was free while a batch waited for its retry"
    assert status.facts.outcome == "completed", status.last_run
    assert (status.progress.done, status.progress.failed) == (24, 0)
    assert status.facts.failed == 0
    assert sorted(scanner.reader.read_hash("scan_times")) == TICKERS
    assert survivor.process.poll() is None


def test_no_live_worker_means_no_scan(rq_app, redis_client):
    app = rq_app()
    client = app.test_client()

    response = client.post("/scan", headers=HX)

    assert response.status_code == 200 and NO_WORKER_MESSAGE in response.text
    assert app.extensions["put_scanner"].store.lock_owner() is None
    assert client.get("/api/scan").get_json()["workers"] == 0
    health = client.get("/healthz")
    assert health.status_code == 200
    assert (health.get_json()["status"], health.get_json()["workers"]) == ("degraded", 0)
    page = client.post("/scan")
    assert page.status_code == 503 and "No scan worker is running" in page.text
    result = app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 4 and NO_WORKER_MESSAGE in result.output


def test_a_worker_with_an_old_heartbeat_does_not_count(rq_app, redis_client):
    app = rq_app()
    with app.app_context():
        queue = app.extensions["rq"].get_queue(queue_name(app))
    worker = Worker([queue], connection=redis_client, name="silent-worker")
    worker.register_birth()
    try:
        redis_client.hset(worker.key, "last_heartbeat", "2020-01-01T00:00:00.000000Z")
        assert live_workers(app) == 0
        worker.heartbeat()
        assert live_workers(app) == 1
    finally:
        worker.register_death()


def test_flask_scan_enqueues_and_follows_the_scan(rq_app, start_workers, worker_env):
    start_workers(1)
    wait_for_workers(rq_app(), 1)
    env = worker_env()
    run = subprocess.run(
        [str(FLASK), "--app", "wsgi", "scan"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[-1].startswith("Scan completed successfully at ")
    assert "24 tickers" in lines[-1]
    assert "scanned 24/24 (100%)" in lines


@pytest.mark.parametrize("backend", ["memory", "redis_cluster"])
def test_rq_needs_a_redis_that_workers_share(make_app, backend):
    with pytest.raises(ConfigError, match="SCAN_EXECUTOR=rq needs REDIS_URL"):
        make_app(SCAN_EXECUTOR="rq", CACHE_BACKEND=backend)


def test_the_worker_command_has_tuned_defaults(rq_app):
    app = rq_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rq", "worker", "--help"])
    assert result.exit_code == 0
    worker = app.cli.commands["rq"]
    assert worker.context_settings["default_map"]["worker"]["job_monitoring_interval"] == 5


def test_a_scheduled_tick_outside_market_hours_leaves_last_run_alone(make_app):
    saturday = FROZEN_NOW.replace(day=21)
    app = make_app(CLOCK=lambda: saturday)
    scanner = app.extensions["put_scanner"]
    scanner.store.set_last_run("the previous scan's message")

    with app.app_context():
        scheduled_scan()

    status = scanner.store.read_status()
    assert status.last_run == "the previous scan's message" and status.state == "idle"


def test_a_scheduled_tick_in_market_hours_scans(make_app):
    app = make_app()  # FROZEN_NOW: a Wednesday, 11:00 ET; scans run inline
    with app.app_context():
        scheduled_scan()

    facts = app.extensions["put_scanner"].store.read_status().facts
    assert facts is not None and facts.outcome == "completed" and facts.tickers == 3


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, which it may restart."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_redis_restart_mid_scan_ends_it_with_a_plain_message(
    tmp_path, own_redis, app_config, watchlist
):
    settings = {
        **app_config,
        "REDIS_URL": own_redis.url,
        "SCAN_EXECUTOR": "rq",
        "SCAN_RUNNER": None,
        "CLOCK": None,
        "WATCHLIST_FILE": watchlist,
        "SCAN_CONCURRENCY": 2,
    }
    app = create_app(settings)
    env = process_env(
        REDIS_URL=own_redis.url,
        CACHE_KEY_PREFIX=settings["CACHE_KEY_PREFIX"],
        WATCHLIST_FILE=str(watchlist),
        DEMO_LATENCY_MS="150",
        SCAN_CONCURRENCY="2",
    )
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        wait_for_workers(app, 1)
        client = app.test_client()
        start_scan(client)
        scanner = app.extensions["put_scanner"]
        wait_until(
            lambda: (scanner.store.read_status().progress or Progress("", 0, "")).done >= 4,
            30,
            "the first batch",
        )
        own_redis.restart()

        status = wait_until(
            lambda: (status := scanner.store.read_status()).facts and status,
            60,
            "the scan to report the loss",
            interval=0.25,
        )
        # the worker outlived the restart and registers again, so a new scan can start (RQ
        # waits between reconnection attempts, doubling the wait up to a minute)
        wait_for_workers(app, 1, seconds=90)
    finally:
        worker.stop()
    assert status.state == "idle" and scanner.store.lock_owner() is None
    assert status.facts.outcome == "interrupted"
    assert "results were lost when Redis restarted; run a scan" in status.last_run
    page = client.get("/")
    assert "results were lost when Redis restarted; run a scan" in page.text


def api_scan(server: Server) -> dict:
    """``/api/scan`` of a running gunicorn."""
    status, _headers, body = request(server.port, "GET", "/api/scan")
    assert status == 200
    return json.loads(body)


def test_a_web_restart_mid_scan_leaves_the_scan_running(
    tmp_path, rq_app, start_workers, worker_env
):
    start_workers(1, latency_ms=150)
    wait_for_workers(rq_app(), 1)
    env = {**worker_env(150), "INSTANCE_PATH": str(tmp_path / "instance")}
    first = Server(tmp_path, env)
    first.wait_until_up()
    _status, headers, html = request(first.port, "GET", "/")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    token = next(group for group in TOKEN.search(html).groups() if group)
    click = {"Cookie": cookie, "HX-Request": "true", "X-CSRFToken": token}
    status, _headers, body = request(first.port, "POST", "/scan", click)
    assert status == 200 and "Scan started." in body
    scan_id = api_scan(first)["scan_id"]

    first.process.kill()
    first.process.wait(timeout=10)
    second = Server(tmp_path, env)
    try:
        second.wait_until_up()
        picked_up = api_scan(second)
        assert (picked_up["state"], picked_up["scan_id"]) == ("running", scan_id)
        final = wait_until(
            lambda: (answer := api_scan(second))["state"] == "idle" and answer,
            60,
            "the scan to end",
            interval=0.25,
        )
        page = request(second.port, "GET", "/")[2]
    finally:
        second.stop()
    assert final["last_run_facts"]["scan_id"] == scan_id
    assert final["last_run_facts"]["outcome"] == "completed"
    assert final["progress"]["done"] == 24 > picked_up["progress"]["done"]
    assert "Scan completed successfully" in page


def test_the_cron_process_ticks_and_respects_market_hours(
    tmp_path, rq_app, start_workers, worker_env, redis_client
):
    app = rq_app()
    scanner = app.extensions["put_scanner"]
    scanner.store.set_last_run("the previous scan's message")
    start_workers(1)
    wait_for_workers(app, 1)
    with (tmp_path / "cron.log").open("wb") as log:
        cron = subprocess.Popen(
            [str(FLASK), "--app", "wsgi", "rq", "cron"],
            cwd=ROOT,
            env=worker_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    open_now = is_market_open(datetime.now(UTC))
    with app.app_context():
        finished = FinishedJobRegistry(queue=app.extensions["rq"].get_queue(queue_name(app)))
    try:
        # an interval schedule enqueues its first tick when the scheduler starts
        ticks = wait_until(
            lambda: [
                job
                for job in Job.fetch_many(finished.get_job_ids(), connection=redis_client)
                if job and job.func is scheduled_scan
            ],
            30,
            "the first scheduled tick to run",
        )
    finally:
        os.killpg(cron.pid, signal.SIGKILL)
        cron.wait(timeout=10)
    assert len(ticks) == 1
    status = scanner.store.read_status()
    if open_now:  # the tick started a scan
        assert status.state == "running" or status.facts is not None
    else:  # the tick did nothing at all
        assert status.last_run == "the previous scan's message" and status.state == "idle"


def test_a_scan_is_worked_on_until_every_job_has_ended(rq_app, redis_client):
    app = rq_app()
    scanner = app.extensions["put_scanner"]
    with app.app_context():
        assert scanner.store.acquire_lock("queued")
        scanner.executor.start(scanner.engine(), "queued")  # no worker takes the jobs
        finish = Job.fetch(finish_job_id("queued"), connection=redis_client)
        jobs = [finish, *finish.fetch_dependencies()]
        assert len(jobs) > 2 and scanner.executor.working_on("queued")

        for job in jobs[:-1]:
            job.set_status(JobStatus.FAILED)
        assert scanner.executor.working_on("queued")  # one batch still queued
        jobs[-1].set_status(JobStatus.FINISHED)
        assert not scanner.executor.working_on("queued")
        finish.delete()
        assert not scanner.executor.working_on("queued")


def test_an_rq_scan_whose_jobs_are_gone_is_interrupted_and_flask_scan_exits_1(
    tmp_path, rq_app, worker_env, redis_client
):
    lifecycle = {"SCAN_HEARTBEAT_SECONDS": "0.5", "SCAN_DEAD_SECONDS": "2"}
    app = rq_app(SCAN_HEARTBEAT_SECONDS=0.5, SCAN_DEAD_SECONDS=2)
    env = worker_env(150, **lifecycle)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        wait_for_workers(app, 1)
        follower = subprocess.Popen(
            [str(FLASK), "--app", "wsgi", "scan"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        store = app.extensions["put_scanner"].store
        progress = wait_until(
            lambda: (
                (status := store.read_status()).running_scan
                and status.current_progress
                and status.current_progress.done >= 4
                and status.current_progress
            ),
            30,
            "four tickers",
        )
        worker.kill()
        finish = Job.fetch(finish_job_id(progress.scan_id), connection=redis_client)
        for job in [*finish.fetch_dependencies(), finish]:
            job.delete()
        gone = time.monotonic()
        out, err = follower.communicate(timeout=60)
        waited = time.monotonic() - gone
    finally:
        worker.stop()

    assert follower.returncode == 1, (out, err)
    assert waited < 20, f"flask scan noticed after {waited:.1f} s"
    body = app.test_client().get("/api/scan").get_json()
    done = body["progress"]["done"]
    assert (body["state"], body["outcome"], body["scan_id"]) == (
        "idle",
        "interrupted",
        progress.scan_id,
    )
    assert done >= 4 and body["progress"]["total"] == 24
    assert err.strip().splitlines()[-1] == f"Error: {body['last_run']}"
    assert body["last_run"].startswith(f"Scan interrupted at {done} of 24 tickers on ")
    assert len(app.extensions["put_scanner"].reader.read_hash("scan_times")) == done


#: Where the previous release kept its job functions (a module this release no longer has).
RETIRED_JOBS = f"{scan_package.__name__}.jobs"


def test_jobs_queued_by_the_previous_release_fail_and_their_scan_ends_interrupted(
    tmp_path, rq_app, worker_env, redis_client
):
    app = rq_app(SCAN_HEARTBEAT_SECONDS=0.5, SCAN_DEAD_SECONDS=2)
    scanner = app.extensions["put_scanner"]
    with app.app_context():
        queue = app.extensions["rq"].get_queue(queue_name(app))
    # A scan that the previous release started: its lock, its progress, its jobs by name.
    assert scanner.store.acquire_lock("old")
    scanner.engine().begin("old")
    batch = queue.enqueue(
        f"{RETIRED_JOBS}.scan_batch", "old", TICKERS, job_id="scan-old-0", retry=Retry(max=2)
    )
    queue.enqueue(
        f"{RETIRED_JOBS}.finish_scan",
        "old",
        job_id=finish_job_id("old"),
        depends_on=Dependency(jobs=[batch], allow_failure=True),
    )
    worker = WorkerProcess(
        worker_env(SCAN_HEARTBEAT_SECONDS="0.5", SCAN_DEAD_SECONDS="2"), tmp_path / "worker.log"
    )
    try:
        failed = FailedJobRegistry(queue=queue)
        wait_until(lambda: len(failed) == 2, 60, "the previous release's jobs to fail")
        with app.app_context():  # a page's status read, which reports a dead scan
            old = wait_until(
                lambda: (status := scanner.status()).facts and status, 30, "the old scan's end"
            )
        scan_id = start_scan(app.test_client())
        new = wait_until(lambda: ended(app, scan_id), 60, "a scan of this release")
    finally:
        worker.stop()

    assert set(failed.get_job_ids()) == {"scan-old-0", finish_job_id("old")}
    batch.refresh()
    assert batch.retries_left == 0  # tried three times, as any batch
    assert f"module '{scan_package.__name__}' has no attribute 'jobs'" in worker.output()
    assert (old.facts.scan_id, old.facts.outcome) == ("old", "interrupted")
    assert old.last_run.startswith("Scan interrupted at 0 of 24 tickers")
    assert new.facts.outcome == "completed" and new.facts.tickers == 24
