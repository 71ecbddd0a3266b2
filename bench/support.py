"""What the benchmarks share: a Redis server, a generated watchlist, an app on them."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import redis

from scanner_app import create_app


@contextlib.contextmanager
def redis_url() -> Iterator[str]:
    """``REDIS_URL`` when set, else a private redis-server on a free port for the run."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit("bench: set REDIS_URL or install redis-server")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(100):
            with contextlib.suppress(redis.ConnectionError):
                client.ping()
                break
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def write_watchlist(directory: Path, count: int) -> Path:
    """A watchlist of ``count`` made-up symbols (the demo market prices any symbol)."""
    path = directory / f"watchlist-{count}.toml"
    entries = "".join(f'[[tickers]]\nsymbol = "B{index:03d}"\n\n' for index in range(count))
    path.write_text(entries)
    return path


def bench_app(url: str, tickers: int, **config):
    """An app on ``url`` with its own key prefix and a database of its own, seeded with a
    generated watchlist; without earnings dates (a request per ticker per day), so the
    figures measure the chains alone."""
    directory = Path(tempfile.mkdtemp(prefix="put-scanner-bench-"))
    settings = {
        "REDIS_URL": url,
        "CACHE_BACKEND": "redis",
        "CACHE_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}:",
        "WATCHLIST_FILE": write_watchlist(directory, tickers),
        # a database of the run's own: the file seeds it once
        "DATABASE_URL": f"sqlite:///{directory / 'bench.db'}",
        "SECRET_KEY": "bench",
        "EARNINGS": False,
        **config,
    }
    return create_app(settings)


def clear_prefix(app) -> None:
    """Delete the keys the benchmark wrote."""
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    keys = list(client.scan_iter(match=f"{app.config['CACHE_KEY_PREFIX']}*"))
    if keys:
        client.delete(*keys)


def median_get(client, path: str, samples: int = 30) -> tuple[float, int]:
    """Median seconds of ``samples`` GETs of ``path``, and the size of its body."""
    seconds, size = [], 0
    for _ in range(samples):
        started = time.perf_counter()
        response = client.get(path)
        seconds.append(time.perf_counter() - started)
        size = len(response.data)
    return statistics.median(seconds), size
