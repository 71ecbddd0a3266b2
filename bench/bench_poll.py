"""What an unchanged status poll costs against the floor: a route that makes one Redis GET.

Local mode under gunicorn (2 workers x 4 gthreads, the app of ``bench/poll_app.py``: the
app of ``wsgi.py`` plus the floor route), a private redis-server, the bundled watchlist
filled by a real scan (demo market), then a scan "running" that changes nothing: it holds
the lock and beats, as a live scan does between two tickers. Chromium opens the dashboard
and the bench takes the URL of its first status poll, exactly as the page sends it (the
first page of the bundled watchlist: the view, the shown tickers). ``wrk -c32`` then
loads, in interleaved rounds:

- the floor, ``/bench/floor`` (same app, same hooks: one Redis GET, 204);
- the unchanged poll: that URL with a fresh ``at`` (204);
- the poll of an old fragment: ``at`` older than the liveness recheck (half of
  ``SCAN_DEAD_SECONDS``), which checks that the scan is still alive (204).

Each case's best round is compared with the floor's best round (the rounds least disturbed
by other work on the machine), and each poll round with the floor round of its cycle (the
median of those ratios); the gunicorn workers' CPU time per request (from ``/proc``) is
compared the same ways. Targets: the unchanged poll at least 0.9 of the floor, the old
fragment at least 0.5.

Run: ``make bench`` (or ``python -m bench.bench_poll``). Needs wrk (``apt-get install -y
wrk``) and Chromium (``apt-get install -y chromium``, or ``CHROMIUM=/path``). Prints
figures; asserts nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from scanner_app import create_app

from .poll_app import FLOOR_PATH
from .support import redis_url

ROOT = Path(__file__).resolve().parent.parent
WORKERS, THREADS, CONNECTIONS = 2, 4, 32
#: Seconds each round of wrk lasts: well under the liveness recheck (10 s by default), so a
#: fresh ``at`` stays fresh for the whole round; short, so that the three rounds of a cycle
#: see the same machine.
ROUND_SECONDS = 1
CYCLES = 30
#: Seconds older than the liveness recheck that the old fragment's ``at`` is set.
OLD_BY = 60
SCAN_ID = "bench-poll"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
REQUESTS_PER_SECOND = re.compile(r"Requests/sec:\s+([\d.]+)")
REQUESTS = re.compile(r"(\d+) requests in")
NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
AT = re.compile(r"([?&]at=)\d+")


class Round(NamedTuple):
    """One round of wrk: requests per second, and the workers' CPU seconds per request."""

    rate: float
    cpu: float


def _tool(name: str, how: str) -> str:
    """The path of ``name``, or exit saying how to get it."""
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"bench_poll: {name} is not installed ({how})")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings(url: str, instance: Path) -> dict[str, str]:
    """The environment of the app: local mode, the bundled watchlist, a private prefix."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SCANNER_", "MARKET_", "DEMO_", "SCAN_", "CACHE_", "FLASK_"))
        and key not in {"SECRET_KEY", "WATCHLIST_FILE", "WEB_CONCURRENCY", "PORT", "REDIS_URL"}
    }
    return {
        **kept,
        "REDIS_URL": url,
        "CACHE_KEY_PREFIX": f"bench-poll-{uuid.uuid4().hex[:8]}:",
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "bench",
        "DEMO_LATENCY_MS": "0",
    }


@contextlib.contextmanager
def running_scan() -> Iterator[object]:
    """The store filled by a real scan, then a scan that holds the lock and beats but
    publishes nothing; yields the scanner. Cleans its keys up after."""
    scanner = create_app().extensions["put_scanner"]
    assert scanner.store.acquire_lock("bench-fill")
    scanner.engine().run("bench-fill")
    assert scanner.store.acquire_lock(SCAN_ID)
    scanner.engine().begin(SCAN_ID)
    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(scanner, stop), daemon=True)
    beat.start()
    try:
        yield scanner
    finally:
        stop.set()
        beat.join()
        client = scanner.store.write_client
        keys = list(client.scan_iter(match=f"{scanner.settings['CACHE_KEY_PREFIX']}*"))
        if keys:
            client.delete(*keys)


def _beat(scanner, stop: threading.Event) -> None:
    """The running scan's heartbeat, every ``SCAN_HEARTBEAT_SECONDS``."""
    while not stop.wait(scanner.settings["SCAN_HEARTBEAT_SECONDS"]):
        scanner.store.refresh_lock(SCAN_ID)


@contextlib.contextmanager
def gunicorn(settings: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """gunicorn serving the bench app; yields its base URL and the arbiter's pid."""
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "-k", "gthread"]
    command += ["--threads", str(THREADS), "bench.poll_app:create_bench_app()"]
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**settings, "PORT": str(port), "PYTHONPATH": str(ROOT)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while _status(f"{base}/healthz") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench_poll: gunicorn did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(15)


def _status(url: str) -> int | None:
    """The status of GET ``url`` (None when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except OSError:
        return None


def page_poll_path(base: str) -> str:
    """The path and query of the dashboard's first status poll, as Chromium sends it."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM") or _tool("chromium", "apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            with page.expect_request(lambda sent: "/scan/status" in sent.url) as sent:
                page.goto(f"{base}/")
            url = sent.value.url
        finally:
            browser.close()
    return url.removeprefix(base)


def with_at(path: str, at: int) -> str:
    """``path`` with its ``at`` (when the fragment was rendered) set to ``at``."""
    return AT.sub(lambda match: f"{match.group(1)}{at}", path, count=1)


def workers_cpu(arbiter: int) -> float:
    """CPU seconds (user and system) spent so far by the workers of gunicorn ``arbiter``."""
    ticks = 0
    for child in Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split():
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int) -> tuple[float, int]:
    """Requests per second ``wrk -c32`` gets from ``url``, and how many it sent; warns of
    answers other than 2xx/3xx."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    bad = NON_2XX.search(output)
    if bad:
        print(f"  warning: {bad.group(1)} answers were not 2xx/3xx from {url[:80]}")
    return float(REQUESTS_PER_SECOND.search(output).group(1)), int(REQUESTS.search(output).group(1))


def measure(base: str, arbiter: int, poll: str, recheck: float) -> dict[str, list[Round]]:
    """Interleaved rounds of the floor, the unchanged poll and the old fragment's poll."""
    cases = {
        "floor": lambda: FLOOR_PATH,
        "unchanged": lambda: with_at(poll, int(time.time())),
        "old fragment": lambda: with_at(poll, int(time.time() - recheck - OLD_BY)),
    }
    for name, path in cases.items():
        status = _status(base + path())
        if status != 204:
            raise SystemExit(f"bench_poll: {name} answered {status}, not 204")
    for path in cases.values():  # warm up every worker and thread
        wrk(base + path(), 2)
    rounds: dict[str, list[Round]] = {name: [] for name in cases}
    for _ in range(CYCLES):
        for name, path in cases.items():
            cpu = workers_cpu(arbiter)
            rate, requests = wrk(base + path(), ROUND_SECONDS)
            rounds[name].append(Round(rate, (workers_cpu(arbiter) - cpu) / requests))
    return rounds


def report(rounds: dict[str, list[Round]], poll: str) -> None:
    """Print each case's req/s and CPU per request, and their ratios to the floor's: of the
    best rounds, then the medians."""
    shown = poll if len(poll) <= 100 else f"{poll[:100]}... ({len(poll)} characters)"
    print(
        f"poll vs floor: gunicorn {WORKERS} workers x {THREADS} gthreads, wrk -t1 "
        f"-c{CONNECTIONS}, {CYCLES} cycles of {ROUND_SECONDS} s rounds, load average "
        f"{os.getloadavg()[0]:.2f} at the end\n  the page's poll: {shown}"
    )
    floor = rounds["floor"]
    best_rate, best_cpu = max(one.rate for one in floor), min(one.cpu for one in floor)
    median_cpu = statistics.median(one.cpu for one in floor)
    print(
        f"  floor ({FLOOR_PATH}): best {best_rate:.0f} req/s, median "
        f"{statistics.median(one.rate for one in floor):.0f}; workers' CPU best "
        f"{best_cpu * 1e6:.0f} us/request, median {median_cpu * 1e6:.0f}"
    )
    for name, target in (("unchanged", 0.9), ("old fragment", 0.5)):
        rates, cpus = [one.rate for one in rounds[name]], [one.cpu for one in rounds[name]]
        ratios = [one.rate / base.rate for one, base in zip(rounds[name], floor, strict=True)]
        quartiles = statistics.quantiles(ratios, n=4)
        print(
            f"  {name} poll (target >= {target} of the floor): best {max(rates):.0f} req/s = "
            f"{max(rates) / best_rate:.2f} of the floor's best; CPU best {min(cpus) * 1e6:.0f} "
            f"us/request = floor's x {best_cpu / min(cpus):.2f}\n"
            f"    median of the cycles' ratios {statistics.median(ratios):.2f} (quartiles "
            f"{quartiles[0]:.2f}-{quartiles[2]:.2f}); median CPU = floor's x "
            f"{median_cpu / statistics.median(cpus):.2f}"
        )


def main() -> None:
    """Fill the store, start a quiet scan and gunicorn, take the page's poll, measure."""
    _tool("wrk", "apt-get install -y wrk")
    with (
        tempfile.TemporaryDirectory(prefix="put-scanner-bench-poll-") as folder,
        redis_url() as url,
    ):
        directory = Path(folder)
        settings = _settings(url, directory)
        os.environ.update(settings)  # the scan in this process reads the same settings
        log = directory / "gunicorn.log"
        with running_scan() as scanner, gunicorn(settings, log) as (base, arbiter):
            poll = page_poll_path(base)
            rounds = measure(base, arbiter, poll, scanner.settings["SCAN_DEAD_SECONDS"] / 2)
            if scanner.store.read_status().running_scan != SCAN_ID:
                print("  warning: the scan stopped running during the bench")
    report(rounds, poll)


if __name__ == "__main__":
    main()
