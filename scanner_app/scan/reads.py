"""The pages' side of Redis: one page of tickers, one ticker, or every row as a stream.

Each read costs what it returns: a page reads its own tickers' summaries (one round trip),
the drilldown reads one ticker's fields, and the streams read the rows in small batches.
Every read turns a Redis failure into ``available=False`` (or CacheUnavailable for the
streams) and a malformed value into "missing", never into an exception for the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import redis

from ..redis_door import REDIS_ERRORS, CacheUnavailable, RedisDoor
from ..stored_json import load_json
from .scripts import OWN_PAGE, PAGE
from .store import MAX_COUNT, RunFacts

#: How many failed tickers a page names in its banner, and how many tickers without a
#: qualifying put it names (each line says how many more).
FAILED_SHOWN = 10
#: Tickers per round trip when streaming every row.
STREAM_BATCH = 200


@dataclass(frozen=True)
class Listing:
    """Some listed tickers with their summaries and errors, and the counts around them."""

    symbols: list[str] = field(default_factory=list)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    changed_at: dict[str, int] = field(default_factory=dict)
    partial: dict[str, list[str]] = field(default_factory=dict)
    listed: int = 0
    failed: int = 0
    failed_sample: dict[str, str] = field(default_factory=dict)
    #: How many tickers' latest fetch found no qualifying put, and the first of them.
    no_puts: int = 0
    no_puts_sample: list[str] = field(default_factory=list)
    available: bool = False
    #: The user's symbols that no scan has reached yet (their own pages only).
    waiting: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TickerView:
    """One ticker's cached results for the drilldown, read in one round trip."""

    options: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    scanned_at: str | None = None
    error: str | None = None
    last_run: str | None = None
    last_run_facts: RunFacts | None = None
    partial_expirations: list[str] = field(default_factory=list)
    available: bool = False

    @property
    def stale(self) -> bool:
        """Whether the rows are an earlier scan's (fetched at ``scanned_at``): the latest
        fetch failed."""
        return bool(self.options) and self.error is not None


def _decode(raw: bytes) -> str:
    """Text from Redis; bytes that are not UTF-8 (written by hand) become U+FFFD."""
    return raw.decode("utf-8", "replace")


def _text(raw: bytes | None) -> str | None:
    return _decode(raw) if isinstance(raw, bytes) else None


def _change_version(score: bytes | float | None) -> int | None:
    """A ``changes`` score as the version it stands for; None when missing or malformed."""
    if score is None:
        return None
    version = float(score)
    return int(version) if 0 <= version <= MAX_COUNT else None


def _mapping(raw: bytes | None) -> dict[str, Any]:
    value = load_json(raw)
    return value if isinstance(value, dict) else {}


def _rows(raw: bytes | None) -> list[dict[str, Any]]:
    value = load_json(raw)
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _is_date(value: Any) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _dates(raw: bytes | None) -> list[str]:
    """A stored list of ISO dates (``partial``), without what is not one; [] when missing."""
    value = load_json(raw)
    return [day for day in value if _is_date(day)] if isinstance(value, list) else []


def _partial(symbols: list[bytes], values: list[bytes | None]) -> dict[str, list[str]]:
    """``{symbol: failed expirations}`` for the symbols that have some."""
    return {
        _decode(symbol): days
        for symbol, value in zip(symbols, values, strict=True)
        if (days := _dates(value))
    }


def _pairs(symbols: list[bytes], values: list[bytes | None]) -> dict[str, str]:
    """``{symbol: text}`` for the symbols that have a value."""
    return {
        _decode(symbol): text
        for symbol, value in zip(symbols, values, strict=True)
        if (text := _text(value)) is not None
    }


class ResultReader:
    """Reads results through the Redis door's read client."""

    def __init__(self, door: RedisDoor) -> None:
        self.client: redis.Redis = door.read_client
        self.keys = door.keys
        self._page = self.client.register_script(PAGE)
        self._own_page = self.client.register_script(OWN_PAGE)

    def read_page(self, order: str | None, offset: int, count: int, descending: bool) -> Listing:
        """``count`` tickers from ``offset`` in the order of ``idx:<order>`` (None: symbols)."""
        keys = self.keys
        index = keys("listed") if order is None else keys.index(order)
        try:
            names = ("summaries", "errors", "failed", "changes", "partial", "no_puts")
            answer = self._page(
                keys=[keys("listed"), index, *map(keys, names)],
                args=[offset, count, "1" if descending else "0", FAILED_SHOWN],
            )
        except REDIS_ERRORS:
            return Listing()
        return self._listing(*answer)

    def read_own_page(
        self, own: str, order: str | None, offset: int, count: int, descending: bool
    ) -> Listing | None:
        """As ``read_page``, among the symbols of the sorted set ``own`` (one user's) only,
        at the cost of that set; None when that set is missing."""
        keys = self.keys
        index = keys("listed") if order is None else keys.index(order)
        try:
            names = ("summaries", "errors", "failed", "changes", "partial", "no_puts")
            answer = self._own_page(
                keys=[keys("listed"), index, *map(keys, names), own],
                args=[offset, count, "1" if descending else "0", FAILED_SHOWN],
            )
        except REDIS_ERRORS:
            return Listing()
        if not answer:
            return None
        *page, waiting = answer
        return replace(self._listing(*page), waiting=[_decode(symbol) for symbol in waiting])

    def read_symbols(self, symbols: list[str]) -> Listing:
        """The summaries and errors of ``symbols``, with the counts: one round trip."""
        keys = self.keys
        try:
            with self.client.pipeline(transaction=False) as pipe:
                if symbols:
                    pipe.hmget(keys("summaries"), symbols)
                    pipe.hmget(keys("errors"), symbols)
                    pipe.zmscore(keys("changes"), symbols)
                    pipe.hmget(keys("partial"), symbols)
                pipe.zcard(keys("listed"))
                pipe.zcard(keys("failed"))
                pipe.zrange(keys("failed"), 0, FAILED_SHOWN - 1)
                pipe.zcard(keys("no_puts"))
                pipe.zrange(keys("no_puts"), 0, FAILED_SHOWN - 1)
                answers = pipe.execute()
            summaries, errors, changed, partial = answers[:4] if symbols else ([], [], [], [])
            listed, failed, sample, no_puts, no_puts_sample = answers[-5:]
            sample_errors = self.client.hmget(keys("errors"), sample) if sample else []
        except REDIS_ERRORS:
            return Listing()
        encoded = [symbol.encode() for symbol in symbols]
        return self._listing(
            listed,
            encoded,
            summaries,
            errors,
            changed,
            failed,
            sample,
            sample_errors,
            partial,
            no_puts,
            no_puts_sample,
        )

    def change_versions(self, symbols: list[str]) -> dict[str, int]:
        """The version at which each of ``symbols`` last changed ({} when Redis fails)."""
        if not symbols:
            return {}
        try:
            versions = self.client.zmscore(self.keys("changes"), symbols)
        except REDIS_ERRORS:
            return {}
        return {
            symbol: version
            for symbol, score in zip(symbols, versions, strict=True)
            if (version := _change_version(score)) is not None
        }

    @staticmethod
    def _listing(
        listed,
        symbols,
        summaries,
        errors,
        changed,
        failed,
        sample,
        sample_errors,
        partial,
        no_puts,
        no_puts_sample,
    ):
        """A Listing from the PAGE script's answer (or the same values read otherwise)."""
        names = [_decode(symbol) for symbol in symbols]
        return Listing(
            symbols=names,
            summaries={name: _mapping(raw) for name, raw in zip(names, summaries, strict=True)},
            errors=_pairs(symbols, errors),
            changed_at={
                name: version
                for name, score in zip(names, changed, strict=True)
                if (version := _change_version(score)) is not None
            },
            partial=_partial(symbols, partial),
            listed=int(listed),
            failed=int(failed),
            failed_sample=_pairs(sample, sample_errors),
            no_puts=int(no_puts),
            no_puts_sample=[_decode(symbol) for symbol in no_puts_sample],
            available=True,
        )

    def no_put_tickers(self) -> tuple[int, list[str]]:
        """How many tickers' latest fetch found no qualifying put, and the first
        ``FAILED_SHOWN`` of them ((0, []) when Redis fails)."""
        try:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.zcard(self.keys("no_puts"))
                pipe.zrange(self.keys("no_puts"), 0, FAILED_SHOWN - 1)
                count, sample = pipe.execute()
        except REDIS_ERRORS:
            return 0, []
        return int(count), [_decode(symbol) for symbol in sample]

    def own_tallies(self, own: str) -> tuple[int, dict[str, str], int, list[str]] | None:
        """Among the symbols of the sorted set ``own`` (one user's): how many failed, the
        first ``FAILED_SHOWN`` with their errors, how many have no qualifying put and the
        first of them; None when Redis fails. Costs the user's symbols."""
        keys = self.keys
        try:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.zinter([keys("failed"), own])
                pipe.zinter([keys("no_puts"), own])
                failed, no_puts = pipe.execute()
            sample = failed[:FAILED_SHOWN]
            errors = self.client.hmget(keys("errors"), sample) if sample else []
        except REDIS_ERRORS:
            return None
        return (
            len(failed),
            _pairs(sample, errors),
            len(no_puts),
            [_decode(symbol) for symbol in no_puts[:FAILED_SHOWN]],
        )

    def lowest_strikes(self) -> tuple[list[str], dict[str, float]] | None:
        """Every listed ticker and its lowest strike (for the fair-value order); None if down."""
        try:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.zrange(self.keys("listed"), 0, -1)
                pipe.zrange(self.keys.index("strike"), 0, -1, withscores=True)
                listed, strikes = pipe.execute()
        except REDIS_ERRORS:
            return None
        return [_decode(s) for s in listed], {_decode(s): score for s, score in strikes}

    def read_everything(
        self,
    ) -> tuple[dict[str, list], dict[str, str], dict[str, str], dict[str, list[str]]] | None:
        """Every ticker's rows, scan time, error and failed expirations: O(rows), for
        filtered views."""
        keys = self.keys
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for name in ("puts", "scan_times", "errors", "partial"):
                    pipe.hgetall(keys(name))
                puts, times, errors, partial = pipe.execute()
        except REDIS_ERRORS:
            return None
        return (
            {_decode(symbol): _rows(raw) for symbol, raw in puts.items()},
            _pairs(list(times), list(times.values())),
            _pairs(list(errors), list(errors.values())),
            _partial(list(partial), list(partial.values())),
        )

    def read_ticker(self, symbol: str) -> TickerView:
        """One ticker's puts, calls, scan time, error and the last run (message and facts):
        one round trip."""
        keys = self.keys
        try:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.hget(keys("puts"), symbol)
                pipe.hget(keys("scan_times"), symbol)
                pipe.hget(keys("errors"), symbol)
                pipe.get(keys("last_run"))
                pipe.hget(keys("partial"), symbol)
                pipe.hget(keys("calls"), symbol)
                pipe.get(keys("last_run_facts"))
                rows, scanned_at, error, last_run, partial, calls, facts = pipe.execute()
        except REDIS_ERRORS:
            return TickerView()
        message = load_json(last_run)
        return TickerView(
            options=_rows(rows),
            calls=_rows(calls),
            scanned_at=_text(scanned_at),
            error=_text(error),
            last_run=message if isinstance(message, str) else None,
            last_run_facts=RunFacts.from_dict(load_json(facts)),
            partial_expirations=_dates(partial),
            available=True,
        )

    def stream_rows(self, rows: str = "puts") -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Every ticker with rows in the hash ``rows`` (``puts`` or ``calls``), in symbol
        order, ``STREAM_BATCH`` tickers per round trip.

        The tickers are listed at once, so a failure to list them (Redis down, a key of
        the wrong type) raises CacheUnavailable here, before anything is streamed; a
        failure between batches raises it from the iterator.
        """
        return self._row_batches(rows, sorted(self._hash_keys(rows)))

    def rows_of(
        self, rows: str, symbols: Iterable[str]
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """As ``stream_rows``, for ``symbols`` only (one user's): the cost of those. The
        hash is checked at once, so a failure to read it raises CacheUnavailable here."""
        try:
            self.client.hlen(self.keys(rows))
        except REDIS_ERRORS as error:
            raise CacheUnavailable.because(error) from error
        return self._row_batches(rows, sorted(set(symbols)))

    def _row_batches(
        self, name: str, symbols: list[str]
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        for start in range(0, len(symbols), STREAM_BATCH):
            batch = symbols[start : start + STREAM_BATCH]
            try:
                values = self.client.hmget(self.keys(name), batch)
            except REDIS_ERRORS as error:
                raise CacheUnavailable.because(error) from error
            for symbol, raw in zip(batch, values, strict=True):
                rows = _rows(raw)
                if rows:
                    yield symbol, rows

    def read_hash(self, name: str) -> dict[str, str]:
        """A small per-ticker hash (``scan_times``, ``errors``) as text; raises CacheUnavailable."""
        flat = self._hgetall(name)
        return _pairs(list(flat), list(flat.values()))

    def read_partial(self) -> dict[str, list[str]]:
        """Every partial ticker's failed expirations; raises CacheUnavailable."""
        flat = self._hgetall("partial")
        return _partial(list(flat), list(flat.values()))

    def _hgetall(self, name: str) -> dict[bytes, bytes]:
        try:
            return self.client.hgetall(self.keys(name))
        except REDIS_ERRORS as error:
            raise CacheUnavailable.because(error) from error

    def _hash_keys(self, name: str) -> list[str]:
        try:
            return [_decode(symbol) for symbol in self.client.hkeys(self.keys(name))]
        except REDIS_ERRORS as error:
            raise CacheUnavailable.because(error) from error
