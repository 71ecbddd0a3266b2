"""The top-level gunicorn.conf.py, on real gunicorn processes: threads, several workers."""

from __future__ import annotations

import http.client
import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner_app.scan.stopping import STOP_SECONDS

from .rq_workers import wait_until

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "gunicorn.conf.py"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')
START_SECONDS = 30


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port: int, method: str, path: str, headers=None, body=None, timeout: float = 5):
    """One request on a fresh connection (so successive ones may reach different workers)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


class Server:
    """A gunicorn started from the repository, as ``gunicorn wsgi:app`` plus ``args``."""

    def __init__(self, tmp_path: Path, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.access_log = tmp_path / "access.log"
        self.error_log = tmp_path / "error.log"
        command = [sys.executable, "-m", "gunicorn", *args, "wsgi:app"]
        command += [
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            "%(p)s %(r)s %(s)s",
        ]
        command += ["--error-logfile", str(self.error_log), "--log-level", "info"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**env, "PORT": str(self.port)}, stdout=subprocess.DEVNULL
        )

    def wait_until_up(self) -> None:
        """Return once /healthz answers; fail after START_SECONDS."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.error_log.read_text()
            try:
                if request(self.port, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"gunicorn did not start:\n{self.error_log.read_text()}")

    def stop(self) -> None:
        """TERM the arbiter and wait for it (KILL after the graceful timeout)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def worker_pids(self, request_line: str) -> set[str]:
        """The workers that served requests whose line starts with ``request_line``."""
        lines = self.access_log.read_text().splitlines()
        return {line.split()[0] for line in lines if line.split(" ", 1)[1].startswith(request_line)}


@pytest.fixture
def serve(tmp_path, redis_url, key_prefix, small_watchlist, redis_client) -> Iterator:
    """Start gunicorn in local mode with no SECRET_KEY, on the test Redis."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SCANNER_", "MARKET_", "DEMO_", "SCAN_", "CACHE_", "GUNICORN_"))
        and key not in {"SECRET_KEY", "WEB_CONCURRENCY", "PORT"}
    }
    env = {
        **kept,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": key_prefix,
        "WATCHLIST_FILE": str(small_watchlist),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DEMO_LATENCY_MS": "0",
        "PYTHONPATH": str(ROOT),
    }
    servers = []

    def start(*args: str, **settings: str) -> Server:
        server = Server(tmp_path, {**env, **settings}, *args)
        servers.append(server)
        server.wait_until_up()
        return server

    yield start
    for server in servers:
        server.stop()


def test_the_config_binds_to_this_machine_with_threads_and_a_short_graceful_timeout(
    monkeypatch,
):
    monkeypatch.delenv("PORT", raising=False)
    settings = runpy.run_path(str(CONFIG))
    monkeypatch.setenv("PORT", "5001")

    assert settings["bind"] == ["127.0.0.1:8000"]
    assert runpy.run_path(str(CONFIG))["bind"] == ["127.0.0.1:5001"]
    assert settings["worker_class"] == "gthread" and settings["threads"] >= 4
    assert settings["graceful_timeout"] == 10 and settings["timeout"] > 10
    # a stopping worker's scan has STOP_SECONDS to report itself, within the grace period
    assert settings["graceful_timeout"] > STOP_SECONDS


def test_idle_connections_do_not_block_the_health_check(serve):
    server = serve()
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(10)]
    try:
        time.sleep(1)
        started = time.monotonic()
        statuses = [request(server.port, "GET", "/healthz")[0] for _ in range(5)]
        assert statuses == [200] * 5 and time.monotonic() - started < 5
    finally:
        for sock in idle:
            sock.close()
    assert "Using worker: gthread" in server.error_log.read_text()


def test_a_csrf_token_from_one_worker_is_valid_on_the_other(serve, tmp_path):
    server = serve("--workers", "2")
    status, headers, html = request(server.port, "GET", "/")
    assert status == 200
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    token = next(group for group in TOKEN.search(html).groups() if group)
    form = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}

    statuses = []
    deadline = time.monotonic() + 20
    while len(server.worker_pids("POST /logout")) < 2 and time.monotonic() < deadline:
        statuses.append(request(server.port, "POST", "/logout", form, f"csrf_token={token}")[0])

    assert len(server.worker_pids("POST /logout")) == 2, "the requests reached one worker only"
    assert set(statuses) == {302}
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600


# -- a scan in a worker's thread when the worker dies or is told to stop ---------------------

SCAN_TICKERS = [f"G{number:03d}" for number in range(40)]
#: A 16-second scan: 40 tickers of 4 requests of 200 ms, two at a time.
SLOW_SCAN = {
    "DEMO_LATENCY_MS": "200",
    "SCAN_CONCURRENCY": "2",
    "SCAN_HEARTBEAT_SECONDS": "0.5",
}


@pytest.fixture
def slow_scan(tmp_path) -> dict[str, str]:
    """The settings of a slow 40-ticker scan."""
    path = tmp_path / "forty.toml"
    path.write_text("".join(f'[[tickers]]\nsymbol = "{symbol}"\n' for symbol in SCAN_TICKERS))
    return {**SLOW_SCAN, "WATCHLIST_FILE": str(path)}


def click_scan(server: Server) -> str:
    """Press Scan on a fresh page; the answer's text."""
    _status, headers, html = request(server.port, "GET", "/")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    token = next(group for group in TOKEN.search(html).groups() if group)
    click = {"Cookie": cookie, "HX-Request": "true", "X-CSRFToken": token}
    status, _headers, body = request(server.port, "POST", "/scan", click)
    assert status == 200, body
    return body


def api_scan(server: Server) -> dict:
    """``/api/scan``."""
    status, _headers, body = request(server.port, "GET", "/api/scan")
    assert status == 200, body
    return json.loads(body)


def scan_under_way(server: Server, tickers: int = 4) -> dict:
    """Start a scan and wait until ``tickers`` are done; the API's answer then."""
    assert "Scan started." in click_scan(server)
    return wait_until(
        lambda: (
            (body := api_scan(server))["progress"] and body["progress"]["done"] >= tickers and body
        ),
        30,
        f"{tickers} tickers scanned",
    )


def scan_worker(server: Server) -> int:
    """The pid of the worker that took the Scan click."""
    (pid,) = server.worker_pids("POST /scan")
    return int(pid.strip("<>"))


def published(redis_client, key_prefix: str) -> int:
    """Tickers with a scan time in the working set."""
    return redis_client.hlen(f"{key_prefix}scan_times")


def test_a_killed_worker_s_scan_is_reported_interrupted_and_a_click_starts_anew(
    serve, slow_scan, redis_client, key_prefix
):
    server = serve(**slow_scan, SCAN_DEAD_SECONDS="3")
    running = scan_under_way(server)

    os.kill(scan_worker(server), signal.SIGKILL)
    killed = time.monotonic()
    ended = wait_until(
        lambda: (body := api_scan(server))["outcome"] and body, 30, "the scan to be reported"
    )
    waited = time.monotonic() - killed

    assert waited < 20, f"reported after {waited:.1f} s"
    done = ended["progress"]["done"]
    assert (ended["state"], ended["outcome"], ended["scan_id"]) == (
        "idle",
        "interrupted",
        running["scan_id"],
    )
    assert done >= running["progress"]["done"] and ended["progress"]["total"] == 40
    assert ended["last_run"].startswith(f"Scan interrupted at {done} of 40 tickers on ")
    assert published(redis_client, key_prefix) == done
    assert f"Scan interrupted at {done} of 40 tickers" in request(server.port, "GET", "/")[2]
    assert "Scan started." in click_scan(server)
    assert api_scan(server)["scan_id"] != running["scan_id"]


def test_a_reload_stops_the_old_worker_s_scan_and_the_new_worker_scans_at_once(
    serve, slow_scan, redis_client, key_prefix
):
    server = serve(**slow_scan, SCAN_DEAD_SECONDS="600")  # the report comes from the worker
    running = scan_under_way(server)

    server.process.send_signal(signal.SIGHUP)
    sent = time.monotonic()
    wait_until(lambda: not redis_client.exists(f"{key_prefix}scan_in_progress"), 10, "the lock")
    freed = time.monotonic() - sent

    assert freed < STOP_SECONDS, f"the lock was freed after {freed:.1f} s"
    ended = api_scan(server)
    done = ended["progress"]["done"]
    assert (ended["outcome"], ended["scan_id"]) == ("interrupted", running["scan_id"])
    assert ended["last_run"].startswith(f"Scan interrupted at {done} of 40 tickers on ")
    assert ended["last_run"].endswith(": the process running it shut down")
    assert published(redis_client, key_prefix) == done
    assert "Scan started." in click_scan(server)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stopping_server_frees_the_lock_and_reports_its_scan(
    serve, slow_scan, redis_client, key_prefix, stop
):
    server = serve(**slow_scan, SCAN_DEAD_SECONDS="600")
    running = scan_under_way(server)

    server.process.send_signal(stop)
    sent = time.monotonic()
    wait_until(lambda: not redis_client.exists(f"{key_prefix}scan_in_progress"), 10, "the lock")
    freed = time.monotonic() - sent
    server.process.wait(timeout=30)
    stopped = time.monotonic() - sent

    assert freed < STOP_SECONDS, f"the lock was freed after {freed:.1f} s"
    assert stopped < 10, f"gunicorn took {stopped:.1f} s to stop"  # its graceful timeout
    facts = json.loads(redis_client.get(f"{key_prefix}last_run_facts"))
    assert (facts["scan_id"], facts["outcome"]) == (running["scan_id"], "interrupted")
    assert published(redis_client, key_prefix) == facts["done"] >= 4
    restarted = serve(**slow_scan)
    assert "Scan started." in click_scan(restarted)
