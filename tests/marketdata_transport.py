"""A fake Market Data API for httpx's mock transport, answering from fixture files.

Chain requests (``/v1/options/chain/<SYMBOL>/``) get the queued ``answers``, then
``lasting`` if set, else the AAPL chain of ``fixtures/marketdata/AAPL.json``; earnings
requests (``/v1/stocks/earnings/<SYMBOL>/``) get the queued ``earnings``, else
``AAPL_earnings.json``; daily candles (``/v1/stocks/candles/D/<SYMBOL>/``) the queued
``candles``, else ``AAPL_candles.json``; expirations (``/v1/options/expirations/<SYMBOL>/``)
the queued ``expirations``, else ``AAPL_expirations.json``. All are in the API's documented
columnar shapes.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).parent / "fixtures" / "marketdata"
EARNINGS_PATH = "/v1/stocks/earnings/"
CANDLES_PATH = "/v1/stocks/candles/D/"
EXPIRATIONS_PATH = "/v1/options/expirations/"

#: An answer the fake gives: (status, JSON body, headers), or an exception to raise.
Answer = tuple[int, Any, dict[str, str]] | Exception


def fixture(name: str) -> dict[str, Any]:
    """The parsed JSON of ``fixtures/marketdata/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def chain_answer() -> dict[str, Any]:
    """The fixture chain of AAPL puts: two expirations, five contracts."""
    return fixture("AAPL")


def ok(body: dict[str, Any] | None = None, credits: int = 5) -> Answer:
    """A 200 answer that cost ``credits`` (the AAPL chain by default)."""
    headers = {"X-Api-Ratelimit-Consumed": str(credits), "X-Api-Ratelimit-Remaining": "9000"}
    return (200, chain_answer() if body is None else body, headers)


class FakeMarketData:
    """Answers chain, earnings, candles and expirations requests from queues and fixtures;
    records requests."""

    def __init__(self) -> None:
        self.answers: deque[Answer] = deque()
        self.earnings: deque[Answer] = deque()
        self.candles: deque[Answer] = deque()
        self.expirations: deque[Answer] = deque()
        self.requests: list[httpx.Request] = []
        self.lasting: Answer | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """The mock transport's handler."""
        self.requests.append(request)
        path = request.url.path
        if path.startswith(EARNINGS_PATH):
            answer = self.earnings.popleft() if self.earnings else ok(fixture("AAPL_earnings"), 1)
        elif path.startswith(CANDLES_PATH):
            answer = self.candles.popleft() if self.candles else ok(fixture("AAPL_candles"), 1)
        elif path.startswith(EXPIRATIONS_PATH):
            queued = self.expirations
            answer = queued.popleft() if queued else ok(fixture("AAPL_expirations"), 1)
        else:
            answer = self.answers.popleft() if self.answers else self.lasting or ok()
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = answer
        return httpx.Response(status, json=body, headers=headers)
