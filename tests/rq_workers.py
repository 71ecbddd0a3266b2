"""Real ``flask --app wsgi rq worker`` processes for the RQ executor's tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).with_name("flask")
#: How far into a batch ``kill_mid_batch`` strikes: long enough for the job process to
#: mark its job started, short of the batch's end.
MID_BATCH_SECONDS = 0.5
#: Settings of the parent environment that must not leak into a test's processes.
_OWN_PREFIXES = ("SCANNER_", "MARKET_", "DEMO_", "SCAN_", "CACHE_", "YAHOO_", "REDIS_", "RQ_")


def process_env(**settings: str) -> dict[str, str]:
    """The environment of a test's app processes: the parent's, minus the app's settings,
    plus ``settings`` (demo market, RQ executor unless overridden)."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    kept.pop("SECRET_KEY", None)
    return {
        **kept,
        "PYTHONPATH": str(ROOT),
        "MARKET_DATA": "demo",
        "SCAN_EXECUTOR": "rq",
        "CACHE_BACKEND": "redis",
        **settings,
    }


class WorkerProcess:
    """One ``flask --app wsgi rq worker`` (or of another ``app``) in a process group of its
    own, logging to a file."""

    def __init__(self, env: dict[str, str], log: Path, *flags: str, app: str = "wsgi") -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(FLASK), "--app", app, "rq", "worker", *flags],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        """The worker's process id (and its process group's)."""
        return self.process.pid

    def horses(self) -> list[int]:
        """The work horses it forked (each in a process group of its own)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def kill_mid_batch(self, seconds: float = 20) -> None:
        """Wait until it works on a batch (half a second into it, so RQ counts the job as
        started), then kill it."""
        wait_until(self.horses, seconds, "a batch on the worker to kill", interval=0.01)
        time.sleep(MID_BATCH_SECONDS)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the worker's process group and its horses' groups, as a crash would."""
        groups = [*self.horses(), self.pid]
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop it now (tests do not wait for a warm shutdown)."""
        if self.process.poll() is None:
            self.kill()

    def output(self) -> str:
        """What it logged so far."""
        return self.log.read_text(errors="replace")


def wait_until(predicate, seconds: float, what: str, interval: float = 0.1):
    """Poll ``predicate`` until it returns something true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds:g} s waiting for {what}")
        time.sleep(interval)
