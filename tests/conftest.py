"""Shared fixtures: a real Redis server, the app on it, a client and a CLI runner.

Redis: ``REDIS_URL`` when set, else a throwaway ``redis-server`` on a free port (and
``start_redis`` for a test's own servers with special settings). With no
Redis at all the tests that need it are skipped with the reason -- except under
``CI=true``, where that is an error. Every test gets its own key prefix, and its keys are
deleted afterwards, so a ``REDIS_URL`` pointing at a shared server loses nothing.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from flask import Flask

from scanner_app import create_app
from scanner_app.db import close_all, init_db
from scanner_app.market.demo import DemoProvider

from .database import database_url, empty_database_url, postgres_run_url  # noqa: F401
from .redis_server import free_port, redis_server, server_binary, wait_for


def _no_redis(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Redis is required under CI=true: {reason}")
    pytest.skip(f"no Redis: {reason}")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real Redis server for the whole session."""
    url = os.environ.get("REDIS_URL")
    if url:
        try:
            wait_for(url, seconds=2)
        except redis.ConnectionError as error:
            _no_redis(f"REDIS_URL={url} does not answer ({error})")
        yield url
        return
    if server_binary() is None:
        _no_redis("REDIS_URL is not set and redis-server is not installed")
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def start_redis(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start a throwaway redis-server with extra options (``--maxmemory 2mb``); its URL.

    Every server started is stopped when the test ends.
    """
    if server_binary() is None:
        _no_redis("redis-server is not installed")
    with ExitStack() as servers:

        def start(*options: str) -> str:
            return servers.enter_context(redis_server(tmp_path, *options))

        yield start


@pytest.fixture
def dead_redis_url() -> str:
    """A Redis URL where nothing listens."""
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def key_prefix() -> str:
    """A key prefix of this test's own."""
    return f"test-{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def redis_client(redis_url: str, key_prefix: str) -> Iterator[redis.Redis]:
    """A raw client on the test Redis; the test's keys are deleted afterwards."""
    client = redis.Redis.from_url(redis_url)
    yield client
    keys = list(client.scan_iter(match=f"{key_prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def demo_provider() -> DemoProvider:
    """The demo market without simulated latency, frozen on one day."""
    return DemoProvider(latency_ms=0, today=lambda: FROZEN_NOW.date())


class SynchronousExecutor:
    """Runs a started scan before returning, so route tests see its end state."""

    in_process = True

    def workers(self):
        """None: scans run in this process."""
        return None

    def unavailable_reason(self):
        """Always available."""
        return None

    def start(self, engine, scan_id):  # noqa: ANN001 - the Executor protocol
        """Run the whole scan now."""
        engine.run(scan_id)

    def working_on(self, scan_id):
        """No: a silent scan in this process is gone."""
        return False


#: A Wednesday in regular trading hours: 2026-11-18 11:00 ET.
FROZEN_NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def closed_databases() -> Iterator[None]:
    """Every database connection a test's apps opened is closed when it ends."""
    yield
    close_all()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every migration applied, copied for each test (never one in the
    checkout's instance folder)."""
    path = tmp_path_factory.mktemp("database") / "scanner.db"
    template = Flask("migrated_database")
    template.config["DATABASE_URL"] = f"sqlite:///{path}"
    init_db(template)
    close_all()
    return path


@pytest.fixture
def shared_database_url(migrated_database: Path, tmp_path: Path) -> str:
    """A migrated SQLite file of the test's own: the watchlists the app seeds from its
    ``WATCHLIST_FILE`` (once per database) never leak from one test into the next."""
    path = tmp_path / "test-scanner.db"
    shutil.copyfile(migrated_database, path)
    return f"sqlite:///{path}"


@pytest.fixture(autouse=True)
def database_for_processes(shared_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The processes a test starts (``flask``, gunicorn, RQ workers) inherit its database:
    none writes a SQLite file into the checkout, nor into a ``DATABASE_URL`` of the
    developer's own."""
    monkeypatch.setenv("DATABASE_URL", shared_database_url)


@pytest.fixture
def app_config(
    redis_url: str, key_prefix: str, demo_provider: DemoProvider, shared_database_url: str
) -> dict:
    """Config of a test app: real Redis, own prefix, demo market, scans run inline, a
    database in a temporary folder."""
    return {
        "DATABASE_URL": shared_database_url,
        "TESTING": True,
        "REDIS_URL": redis_url,
        "CACHE_BACKEND": "redis",
        "CACHE_KEY_PREFIX": key_prefix,
        "MARKET_PROVIDER": demo_provider,
        "SCAN_RUNNER": SynchronousExecutor(),
        "CLOCK": lambda: FROZEN_NOW,
        "SECRET_KEY": "test-secret-" + "0123456789abcdef" * 3,
        "WTF_CSRF_ENABLED": False,
    }


@pytest.fixture
def app(app_config: dict, redis_client: redis.Redis):
    """The app on the test Redis (pytest-flask picks it up for ``client``)."""
    return create_app(app_config)


@pytest.fixture
def make_app(app_config: dict, small_watchlist: Path, redis_client: redis.Redis):
    """Build a test app on the three-ticker watchlist, with config overrides."""

    def make(**overrides):
        return create_app({**app_config, "WATCHLIST_FILE": small_watchlist, **overrides})

    return make


@pytest.fixture
def watchlist_file(tmp_path: Path) -> Callable[[str], Path]:
    """Write a watchlist of this test's own from its TOML text; its path."""

    def write(text: str) -> Path:
        path = tmp_path / "own-watchlist.toml"
        path.write_text(text)
        return path

    return write


@pytest.fixture
def small_watchlist(tmp_path: Path) -> Path:
    """A three-ticker watchlist file."""
    path = tmp_path / "watchlist.toml"
    path.write_text(
        '[[tickers]]\nsymbol = "AAPL"\nfair_value = 150\n\n'
        '[[tickers]]\nsymbol = "TSLA"\n\n[[tickers]]\nsymbol = "KO"\n'
    )
    return path
