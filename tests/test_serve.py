"""``make run``'s script, scripts/serve.sh, as a user meets it in a terminal: a taken port,
Ctrl-C, and a server that cannot start.

Each run gets a free port and its own instance folder; Ctrl-C is SIGINT to the script's
whole process group, as a terminal sends it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner_app.run_redis import RECORD

from .redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent
SERVE = ROOT / "scripts" / "serve.sh"
#: Ctrl-C must end the run well before gunicorn's graceful_timeout (10 s), after which the
#: arbiter kills a worker that did not stop.
STOP_SECONDS = 8
START_SECONDS = 30


def _env(instance: Path, port: int, **settings: str) -> dict[str, str]:
    """The environment ``make run`` gives the script (the venv's bin first on PATH), without
    the app's settings of the test run, and with ``instance`` as the instance folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SCANNER_", "MARKET_", "DEMO_", "SCAN_", "CACHE_", "FLASK_"))
        and key not in ("REDIS_URL", "DATABASE_URL", "WATCHLIST_FILE", "LOG_LEVEL", "PORT")
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(PORT=str(port), INSTANCE_PATH=str(instance), **settings)
    return env


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie waiting to be reaped does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_until_serving(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"make run did not serve within {START_SECONDS} s")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """Start scripts/serve.sh in a process group of its own; what it started is ended by
    the test, or killed here if the test did not get that far."""
    started: list[subprocess.Popen] = []

    def start(port: int, **settings: str) -> subprocess.Popen:
        process = subprocess.Popen(
            ["sh", str(SERVE)],
            cwd=ROOT,
            env=_env(tmp_path, port, **settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def test_a_taken_port_gets_one_line_saying_how_to_choose_another(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            ["sh", str(SERVE)],
            cwd=ROOT,
            env=_env(tmp_path, port),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    # status 0, as the README says: make adds no error line of its own
    assert result.returncode == 0
    assert result.stdout == (
        f"Port {port} is taken (another make run?): choose another with  make run PORT=5001\n"
    )
    assert result.stderr == ""
    assert not (tmp_path / RECORD).exists()  # nothing was started


def test_ctrl_c_stops_the_server_and_its_redis_with_status_0(serve, tmp_path):
    port = free_port()
    process = serve(port)
    _wait_until_serving(process, port)
    redis_pid = None
    if shutil.which("redis-server"):
        record = json.loads((tmp_path / RECORD).read_text())
        assert record["url"].startswith("redis://127.0.0.1:")
        redis_pid = record["pid"]
        assert _alive(redis_pid)

    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
    output, _ = process.communicate(timeout=STOP_SECONDS)

    assert process.returncode == 0, output
    assert "ERROR" not in output and "Traceback" not in output, output
    assert not (tmp_path / RECORD).exists()
    if redis_pid is not None:
        deadline = time.monotonic() + 5
        while _alive(redis_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(redis_pid), "the private redis-server outlived make run"


def test_a_server_that_cannot_start_fails_with_gunicorns_status(serve, tmp_path):
    process = serve(free_port(), MARKET_DATA="nonsense")  # every worker fails to boot
    output, _ = process.communicate(timeout=START_SECONDS)

    assert process.returncode != 0, output  # gunicorn's 3, "Worker failed to boot"
    assert "MARKET_DATA='nonsense' is not valid" in output
    assert not (tmp_path / RECORD).exists()  # cleaned up all the same
