"""A private ``redis-server`` on a free port that a test may stop and start again."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from .conftest import _free_port


class RedisServer:
    """A throwaway Redis without persistence; ``restart`` loses every key, as it would."""

    def __init__(self, workdir: Path, *args: str) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.args = args
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it and wait until it answers."""
        server = shutil.which("redis-server")
        assert server, "redis-server is not installed"
        command = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self.process = subprocess.Popen(
            [*command, "--appendonly", "no", *self.args],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        """Kill it: nothing is saved."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self, down_seconds: float = 1.0) -> None:
        """Stop it, stay down for ``down_seconds``, start it again empty."""
        self.stop()
        time.sleep(down_seconds)
        self.start()
