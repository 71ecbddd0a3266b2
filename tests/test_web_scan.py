"""POST /scan and the polling fragment: start or join, market hours, 204s, failures, CSRF."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import redis

from scanner_app import create_app
from scanner_app.redis_door import CacheUnavailable
from scanner_app.scan.store import Progress, TickerResult

from .conftest import FROZEN_NOW, SynchronousExecutor
from .production import PRODUCTION, log_in
from .scan_results import read_results

HX = {"HX-Request": "true"}
#: A Saturday: NYSE is closed; the next open is Monday 2026-11-23 09:30 ET.
SATURDAY = datetime(2026, 11, 21, 16, 0, tzinfo=UTC)
DEAD_REDIS = "redis://127.0.0.1:1/0"


class RecordingExecutor(SynchronousExecutor):
    """Runs each scan inline like the tests' SynchronousExecutor, but records what it raised.

    That mirrors the real thread executor, which logs a failed scan instead of passing
    the exception to the request that started it.
    """

    def __init__(self) -> None:
        self.jobs = 0
        self.errors: list[Exception] = []

    def start(self, engine, scan_id):  # noqa: ANN001 - the Executor protocol
        """Run the scan now, keeping its exception."""
        self.jobs += 1
        try:
            engine.run(scan_id)
        except Exception as error:
            self.errors.append(error)


class BrokenProvider:
    """A market whose every ticker fails with a bug-like (non-market) exception."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    def open(self, ticker: str, *, calls: bool = False):
        """Fail."""
        self.opened.append(ticker)
        raise RuntimeError(f"provider bug while opening {ticker}")


@pytest.fixture
def app_config(app_config, small_watchlist):
    """Three tickers, so a whole scan stays quick."""
    return {**app_config, "WATCHLIST_FILE": small_watchlist}


def _store(app):
    return app.extensions["put_scanner"].store


def _attribute(html: str, element_id: str, name: str) -> str | None:
    """The value of attribute ``name`` on the element with ``element_id``, if it has it."""
    tag = re.search(rf'<[a-z]+ id="{element_id}"[^>]*>', html, re.S)
    assert tag, f"no element with id {element_id}"
    value = re.search(rf'\s{name}="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def _status_tag(html: str) -> str:
    return re.search(r'<div id="scan-status"[^>]*>', html, re.S).group(0)


def _now_seconds() -> int:
    return int(FROZEN_NOW.timestamp())


def _simulate_running_scan(app, scan_id: str = "scan-live") -> Progress:
    """Take the lock and publish one finished ticker of three, as a running scan would.

    AAPL is published with the rows it has from an earlier scan (or one sample row).
    """
    scanner = app.extensions["put_scanner"]
    rows = scanner.reader.read_ticker("AAPL").options or [SAMPLE_ROW]
    store = scanner.store
    assert store.acquire_lock(scan_id)
    progress = Progress(scan_id=scan_id, total=3, started_at=FROZEN_NOW.isoformat())
    store.begin(progress)
    store.publish(scan_id, [TickerResult("AAPL", FROZEN_NOW.isoformat(), rows)], "TSLA")
    return replace(progress, done=1, current="TSLA")


SAMPLE_ROW = {"ticker": "AAPL", "strike": 140.0, "spot": 150.0, "annualized": 45.0, "delta": -0.1}


class CommandLog:
    """Wraps a redis client and records the commands sent through it (a pipeline is one)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.commands: list[str] = []

    def __getattr__(self, name):
        self.commands.append(name)
        return getattr(self.client, name)


def _log_commands(app) -> CommandLog:
    """Route every read and write of the app's store and reader through one CommandLog."""
    scanner = app.extensions["put_scanner"]
    log = CommandLog(scanner.store.read_client)
    scanner.store.read_client = log
    scanner.store.write_client = log
    scanner.reader.client = log
    scanner.reader._page.registered_client = log
    for script in scanner.store._scripts.values():
        script.registered_client = log
    return log


# -- starting ------------------------------------------------------------------------------


def test_get_scan_is_not_allowed(client):
    response = client.get("/scan")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "Method Not Allowed" in response.text
    assert "Traceback" not in response.text


def test_post_scan_runs_the_scan_and_answers_the_polling_fragment(app, client):
    response = client.post("/scan", headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="scan-status"')
    assert "<html" not in response.text
    assert "Scan started." in response.text
    poll_url = _attribute(response.text, "scan-status", "hx-get")
    assert poll_url.startswith("/scan/status?")
    assert "v=" not in poll_url  # the first poll must render, whatever the version is
    assert _attribute(response.text, "scan-status", "hx-trigger") == "every 2s"
    assert _store(app).read_status().last_run.startswith("Scan completed successfully")
    options = read_results(app.extensions["put_scanner"]).options
    assert set(options) <= {"AAPL", "TSLA", "KO"} and options


def test_post_scan_polls_from_the_version_the_page_shows(app, client):
    response = client.post("/scan", data={"v": "7"}, headers=HX)
    assert response.status_code == 200
    poll_url = _attribute(response.text, "scan-status", "hx-get")
    assert "v=7" in poll_url
    assert _attribute(response.text, "scan-status", "data-version") == "7"
    assert '<input type="hidden" name="v" value="7" form="scan-form">' in response.text


def test_without_htmx_post_scan_redirects_to_the_dashboard(client):
    response = client.post("/scan")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_a_scan_request_while_one_runs_joins_it(app, client, demo_provider):
    store = _store(app)
    assert store.acquire_lock("someone-elses-scan")
    requests_before = demo_provider.request_count
    response = client.post("/scan", headers=HX)
    assert response.status_code == 200
    assert "already running" in response.text
    assert _attribute(response.text, "scan-status", "hx-trigger") == "every 2s"
    assert store.lock_owner() == "someone-elses-scan"
    assert demo_provider.request_count == requests_before


def test_the_lock_is_released_when_every_ticker_raises(app_config, redis_client):
    provider = BrokenProvider()
    app = create_app({**app_config, "MARKET_PROVIDER": provider})
    response = app.test_client().post("/scan", headers=HX)
    assert response.status_code == 200
    assert sorted(provider.opened) == ["AAPL", "KO", "TSLA"]
    store = _store(app)
    assert store.lock_owner() is None
    errors = read_results(app.extensions["put_scanner"]).errors
    assert set(errors) == {"AAPL", "KO", "TSLA"}
    assert all("provider bug" in error for error in errors.values())


def test_the_lock_is_released_when_the_store_fails_mid_scan(app_config, redis_client):
    executor = RecordingExecutor()
    app = create_app({**app_config, "SCAN_RUNNER": executor})
    store = _store(app)

    def failing_publish(*args, **kwargs):
        raise CacheUnavailable("connection reset while publishing")

    store.publish = failing_publish
    response = app.test_client().post("/scan", headers=HX)
    assert response.status_code == 200
    assert [type(error) for error in executor.errors] == [CacheUnavailable]
    assert store.lock_owner() is None
    status = store.read_status()
    assert status.last_run.startswith("Scan failed")
    assert status.facts.outcome == "failed"
    assert status.facts.reason == "connection reset while publishing"


# -- market hours --------------------------------------------------------------------------


@pytest.fixture
def production_client(app_config, redis_client):
    """A logged-in client of a production app on a Saturday."""
    app = create_app({**app_config, **PRODUCTION, "CLOCK": lambda: SATURDAY})
    client = app.test_client()
    assert log_in(client).status_code == 302
    return client


def test_production_refuses_to_scan_while_the_market_is_closed(production_client, demo_provider):
    response = production_client.post("/scan", headers=HX)
    assert response.status_code == 200
    assert "Market is closed" in response.text
    assert "Next open: Mon Nov 23, 2026 9:30 AM EST" in response.text
    assert _attribute(response.text, "scan-status", "hx-trigger") is None
    assert demo_provider.request_count == 0
    assert _store(production_client.application).lock_owner() is None


def test_production_pages_say_the_market_is_closed_and_when_it_opens(production_client):
    page = production_client.get("/")
    assert page.status_code == 200
    assert 'class="banner banner-warning"' in page.text
    assert (
        "Market is closed" in page.text and "Next open: Mon Nov 23, 2026 9:30 AM EST" in page.text
    )
    assert "Local mode" not in page.text
    assert '<form class="logout" method="post" action="/logout">' in page.text


def test_a_refused_scan_keeps_the_last_scans_record(production_client, redis_client, key_prefix):
    app = production_client.application
    forced = app.test_cli_runner().invoke(args=["scan", "--force"])
    assert forced.exit_code == 0, forced.output
    keys = [f"{key_prefix}last_run", f"{key_prefix}last_run_facts"]
    record = redis_client.mget(keys)
    assert b"Scan completed successfully" in record[0] and b'"completed"' in record[1]

    fragment = production_client.post("/scan", headers=HX)
    plain = production_client.post("/scan")
    command = app.test_cli_runner().invoke(args=["scan"])

    assert redis_client.mget(keys) == record
    assert fragment.status_code == 200
    assert "Market is closed" in fragment.text
    assert "Next open: Mon Nov 23, 2026 9:30 AM EST" in fragment.text
    assert "Last scan: Scan completed successfully" in fragment.text
    assert plain.status_code == 303
    page = production_client.get("/").text
    assert "Market is closed" in page and "Last scan: Scan completed successfully" in page
    assert command.exit_code == 2 and "Market is closed" in command.output
    api = production_client.get("/api/scan").get_json()
    assert api["last_run"].startswith("Scan completed successfully")
    assert api["last_run_facts"]["outcome"] == "completed"


def test_local_mode_scans_outside_market_hours(app_config, redis_client, demo_provider):
    app = create_app({**app_config, "CLOCK": lambda: SATURDAY})
    response = app.test_client().post("/scan", headers=HX)
    assert response.status_code == 200
    assert "Market is closed" not in response.text
    assert demo_provider.request_count > 0
    assert _store(app).read_status().last_run.startswith("Scan completed")


# -- polling -------------------------------------------------------------------------------


def test_status_when_never_scanned_is_idle_without_polling(client):
    response = client.get("/scan/status", headers=HX)
    assert response.status_code == 200
    assert "Last scan: Never" in response.text
    assert "hx-trigger" not in _status_tag(response.text)


def test_after_the_scan_the_poll_returns_the_final_fragment_without_a_trigger(client):
    client.post("/scan", headers=HX)
    response = client.get(f"/scan/status?at={_now_seconds()}", headers=HX)
    assert response.status_code == 200
    status = _status_tag(response.text)
    assert "hx-trigger" not in status and "hx-get" not in status
    assert "Last scan: Scan completed successfully" in response.text
    assert "Scanned 3 of 3 tickers" in response.text
    # the results and banners come along, swapped out of band
    assert re.search(r'<section id="results"[^>]*hx-swap-oob="true"', response.text)
    assert re.search(r'<div id="banners"[^>]*hx-swap-oob="true"', response.text)
    assert 'href="/ticker/KO"' in response.text


def test_while_a_scan_runs_the_poll_shows_progress_and_keeps_polling(app, client):
    client.post("/scan", headers=HX)
    _simulate_running_scan(app)
    version = _store(app).read_status().version
    response = client.get("/scan/status", headers=HX)
    assert response.status_code == 200
    html = response.text
    assert re.search(r'<progress id="scan-progress" max="3" value="1">33%</progress>', html)
    assert "1 of 3 tickers (33%), now TSLA" in html
    assert _attribute(html, "scan-status", "hx-trigger") == "every 2s"
    assert _attribute(html, "scan-status", "hx-swap") == "outerHTML"
    assert _attribute(html, "scan-status", "hx-include") == "#filters, #results .view-state"
    assert _attribute(html, "scan-status", "data-version") == str(version)
    poll_url = _attribute(html, "scan-status", "hx-get")
    assert f"v={version}" in poll_url and f"at={_now_seconds()}" in poll_url
    assert re.search(r'<section id="results"[^>]*hx-swap-oob="true"', html)


def test_the_dashboard_of_a_running_scan_starts_polling_at_the_current_version(app, client):
    _simulate_running_scan(app)
    version = _store(app).read_status().version
    page = client.get("/").text
    assert _attribute(page, "scan-status", "hx-trigger") == "every 2s"
    assert f"v={version}" in _attribute(page, "scan-status", "hx-get")
    assert "1 of 3 tickers (33%), now TSLA" in page


def test_the_poll_interval_follows_the_setting(app_config, redis_client):
    app = create_app({**app_config, "POLL_INTERVAL_SECONDS": 5})
    _simulate_running_scan(app)
    response = app.test_client().get("/scan/status", headers=HX)
    assert _attribute(response.text, "scan-status", "hx-trigger") == "every 5s"


def test_an_unchanged_version_gets_204_from_one_version_read(app, client):
    _simulate_running_scan(app)
    version = _store(app).read_status().version
    log = _log_commands(app)

    response = client.get(f"/scan/status?v={version}&at={_now_seconds()}&s=AAPL&n=1", headers=HX)

    assert response.status_code == 204
    assert response.data == b""
    assert len(log.commands) == 1 and log.commands[0] in ("get", "mget")  # one round trip


def test_a_new_version_gets_fresh_progress(app, client):
    _simulate_running_scan(app)
    store = _store(app)
    old_version = store.read_status().version
    store.publish("scan-live", [TickerResult("KO", FROZEN_NOW.isoformat(), [SAMPLE_ROW])], "KO")
    response = client.get(
        f"/scan/status?v={old_version}&at={_now_seconds()}&s=AAPL&n=1", headers=HX
    )
    assert response.status_code == 200
    assert "2 of 3 tickers (67%), now KO" in response.text
    assert _attribute(response.text, "scan-status", "data-version") == str(old_version + 1)
    # only what changed on the shown page comes along: KO's new row, not the whole table
    assert '<section id="results"' not in response.text
    assert re.search(
        r'<table hx-swap-oob="afterend:#ticker-AAPL">\s*<tbody[^>]*id="ticker-KO"', response.text
    )
    assert 'id="ticker-AAPL"' not in response.text


def test_an_old_fragment_of_a_running_scan_rechecks_the_status_in_one_read(app, client):
    _simulate_running_scan(app)
    version = _store(app).read_status().version
    log = _log_commands(app)

    response = client.get(f"/scan/status?v={version}&at=0&s=AAPL&n=1", headers=HX)

    # still running and nothing changed: no re-render (it used to render again)
    assert response.status_code == 204
    assert log.commands == ["mget"]


def test_an_old_fragment_renders_again_once_the_scan_is_gone(app, client, redis_client, key_prefix):
    _simulate_running_scan(app)
    version = _store(app).read_status().version
    redis_client.delete(f"{key_prefix}scan_in_progress")  # its worker died, the lock expired

    response = client.get(f"/scan/status?v={version}&at=0&s=AAPL&n=1", headers=HX)

    assert response.status_code == 200
    assert "hx-trigger" not in _status_tag(response.text)
    assert "Last scan: Scan interrupted at 1 of 3 tickers on Wed Nov 18, 2026" in response.text
    reported = _store(app).read_status().version
    assert reported > version
    recent = client.get(f"/scan/status?v={reported}&at={_now_seconds()}", headers=HX)
    assert recent.status_code == 204  # a recent fragment trusts the version alone


def test_an_old_fragment_of_a_silent_scan_reads_the_whole_status_and_reports_it(
    app, client, redis_client, key_prefix
):
    _simulate_running_scan(app)
    version = _store(app).read_status().version
    silent_since = (FROZEN_NOW - timedelta(minutes=5)).isoformat()
    redis_client.set(
        f"{key_prefix}scan_heartbeat", json.dumps({"scan_id": "scan-live", "at": silent_since})
    )
    log = _log_commands(app)

    response = client.get(f"/scan/status?v={version}&at=0&s=AAPL&n=1", headers=HX)

    assert response.status_code == 200
    assert "Last scan: Scan interrupted at 1 of 3 tickers on Wed Nov 18, 2026" in response.text
    assert log.commands[:2] == ["mget", "mget"]  # the pulse, then the whole status
    recent = client.get(f"/scan/status?v={version}&at={_now_seconds()}", headers=HX)
    assert recent.status_code == 200  # the report is a new version


def _escaped(text: str) -> str:
    """``text`` with every character percent-escaped."""
    return "".join(f"%{ord(character):02X}" for character in text)


@pytest.mark.parametrize(
    ("query", "unchanged"),
    [
        ("v={v}&at={at}", True),
        ("%76={v}&at={at}", True),  # an escaped name
        ("v={escaped_v}&{escaped_at}={at}", True),  # escaped digits, an escaped name
        ("v={v}&v=0&at={at}", True),  # the first of repeated arguments counts
        ("v=0&v={v}&at={at}", False),
        ("v={v}+&at={at}", False),  # "+" is a space: not a number
        ("at={at}&s=AAPL&v={v}", True),
    ],
)
def test_the_poll_reads_its_version_and_time_as_the_query_parser_does(
    app, client, query, unchanged
):
    _simulate_running_scan(app)
    version = _store(app).read_status().version
    arguments = query.format(
        v=version, at=_now_seconds(), escaped_v=_escaped(str(version)), escaped_at=_escaped("at")
    )

    response = client.get(f"/scan/status?{arguments}", headers=HX)

    assert response.status_code == (204 if unchanged else 200)


@pytest.mark.parametrize("query", ["v=abc&at=x", "v=-1", "v=" + "9" * 40, "v=1.5&at=1e9"])
def test_garbage_poll_arguments_just_render_the_status(app, client, query):
    _simulate_running_scan(app)
    response = client.get(f"/scan/status?{query}", headers=HX)
    assert response.status_code == 200
    assert "1 of 3 tickers" in response.text


def test_the_poll_applies_the_filters_it_carries(app, client):
    client.post("/scan", headers=HX)
    response = client.get("/scan/status?min_annualized=10000&max_dte=abc", headers=HX)
    assert response.status_code == 200
    assert "No puts match these filters." in response.text
    # a bad value's message stays beside the form; the poll leaves the form alone
    assert 'id="filters"' not in response.text


# -- Redis down ----------------------------------------------------------------------------


@pytest.fixture
def down_config(app_config):
    """Config of an app whose Redis does not answer."""
    return {**app_config, "REDIS_URL": DEAD_REDIS, "SCAN_RUNNER": RecordingExecutor()}


def test_post_scan_with_redis_down_is_503_and_starts_nothing(down_config):
    app = create_app(down_config)
    response = app.test_client().post("/scan", headers=HX)
    assert response.status_code == 503
    assert 'id="scan-status"' in response.text
    assert "The scan was not started" in response.text
    assert "hx-trigger" not in _status_tag(response.text)
    assert down_config["SCAN_RUNNER"].jobs == 0


def test_post_scan_without_htmx_and_redis_down_is_a_503_page(down_config):
    response = create_app(down_config).test_client().post("/scan")
    assert response.status_code == 503
    assert "<html" in response.text and "The scan was not started" in response.text


def test_polling_with_redis_down_says_so_and_keeps_the_normal_interval(down_config):
    client = create_app(down_config).test_client()
    for query in (f"v=3&at={_now_seconds()}", ""):
        response = client.get(f"/scan/status?{query}", headers=HX)
        assert response.status_code == 200
        assert "Data temporarily unavailable. Please refresh the page." in response.text
        assert _attribute(response.text, "scan-status", "hx-trigger") == "every 2s"
        assert "hx-swap-oob" not in response.text  # the results on the page are kept


# -- CSRF ----------------------------------------------------------------------------------


def test_post_scan_needs_the_csrf_token_when_protection_is_on(app_config, redis_client):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    refused = client.post("/scan", headers=HX)
    assert refused.status_code == 400
    assert _store(app).read_status().last_run == "Never"
    page = client.get("/").text
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    accepted = client.post("/scan", headers={**HX, "X-CSRFToken": token})
    assert accepted.status_code == 200
    assert 'id="scan-status"' in accepted.text
