"""Throwaway ``redis-server`` processes on free loopback ports, without persistence."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

STOP_SECONDS = 10


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 10.0) -> None:
    """Return once the Redis at ``url`` answers a PING; raise ConnectionError after ``seconds``."""
    deadline = time.monotonic() + seconds
    client = redis.Redis.from_url(url)
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            client.close()


def server_binary() -> str | None:
    """The path of ``redis-server``, or None when it is not installed."""
    return shutil.which("redis-server")


@contextmanager
def redis_server(workdir: Path, *options: str) -> Iterator[str]:
    """A ``redis-server`` with ``options`` (e.g. ``--maxmemory 2mb``) for the block; its URL.

    The server saves nothing to disk, and is stopped (killed after STOP_SECONDS) on exit.
    """
    binary = server_binary()
    assert binary is not None, "redis-server is not installed"
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + list(options),
        cwd=workdir,
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(url)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class RedisServer:
    """A throwaway Redis that a test may restart: ``restart`` loses every key, as it would."""

    def __init__(self, workdir: Path, *options: str) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.options = options
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it on its port and wait until it answers."""
        binary = server_binary()
        assert binary is not None, "redis-server is not installed"
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self.process = subprocess.Popen(
            [*command, "--appendonly", "no", *self.options],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
        )
        wait_for(self.url)

    def stop(self) -> None:
        """Kill it: nothing is saved."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_SECONDS)

    def restart(self, down_seconds: float = 1.0) -> None:
        """Stop it, stay down for ``down_seconds``, start it again empty."""
        self.stop()
        time.sleep(down_seconds)
        self.start()
