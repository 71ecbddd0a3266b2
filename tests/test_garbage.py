"""Garbage in any key, or in any field of its JSON, never gives a 500 or a traceback.

Over a valid scan, every key of the layout is written raw, as redis-cli would: whole
values of every kind, each field of each JSON value (put rows and summaries included) set
to a value of the wrong kind, NaN-ish text, a huge or tiny number, or left out, odd
hash fields and sorted-set members and scores, and keys that are missing or of the wrong
Redis type. Then the routes must answer, with strict JSON and the untouched ticker shown.

A per-ticker value is spoilt in one "victim" ticker per bad value, so one case checks a
field against every bad value at once, each in its own ticker. The single-value status
keys take one bad value per case, checked on the routes that read the status.
"""

from __future__ import annotations

import csv
import io
import json
import math
import pickle
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from scanner_app import create_app
from scanner_app.redis_door import LOCK, Keys
from scanner_app.scan.layout import CONTRACT, HASHES, SORTED_SETS, STATUS
from scanner_app.scan.store import Progress, RunFacts, ScanStore
from scanner_app.scan.summary import summarize_rows

from .conftest import FROZEN_NOW
from .scan_results import SCANNED_AT, STARTED_AT, publish_scan, sample_row

MISSING = object()  # a field left out

#: Values of the wrong kind for any JSON field.
FIELD_VALUES: dict[str, Any] = {
    "null": None,
    "true": True,
    "zero": 0,
    "negative": -1,
    "fraction": 0.5,
    "huge_int": 10**400,
    "huge_negative_int": -(10**400),
    "beyond_int64": 2**64,
    "max_float": 1.7976931348623157e308,
    "min_float": -1.7976931348623157e308,
    "tiny_float": 5e-324,
    "empty_text": "",
    "text": "abc",
    "number_text": "12",
    "nan_text": "NaN",
    "far_future": "9999-12-31T23:59:59-23:59",
    "far_past": "0001-01-01T00:00:00+14:00",
    "naive_time": "2026-11-18T16:00:00",
    "long_text": "x" * 20_000,
    "object": {"nested": {"deeper": [1, {"a": None}]}},
    "list": [1, "two", None, [3]],
    "empty_list": [],
    "empty_object": {},
}
#: Bare words only a hand-written value holds: Python's json module reads them as floats.
RAW_TOKENS = {"raw_nan": "NaN", "raw_infinity": "Infinity", "raw_overflow": "1e999"}
#: Whole values for a string key or a hash field.
WHOLE_VALUES: dict[str, bytes] = {
    "empty": b"",
    "not_utf8": b"\x80\x81 not json",
    "pickle": pickle.dumps({"AAPL": []}),
    "truncated": b'{"scan_id": "x", "tot',
    "deeply_nested": b"[" * 100_000 + b"]" * 100_000,
    "nan": b"NaN",
    "overflow": b"1e999",
    "null": b"null",
    "true": b"true",
    "huge_number": b"1" + b"0" * 400,
    "negative": b"-1",
    "text": b'"text"',
    "bare_text": b"text",
    "list": b'[1, "a", {}]',
    "object": b'{"AAPL": "x", "KO": [1]}',
    "big_text": b'"' + b"x" * 1_000_000 + b'"',
}
#: Sorted-set scores Redis accepts that no scan writes.
SCORES = {
    "inf": math.inf,
    "minus_inf": -math.inf,
    "max": 1.7976931348623157e308,
    "min": -1.7976931348623157e308,
    "fraction": 0.5,
    "beyond_int64": 2.0**64,
}
#: Hash fields and sorted-set members that are no watched symbol.
ODD_MEMBERS = [b"\xff\xfe", b"", b"<b>x</b>", b"A" * 10_000, b"kO", b"MSFT"]

#: Every value a JSON field can be spoilt with: wrong kinds, raw words, left out.
SPOILT = {**FIELD_VALUES, **RAW_TOKENS, "missing": MISSING}
#: One ticker per bad value, so that one case tries them all.
VICTIMS = [f"V{number:02d}" for number in range(len(WHOLE_VALUES) + len(FIELD_VALUES))]
BYSTANDER = "KO"  # no case touches its fields
FAILED = "TSLA"  # failed in the scan: it has an error, and no rows
FIRST = VICTIMS[0]
HX = {"HX-Request": "true"}
NOW = int(FROZEN_NOW.timestamp())

Route = tuple[str, dict[str, str]]
#: The routes that read the status keys (lock, progress, last run, its facts, version).
STATUS_ROUTES: list[Route] = [
    ("/", {}),
    (f"/scan/status?v=1&s={BYSTANDER}&s={FIRST}&n=3", {}),
    (f"/scan/status?v=1&at={NOW}&s={BYSTANDER}&s={FIRST}&n=3", {}),
    ("/api/scan", {}),
    ("/api/options", {}),
    (f"/ticker/{FIRST}", {}),
]
#: Every page and API route, in each of its ways to read.
ALL_ROUTES: list[Route] = [
    *STATUS_ROUTES,
    ("/?sort=value&page=2&per_page=1", {}),
    ("/?min_annualized=1&sort=puts&dir=desc", {}),
    ("/?sort=spot&dir=desc", HX),
    ("/?sort=annualized", HX),
    ("/?sort=puts&page=2&per_page=1", HX),
    ("/?sort=delta", HX),
    ("/?sort=spot&dir=asc", HX),
    ("/scan/status", {}),
    (f"/ticker/{FIRST}?max_dte=40", HX),
    ("/api/options?min_annualized=1", {}),
    (f"/api/options/{FIRST}", {}),
    ("/options.csv", {}),
    ("/healthz", {}),
]


#: The keys that only STATUS_ROUTES read.
STATUS_KEYS = (*STATUS, LOCK, "last_run")


def key_routes(key: str) -> list[Route]:
    """The routes that read ``key``, in every way they read it."""
    return STATUS_ROUTES if key in STATUS_KEYS else ALL_ROUTES


def ticker_routes(symbols: list[str]) -> list[Route]:
    """The routes that show one ticker, for each of ``symbols``."""
    return [
        route
        for symbol in symbols
        for route in ((f"/ticker/{symbol}", HX), (f"/api/options/{symbol}", {}))
    ]


ROWS = [sample_row(), sample_row(strike=140.0, delta=-0.1, expiration="2026-12-24", dte=36)]
SUMMARY = summarize_rows(ROWS, SCANNED_AT)
PROGRESS = Progress("scan-1", total=3, started_at=STARTED_AT, done=2, current=FIRST, failed=1)
FACTS = RunFacts("scan-1", "completed", SCANNED_AT, tickers=3, puts=2, failed=1)


def spoil(document: Any, path: tuple, value: Any) -> bytes:
    """``document`` as JSON with the field at ``path`` set to ``value`` (a bare word for a
    RAW_TOKENS value) or, for MISSING, left out."""
    copy = json.loads(json.dumps(document))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    if value is MISSING:
        del parent[path[-1]]
        return json.dumps(copy).encode()
    marker = "\u0000spoilt\u0000"
    raw = RAW_TOKENS.get(value) if isinstance(value, str) else None
    parent[path[-1]] = marker if raw else value
    return json.dumps(copy).replace(json.dumps(marker), raw or "").encode()


@dataclass(frozen=True)
class Garbage:
    """One way to spoil the stored scan, and the routes that must still answer."""

    name: str
    write: Callable[[redis.Redis, Keys], None]
    routes: list[Route]
    spares_bystander: bool = True
    victims: int = 1  # how many victims the scan has, from VICTIMS[0]


def _per_victim(key: str, values: list[bytes]) -> Callable[[redis.Redis, Keys], None]:
    """Write ``values`` into field ``key`` of one victim each."""

    def write(client: redis.Redis, keys: Keys) -> None:
        client.hset(keys(key), mapping=dict(zip(VICTIMS, values, strict=False)))

    return write


def _status_field_cases() -> list[Garbage]:
    documents = {"scan_progress": PROGRESS.to_dict(), "last_run_facts": FACTS.__dict__}

    def case(key: str, field: str, name: str, bad: Any) -> Garbage:
        raw = spoil(documents[key], (field,), bad)
        return Garbage(
            f"{key}.{field}={name}",
            lambda client, keys: client.set(keys(key), raw),
            key_routes(key),
        )

    return [
        case(key, field, name, bad)
        for key, document in documents.items()
        for field in document
        for name, bad in SPOILT.items()
    ]


def _heartbeat_field_cases() -> list[Garbage]:
    """A running scan (its lock held) whose heartbeat has a spoilt field: readers judge
    whether it is alive from it."""
    beat = {"scan_id": "scan-1", "at": SCANNED_AT}

    def case(field: str, name: str, bad: Any) -> Garbage:
        raw = spoil(beat, (field,), bad)

        def write(client: redis.Redis, keys: Keys) -> None:
            client.set(keys(LOCK), json.dumps("scan-1"))
            client.set(keys("scan_heartbeat"), raw)

        return Garbage(f"scan_heartbeat.{field}={name}", write, STATUS_ROUTES)

    return [case(field, name, bad) for field in beat for name, bad in SPOILT.items()]


def _ticker_field_cases() -> list[Garbage]:
    documents = {"puts": (ROWS, [(0, field) for field in ROWS[0]])}
    documents["summaries"] = (SUMMARY, [(field,) for field in SUMMARY])
    cases = []
    for key, (document, paths) in documents.items():
        for path in paths:
            values = [spoil(document, path, value) for value in SPOILT.values()]
            cases.append(
                Garbage(
                    f"{key}[victim].{'.'.join(map(str, path))}",
                    _per_victim(key, values),
                    ALL_ROUTES + ticker_routes(VICTIMS[: len(values)]),
                    victims=len(values),
                )
            )
    return cases


def _whole_value_cases() -> list[Garbage]:
    cases = [
        Garbage(
            f"{key}={name}",
            lambda client, keys, key=key, value=value: client.set(keys(key), value),
            key_routes(key),
        )
        for key in (*CONTRACT, *STATUS, LOCK)
        for name, value in WHOLE_VALUES.items()
    ]
    texts = [str(value).encode() for value in FIELD_VALUES.values()]
    for key in HASHES:
        values = list(WHOLE_VALUES.values())
        if key in ("errors", "scan_times"):  # plain text, not JSON
            values += texts
        routes = ALL_ROUTES + ticker_routes(VICTIMS[: len(values)])
        name = f"{key}[victim]=every whole value"
        cases.append(Garbage(name, _per_victim(key, values), routes, victims=len(values)))
    return cases


def _contract_entry_cases() -> list[Garbage]:
    """Every entry of the contract keys spoilt at once: one bad value per ticker."""

    def write(client: redis.Redis, keys: Keys) -> None:
        entries = dict(zip(VICTIMS, FIELD_VALUES.values(), strict=False))
        for key in ("ticker_options", "ticker_scan_times"):
            client.set(keys(key), json.dumps(entries))

    return [Garbage("contract keys' entries", write, ALL_ROUTES)]


def _sorted_set_cases() -> list[Garbage]:
    def scores(key: str) -> Callable[[redis.Redis, Keys], None]:
        return lambda client, keys: client.zadd(
            keys(key), dict(zip(VICTIMS, SCORES.values(), strict=False))
        )

    routes = ALL_ROUTES + ticker_routes(VICTIMS[: len(SCORES)])
    return [
        Garbage(f"{key} odd scores", scores(key), routes, victims=len(SCORES))
        for key in SORTED_SETS
    ]


def _odd_member_cases() -> list[Garbage]:
    def write(key: str) -> Callable[[redis.Redis, Keys], None]:
        def add(client: redis.Redis, keys: Keys) -> None:
            if key in HASHES:
                copy = client.hget(keys(key), FIRST) or b"x"
                client.hset(keys(key), mapping=dict.fromkeys(ODD_MEMBERS, copy))
            else:
                client.zadd(keys(key), dict.fromkeys(ODD_MEMBERS, 1))

        return add

    keys = (*HASHES, *SORTED_SETS)
    return [Garbage(f"{key} odd members", write(key), ALL_ROUTES) for key in keys]


def _lost_key_cases() -> list[Garbage]:
    def delete(key: str) -> Callable[[redis.Redis, Keys], None]:
        return lambda client, keys: client.delete(keys(key))

    def retype(key: str) -> Callable[[redis.Redis, Keys], None]:
        def write(client: redis.Redis, keys: Keys) -> None:
            was_string = client.type(keys(key)) in (b"string", b"none")
            client.delete(keys(key))
            if was_string:
                client.hset(keys(key), FIRST, b"1")
            else:
                client.set(keys(key), b"1")

        return write

    cases = []
    for key in (*CONTRACT, *STATUS, LOCK, *HASHES, *SORTED_SETS):
        cases.append(Garbage(f"{key} missing", delete(key), key_routes(key), False))
        cases.append(Garbage(f"{key} of the wrong type", retype(key), key_routes(key), False))
    return cases


CASES = [
    *_status_field_cases(),
    *_heartbeat_field_cases(),
    *_ticker_field_cases(),
    *_whole_value_cases(),
    *_contract_entry_cases(),
    *_sorted_set_cases(),
    *_odd_member_cases(),
    *_lost_key_cases(),
]


@pytest.fixture(scope="module")
def watchlist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every victim, the bystander and the ticker that fails."""
    path = tmp_path_factory.mktemp("garbage") / "watchlist.toml"
    symbols = [*VICTIMS, BYSTANDER, FAILED]
    path.write_text("".join(f'[[tickers]]\nsymbol = "{symbol}"\n\n' for symbol in symbols))
    return path


@pytest.fixture(scope="module")
def app(redis_url: str, watchlist: Path) -> Iterator[Flask]:
    """One app for every case, under a key prefix of its own, deleted at the end."""
    prefix = f"test-garbage-{uuid.uuid4().hex[:8]}:"
    config = {"REDIS_URL": redis_url, "CACHE_BACKEND": "redis", "CACHE_KEY_PREFIX": prefix}
    config |= {"TESTING": True, "WATCHLIST_FILE": watchlist, "CLOCK": lambda: FROZEN_NOW}
    app = create_app(config)
    yield app
    _clear(app.extensions["put_scanner"].store)


def _clear(store: ScanStore) -> None:
    keys = list(store.write_client.scan_iter(match=f"{store.keys.prefix}*", count=1000))
    if keys:
        store.write_client.delete(*keys)


def scan_again(store: ScanStore, victims: int) -> None:
    """A fresh scan of ``victims`` victims, the bystander and a failed ticker.

    The lock is held by the scan of the stored progress, so the running views render too.
    """
    _clear(store)
    rows = {symbol: [{**row, "ticker": symbol} for row in ROWS] for symbol in VICTIMS[:victims]}
    rows[BYSTANDER] = [sample_row(ticker=BYSTANDER)]
    publish_scan(store, rows, {FAILED: "timed out"})
    store.write_client.set(store.key(LOCK), json.dumps(PROGRESS.scan_id))
    store.write_client.set(store.key("scan_progress"), json.dumps(PROGRESS.to_dict()))


def strict_json(text: str) -> Any:
    """``text`` parsed as JSON any client can read: NaN and Infinity are refused."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _check(path: str, response, spares_bystander: bool) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code in (200, 204), (path, response.status_code, body[:300])
    assert "Traceback" not in body, path
    if path.startswith("/api/") or path == "/healthz":
        answer = strict_json(body)
        if path == "/api/options" and spares_bystander:
            assert BYSTANDER in answer["options"], "garbage in one ticker hid another"
    elif path == "/options.csv" and spares_bystander:
        rows = csv.DictReader(io.StringIO(body))
        assert BYSTANDER in {row["ticker"] for row in rows}
    elif path == "/" and spares_bystander:
        assert f'href="/ticker/{BYSTANDER}"' in body


@pytest.mark.parametrize("garbage", CASES, ids=[case.name for case in CASES])
def test_garbage_never_breaks_a_route(app, garbage):
    store = app.extensions["put_scanner"].store
    scan_again(store, garbage.victims)
    garbage.write(store.write_client, store.keys)
    client = app.test_client()
    for path, headers in garbage.routes:
        response = client.get(path, headers=headers)
        try:
            _check(path, response, garbage.spares_bystander)
        finally:
            response.close()
