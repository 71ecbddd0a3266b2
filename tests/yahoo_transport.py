"""A fake Yahoo at the HTTP boundary: a ``YahooSession`` that answers from fixture files.

yfinance sees a real curl_cffi session (it checks the type) and runs its own cookie,
crumb and JSON-parsing code; only the final HTTP exchange (``transmit``) is replaced.
Options answers come from ``fixtures/yahoo/<SYMBOL>.json`` (no date) and
``<SYMBOL>_<YYYY-MM-DD>.json`` (``?date=<epoch>``), calendar answers (quoteSummary's
``calendarEvents``, the shape yfinance's calendar parser reads) from
``<SYMBOL>_calendar.json``, fundamentals (quoteSummary's ``financialData`` and
``defaultKeyStatistics``) from ``<SYMBOL>_fundamentals.json``, price history (the chart
endpoint, ``/v8/finance/chart/<SYMBOL>``) from ``<SYMBOL>_chart.json``, or any of them from
``payloads`` set by a test. Like Yahoo, a
data request without the crumb the fake last handed out gets HTTP 401 with Yahoo's
"Invalid Crumb" JSON. Any other URL raises ``UnexpectedRequest``.

``isolated_yfinance`` is the autouse fixture (import it into a test module) that gives each
test a fresh yfinance and keeps curl off the network.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from curl_cffi import requests as curl_requests
from curl_cffi.curl import Curl
from yfinance import cache as yf_cache
from yfinance.data import SingletonMeta, YfData

from scanner_app.market.yahoo import YahooSession

FIXTURES = Path(__file__).parent / "fixtures" / "yahoo"
CRUMB = "kX7r.Qf2mZb"
OPTIONS_PATH = "/v7/finance/options/"
CALENDAR_PATH = "/v10/finance/quoteSummary/"
CHART_PATH = "/v8/finance/chart/"
#: quoteSummary ``modules`` served -> the suffix of their fixture key.
SUMMARY_MODULES = {
    "calendarEvents": "_calendar",
    "financialData,defaultKeyStatistics": "_fundamentals",
}
#: Yahoo's answer (HTTP 401) to an options request with a stale or missing crumb.
INVALID_CRUMB = {
    "finance": {"result": None, "error": {"code": "Unauthorized", "description": "Invalid Crumb"}}
}

#: An options-request fault: an HTTP status to answer with, or an exception to raise.
Fault = int | Exception


class RealNetworkBlocked(AssertionError):
    """A test reached libcurl's transfer, i.e. tried the real network."""


def _refuse_real_network(curl: Curl, *args: Any, **kwargs: Any) -> None:
    raise RealNetworkBlocked("a test tried a real curl transfer")


@pytest.fixture(autouse=True)
def isolated_yfinance(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A fresh yfinance per test: no shared session or crumb, no disk cache, no real curl.

    yfinance keeps its session, cookie and crumb in the ``YfData`` singleton and its
    cookie in a SQLite cache under ~/.cache; both are swapped out here and put back after.
    """
    saved = SingletonMeta._instances.pop(YfData, None)
    monkeypatch.setattr(yf_cache._CookieCacheManager, "_Cookie_cache", yf_cache._CookieCacheDummy())
    for manager in (yf_cache._TzDBManager, yf_cache._CookieDBManager, yf_cache._ISINDBManager):
        monkeypatch.setattr(manager, "_cache_dir", str(tmp_path))
    monkeypatch.setattr(Curl, "perform", _refuse_real_network)
    yield
    SingletonMeta._instances.pop(YfData, None)
    if saved is not None:
        SingletonMeta._instances[YfData] = saved


class UnexpectedRequest(AssertionError):
    """The code under test asked for a URL the fake Yahoo does not serve."""


@dataclass(frozen=True)
class SeenRequest:
    """One request as the fake received it."""

    method: str
    url: str
    params: dict[str, Any]
    timeout: Any


def fixture_payload(name: str) -> dict[str, Any]:
    """The parsed JSON of ``fixtures/yahoo/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _response(url: str, status: int, body: bytes, content_type: str) -> curl_requests.Response:
    response = curl_requests.Response()
    response.url = url
    response.status_code = status
    response.ok = status < 400
    response.reason = "OK" if status < 400 else "Error"
    response.headers = curl_requests.Headers({"content-type": content_type})
    response.content = body
    return response


class FakeYahoo(YahooSession):
    """Serves Yahoo's cookie, crumb, options and quoteSummary (calendar, fundamentals)
    and chart endpoints from fixtures, counting requests (``options_requests``,
    ``calendar_requests``, ``summary_requests``: both kinds of quoteSummary,
    ``chart_requests``: their query parameters).

    ``fail_next(fault, times)`` makes the next ``times`` data requests (options and
    calendar; every one when ``times`` is None) answer with an HTTP status (401: Yahoo's
    "Invalid Crumb" JSON) or raise an exception; ``fail_crumb_next`` does the same to crumb
    requests with a status. ``fail_key(key, fault)`` answers every request for one fixture
    key (``AAPL_2026-11-27``, ``AAPL_calendar``) with ``fault``.
    ``rotate_crumb()`` makes the crumb handed out so far stale, as Yahoo does now and then.
    ``gate``, when set, holds every data request until it is opened; ``in_flight`` and
    ``peak`` count data requests being answered at once.
    """

    def __init__(self, *, timeout: float = 5.0) -> None:
        super().__init__(timeout=timeout)
        self.payloads: dict[str, Any] = {}
        self.requests: list[SeenRequest] = []
        self.options_requests: list[str] = []
        self.calendar_requests: list[str] = []
        self.summary_requests: list[str] = []
        self.chart_requests: list[dict[str, Any]] = []
        self.crumb = CRUMB
        self.crumb_requests = 0
        self._crumb_faults: deque[int] = deque()
        self._lasting_crumb_fault: int | None = None
        self.gate: threading.Event | None = None
        self.in_flight = 0
        self.peak = 0
        self._faults: deque[Fault] = deque()
        self._lasting_fault: Fault | None = None
        self._key_faults: dict[str, Fault] = {}
        self._lock = threading.Lock()

    def fail_next(self, fault: Fault, times: int | None) -> None:
        """Answer the next ``times`` data requests (None: all of them) with ``fault``."""
        if times is None:
            self._lasting_fault = fault
        else:
            self._faults.extend([fault] * times)

    def fail_key(self, key: str, fault: Fault) -> None:
        """Answer every request for the fixture ``key`` with ``fault``."""
        self._key_faults[key] = fault

    def fail_crumb_next(self, status: int, times: int | None) -> None:
        """Answer the next ``times`` crumb requests (None: all of them) with ``status``."""
        if times is None:
            self._lasting_crumb_fault = status
        else:
            self._crumb_faults.extend([status] * times)

    def rotate_crumb(self) -> None:
        """Hand out a new crumb from now on; options requests with the old one get 401."""
        with self._lock:
            self.crumb = f"{CRUMB}-{self.crumb_requests}"

    def transmit(self, method: str, url: str, **kwargs: Any) -> curl_requests.Response:
        """Answer one request as Yahoo would, from fixtures; raise on an unknown URL."""
        params = dict(kwargs.get("params") or {})
        with self._lock:
            self.requests.append(SeenRequest(method, url, params, kwargs.get("timeout")))
        parts = urlsplit(url)
        if method == "GET" and parts.hostname == "fc.yahoo.com":
            return _response(url, 404, b"", "text/html")
        if method == "GET" and parts.path == "/v1/test/getcrumb":
            return self._crumb(url)
        if method == "GET" and url == "https://guce.yahoo.com/consent":
            # No consent form: yfinance's csrf cookie strategy gives up and falls back to basic.
            return _response(url, 200, b"<html><body>No consent needed</body></html>", "text/html")
        if (
            method == "GET"
            and parts.hostname == "query2.finance.yahoo.com"
            and parts.path.startswith(OPTIONS_PATH)
        ):
            return self._options(
                url, parts.path.removeprefix(OPTIONS_PATH), parts.query, params.get("crumb")
            )
        if (
            method == "GET"
            and parts.hostname == "query2.finance.yahoo.com"
            and parts.path.startswith(CALENDAR_PATH)
            and params.get("modules") in SUMMARY_MODULES
        ):
            key = parts.path.removeprefix(CALENDAR_PATH) + SUMMARY_MODULES[params["modules"]]
            with self._lock:
                self.summary_requests.append(key)
                if key.endswith("_calendar"):
                    self.calendar_requests.append(key)
            return self._answer(url, key, params.get("crumb"))
        if (
            method == "GET"
            and parts.hostname == "query2.finance.yahoo.com"
            and parts.path.startswith(CHART_PATH)
        ):
            with self._lock:
                self.chart_requests.append(params)
            key = parts.path.removeprefix(CHART_PATH) + "_chart"
            return self._answer(url, key, params.get("crumb"))
        raise UnexpectedRequest(f"the fake Yahoo does not serve {method} {url}")

    def _crumb(self, url: str) -> curl_requests.Response:
        """The current crumb, or the crumb fault's status with Yahoo's "Too Many Requests"."""
        with self._lock:
            self.crumb_requests += 1
            status = (
                self._crumb_faults.popleft() if self._crumb_faults else self._lasting_crumb_fault
            )
            crumb = self.crumb
        if status is not None:
            return _response(url, status, HTTPStatus(status).phrase.encode(), "text/html")
        return _response(url, 200, crumb.encode(), "text/plain")

    def _options(
        self, url: str, symbol: str, query: str, crumb: str | None
    ) -> curl_requests.Response:
        dates = parse_qs(query).get("date")
        key = symbol
        if dates:
            key += "_" + datetime.fromtimestamp(int(dates[0]), UTC).date().isoformat()
        with self._lock:
            self.options_requests.append(key)
        return self._answer(url, key, crumb)

    def _answer(self, url: str, key: str, crumb: str | None) -> curl_requests.Response:
        """A data request's answer: its fault, a 401 for a stale crumb, else its payload."""
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            fault = self._faults.popleft() if self._faults else self._lasting_fault
            fault = self._key_faults.get(key, fault)
            if fault is None and crumb != self.crumb:
                fault = HTTPStatus.UNAUTHORIZED
        try:
            if self.gate is not None and not self.gate.wait(timeout=10):
                raise UnexpectedRequest("the test never opened the gate")
            if isinstance(fault, Exception):
                raise fault
            if fault == HTTPStatus.UNAUTHORIZED:
                return _response(url, fault, json.dumps(INVALID_CRUMB).encode(), "application/json")
            if fault is not None:
                return _response(url, fault, HTTPStatus(fault).phrase.encode(), "text/plain")
            return _response(url, 200, self._payload(key), "application/json")
        finally:
            with self._lock:
                self.in_flight -= 1

    def _payload(self, key: str) -> bytes:
        if key in self.payloads:
            payload = self.payloads[key]
            return payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        path = FIXTURES / f"{key}.json"
        if not path.is_file():
            raise UnexpectedRequest(f"no fixture for request {key!r}")
        return path.read_bytes()
