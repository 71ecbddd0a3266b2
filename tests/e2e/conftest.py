"""End-to-end fixtures: the app under gunicorn on a real port, driven by headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``, or ``CHROMIUM``); Playwright never downloads a
browser. Without Chromium these tests are skipped with the reason, except under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WATCHLIST = ["AAPL", "MSFT", "AMD", "NVDA", "TSLA", "KO", "PFE", "SOFI"]
#: Shares held in the watchlist: these tickers get covered calls screened too.
HELD_SHARES = {"AAPL": 300, "NVDA": 200}
PASSWORD = "correct horse battery"
#: The time ``session_server`` stands still at: a Wednesday, 11:00 in New York, in session.
IN_SESSION = "2026-11-18T16:00:00+00:00"
#: The time ``closed_market_server`` stands still at: a Saturday, 11:00 in New York.
MARKET_CLOSED = "2026-11-21T16:00:00+00:00"


@dataclass
class LiveServer:
    """A gunicorn serving the app, and what it was started with."""

    url: str
    prefix: str
    process: subprocess.Popen
    log: Path
    env: dict[str, str] = field(repr=False)
    #: The module whose ``app`` it serves (and ``flask --app`` scans with).
    app: str = "wsgi"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(server: LiveServer, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{server.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not start:\n{server.log.read_text()}")
        time.sleep(0.1)


def _start_server(tmp: Path, redis_url: str, app: str = "wsgi", **settings: str) -> LiveServer:
    watchlist = tmp / "watchlist.toml"
    watchlist.write_text(
        "".join(
            f'[[tickers]]\nsymbol = "{s}"\n'
            + (f"shares = {HELD_SHARES[s]}\n" if s in HELD_SHARES else "")
            + "\n"
            for s in WATCHLIST
        )
    )
    prefix = f"e2e-{uuid.uuid4().hex[:8]}:"
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SCANNER_", "MARKET_", "DEMO_", "SCAN_", "CACHE_", "FLASK_"))
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp / 'scanner.db'}"  # its own: the file seeds it once
    env.update(
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=prefix,
        WATCHLIST_FILE=str(watchlist),
        DEMO_LATENCY_MS="250",
        SCAN_CONCURRENCY="2",
        POLL_INTERVAL_SECONDS="1",
        SECRET_KEY="e2e-secret-" + "0123456789abcdef" * 3,
        **settings,
    )
    log = tmp / f"gunicorn-{port}.log"
    with log.open("w") as output:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
            + ["--threads", "4", "--no-control-socket", f"{app}:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", prefix, process, log, env, app)
    _wait_until_serving(server)
    return server


def _stop_server(server: LiveServer, redis_url: str) -> None:
    server.process.terminate()
    server.process.wait(15)
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{server.prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="session")
def live_server(redis_url: str, tmp_path_factory) -> Iterator[LiveServer]:
    """The app in local mode on the demo market (slow enough to watch a scan progress)."""
    server = _start_server(tmp_path_factory.mktemp("live"), redis_url)
    yield server
    _stop_server(server, redis_url)


@pytest.fixture(scope="session")
def session_server(redis_url: str, tmp_path_factory) -> Iterator[LiveServer]:
    """The app in local mode with its clock and demo market stopped in a session
    (``tests.frozen_wsgi``) and a database of its own: its scans write the history."""
    tmp = tmp_path_factory.mktemp("session")
    server = _start_server(
        tmp,
        redis_url,
        app="tests.frozen_wsgi",
        FROZEN_NOW=IN_SESSION,
        DATABASE_URL=f"sqlite:///{tmp / 'history.db'}",
    )
    yield server
    _stop_server(server, redis_url)


def _production_settings(tmp: Path) -> dict[str, str]:
    """Production mode (login required) over plain http on the loopback, with a database of
    its own whose first start makes the user ``admin`` with ``PASSWORD`` from
    SCANNER_PASSWORD_HASH (the upgrade path)."""
    from werkzeug.security import generate_password_hash

    return {
        "SCANNER_ENV": "production",
        "MARKET_DATA": "demo",
        "SCANNER_PASSWORD_HASH": generate_password_hash(PASSWORD),
        "FLASK_SESSION_COOKIE_SECURE": "false",
        "DATABASE_URL": f"sqlite:///{tmp / 'accounts.db'}",
        "LOGIN_RATE_LIMIT": "100/minute;1000/day",  # the tests log in often, from one address
    }


@pytest.fixture(scope="session")
def production_server(redis_url: str, tmp_path_factory) -> Iterator[LiveServer]:
    """The app in production mode on the real clock (see ``_production_settings``)."""
    tmp = tmp_path_factory.mktemp("production")
    server = _start_server(tmp, redis_url, **_production_settings(tmp))
    yield server
    _stop_server(server, redis_url)


@pytest.fixture(scope="session")
def closed_market_server(redis_url: str, tmp_path_factory) -> Iterator[LiveServer]:
    """The app in production mode with its clock stopped on a Saturday (``MARKET_CLOSED``):
    the Scan button is disabled and says when the market opens."""
    tmp = tmp_path_factory.mktemp("closed")
    server = _start_server(
        tmp,
        redis_url,
        app="tests.frozen_wsgi",
        FROZEN_NOW=MARKET_CLOSED,
        **_production_settings(tmp),
    )
    yield server
    _stop_server(server, redis_url)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, or the reason the browser tests cannot run."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if path is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required under CI=true: {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def expected_console_errors() -> list[re.Pattern[str]]:
    """Patterns of console errors a test provokes on purpose (such as a page answered 401)."""
    return []


@pytest.fixture
def browser_context_args() -> dict[str, Any]:
    """Options of each test's browser context; a test module may override it."""
    return {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def page(
    browser, browser_context_args: dict[str, Any], expected_console_errors: list[re.Pattern[str]]
):
    """A fresh browser context and page; fails the test if the console shows an error.

    Only errors that fully match one of ``expected_console_errors`` are let through.
    """
    context = browser.new_context(**browser_context_args)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()
    unexpected = [
        problem
        for problem in problems
        if not any(pattern.fullmatch(problem) for pattern in expected_console_errors)
    ]
    assert not unexpected, f"browser console errors: {unexpected}"


def api_json(server: LiveServer, path: str) -> Any:
    """The JSON the server answers to GET ``path`` (local mode: no login needed)."""
    with urllib.request.urlopen(f"{server.url}{path}", timeout=10) as response:
        return json.load(response)


def wait_until_idle(server: LiveServer, seconds: float = 30) -> None:
    """Wait until no scan is running on ``server`` (a test must not start on another's scan)."""
    deadline = time.monotonic() + seconds
    while api_json(server, "/api/scan")["state"] == "running":
        if time.monotonic() > deadline:
            raise RuntimeError(f"a scan was still running after {seconds} s")
        time.sleep(0.2)


def run_flask(server: LiveServer, *args: str, stdin: str | None = None) -> None:
    """Run ``flask ARGS`` in the foreground against ``server``'s app, database and Redis;
    it must exit 0."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", server.app, *args],
        cwd=ROOT,
        env=server.env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"flask {args[0]} exited {result.returncode}: {result.stderr}"


@pytest.fixture
def fresh_server(live_server: LiveServer, redis_url: str) -> LiveServer:
    """The live server with no scan running and none ever run: its Redis keys deleted."""
    wait_until_idle(live_server)
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{live_server.prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()
    return live_server


@pytest.fixture
def scanned_options(live_server: LiveServer) -> dict[str, list[dict[str, Any]]]:
    """Every ticker's puts on the live server, after a scan if there were none yet."""
    wait_until_idle(live_server)
    options = api_json(live_server, "/api/options")["options"]
    if not options:
        run_flask(live_server, "scan")
        options = api_json(live_server, "/api/options")["options"]
    assert options, "a scan of the demo market found no puts"
    return options
