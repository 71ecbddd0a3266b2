"""The scan's side of Redis: the lock, fenced publishing per ticker, and the O(1) status.

The key layout is in ``layout.py`` and the scripts in ``scripts.py``. Every write is one
atomic script that checks the lock first (fencing), so a scan that lost its lock can
never overwrite a newer one's results, and several writers of one scan (threads here,
workers elsewhere) each touch only their own tickers' fields.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import Any

import redis
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from ..redis_door import (
    LOCK,
    REDIS_ERRORS,
    TRANSIENT_ERRORS,
    CacheUnavailable,
    RedisDoor,
    redis_error_text,
)
from ..redis_door.memory import RedisFull, is_out_of_memory
from ..redis_door.script_flags import FREES_MEMORY, WRITES, FlaggedScript
from ..stored_json import load_json
from . import scripts
from .layout import HEARTBEAT, ScanKeys
from .summary import SCORED_SORTS, sort_scores, summarize_rows
from .ticker_volatility import TickerVolatility

log = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = "Data temporarily unavailable. Please refresh the page."
NEVER_RUN_MESSAGE = "Never"
#: The key of the record of the last scan, which outlives its results (``ScanRecord``).
RECORD = "last_scan"
#: The error of a listed ticker that an interrupted scan never reached: its rows are stale.
NOT_REACHED = "not scanned: the last scan was interrupted before it reached this ticker"


#: ``ScanStore.interrupt``'s ``beat_at`` that matches any heartbeat (a scan ending itself).
ANY_BEAT = "*"


class LockLost(Exception):
    """This scan no longer holds the lock: another scan owns the results now."""


#: The largest count or version a stored value may hold: an integer any JSON client reads.
MAX_COUNT = 2**53 - 1


def _count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_COUNT


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _from_stored(cls: type, data: Any, checks: Mapping[str, Callable[[Any], bool]]) -> Any:
    """A ``cls`` from the stored mapping ``data``, each field passing its check.

    None when ``data`` is not a mapping or a required field is missing or fails its
    check; an optional field that fails its check takes its default.
    """
    if not isinstance(data, Mapping):
        return None
    values = {}
    for item in fields(cls):
        if item.name in data and checks[item.name](data[item.name]):
            values[item.name] = data[item.name]
        elif item.default is MISSING:
            return None
    return cls(**values)


@dataclass(frozen=True)
class Progress:
    """Where a scan is: how many tickers are done, which one is being fetched, and the
    API credits spent so far (None while the provider bills none)."""

    scan_id: str
    total: int
    started_at: str
    done: int = 0
    current: str | None = None
    failed: int = 0
    finished_at: str | None = None
    credits: int | None = None

    @property
    def percent(self) -> int:
        """Share of tickers done, 0-100."""
        return min(100, round(100 * self.done / self.total)) if self.total else 100

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Any) -> Progress | None:
        """Inverse of ``to_dict``; None for a value of the wrong shape."""
        return _from_stored(cls, data, _PROGRESS_CHECKS)


_PROGRESS_CHECKS = {
    "scan_id": _text,
    "total": _count,
    "started_at": _text,
    "done": _count,
    "current": _text,
    "failed": _count,
    "finished_at": _text,
    "credits": _count,
}


@dataclass(frozen=True)
class RunFacts:
    """How the last scan ended, as data: the web layer words and formats it. ``credits``
    is what the scan cost in API credits, for a provider that bills them."""

    scan_id: str
    outcome: str  # completed | failed | interrupted
    finished_at: str
    tickers: int
    puts: int
    failed: int
    reason: str | None = None
    credits: int | None = None
    #: Tickers done when the scan ended (None when unknown: Redis lost the scan's data).
    done: int | None = None
    #: Whether the scan's history reached the database (None: nothing to save, history
    #: off or no session today), and why not.
    history_saved: bool | None = None
    history_error: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> RunFacts | None:
        """The facts stored as ``data``; None for a value of the wrong shape."""
        return _from_stored(cls, data, _FACTS_CHECKS)


_FACTS_CHECKS = {
    "scan_id": _text,
    "outcome": lambda value: value in ("completed", "failed", "interrupted"),
    "finished_at": _text,
    "tickers": _count,
    "puts": _count,
    "failed": _count,
    "reason": _text,
    "credits": _count,
    "done": _count,
    "history_saved": lambda value: isinstance(value, bool),
    "history_error": _text,
}


def _version(value: Any) -> int:
    """The stored write counter; 0 for a missing or malformed one."""
    return value if _count(value) else 0


@dataclass(frozen=True)
class Heartbeat:
    """When a scan last proved it was alive (ISO-8601 ``at``, by the writer's clock)."""

    scan_id: str
    at: str

    @classmethod
    def from_dict(cls, data: Any) -> Heartbeat | None:
        """The heartbeat stored as ``data``; None for a value of the wrong shape."""
        if not isinstance(data, Mapping):
            return None
        scan_id, at = data.get("scan_id"), data.get("at")
        if not isinstance(scan_id, str) or not isinstance(at, str):
            return None
        return cls(scan_id, at)


#: How long the record of the last scan outlives its results, so that the page can say they
#: expired rather than that no scan ever ran.
RECORD_SECONDS = 7 * 86_400


@dataclass(frozen=True)
class ScanRecord:
    """When the last scan ended and how long its results lived: kept after they expire."""

    finished_at: str
    ttl: int


_RECORD_CHECKS = {"finished_at": _text, "ttl": _count}


@dataclass(frozen=True)
class Status:
    """The scan's state, read in one round trip that never touches the results."""

    last_run: str = UNAVAILABLE_MESSAGE
    facts: RunFacts | None = None
    progress: Progress | None = None
    running_scan: str | None = None
    version: int = 0
    available: bool = False
    heartbeat: Heartbeat | None = None
    #: Why Redis could not be read, in plain words (None when it could).
    unavailable_reason: str | None = None
    #: The last scan, when its results have expired (None while they live, or before any).
    expired: ScanRecord | None = None

    @property
    def state(self) -> str:
        """``running`` while a scan holds the lock, else ``idle``."""
        return "running" if self.running_scan else "idle"

    @property
    def current_progress(self) -> Progress | None:
        """The progress to show: while a scan runs, only its own (not the previous one's)."""
        progress = self.progress
        if self.running_scan and progress and progress.scan_id != self.running_scan:
            return None
        return progress


@dataclass(frozen=True)
class Pulse:
    """What an unchanged poll reads: the write counter, the scan holding the lock and its
    heartbeat (to tell that it is alive without reading the whole status)."""

    version: int
    running_scan: str | None
    heartbeat: Heartbeat | None


@dataclass(frozen=True)
class TickerResult:
    """What one ticker's scan produced; ``rows`` empty when nothing qualifies, ``calls`` the
    covered calls worth selling on its shares (empty without shares).

    ``partial_expirations``: the expirations (ISO dates) that failed while others came
    back. ``credits``: what its requests cost, for a provider that bills them.
    """

    symbol: str
    scanned_at: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    partial_expirations: list[str] = field(default_factory=list)
    credits: int | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    #: What the scan measured of the ticker's volatility (None: nothing, or history off).
    volatility: TickerVolatility | None = None


def _encode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _score(value: float | None) -> str:
    return "" if value is None else repr(float(value))


_NO_SCORES = [""] * len(SCORED_SORTS)


def _ticker_args(result: TickerResult) -> list[str]:
    """The PUBLISH arguments of one finished ticker."""
    if result.error:
        return [result.symbol, "failed", result.error, "", "", "", "", *_NO_SCORES]
    calls = _encode(result.calls) if result.calls else ""
    if not result.rows:
        return [result.symbol, "ok", "", "", result.scanned_at, "", calls, *_NO_SCORES]
    summary = summarize_rows(result.rows, result.scanned_at)
    scores = sort_scores(summary)
    return [
        result.symbol,
        "ok",
        _encode(result.rows),
        _encode(summary),
        result.scanned_at,
        _encode(result.partial_expirations) if result.partial_expirations else "",
        calls,
        *(_score(scores[sort]) for sort in SCORED_SORTS),
    ]


def _forget_args(symbol: str) -> list[str]:
    return [symbol, "forget", "", "", "", "", "", *_NO_SCORES]


def _credits(results: list[TickerResult]) -> str:
    """The credits ``results`` cost, as PUBLISH takes them ('' when none was billed)."""
    billed = [result.credits for result in results if result.credits is not None]
    return str(sum(billed)) if billed else ""


@dataclass(frozen=True)
class Outage:
    """How long Redis failed this process's writes, and its last error in plain words."""

    seconds: float
    error: str
    ended_at: float | None  # time.monotonic() when Redis answered again; None: not yet


class OutageLog:
    """The last stretch of time during which Redis failed the writes retried by the store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: float | None = None
        self._error = ""
        self._last: Outage | None = None

    def failed(self, attempt: RetryCallState) -> None:
        """A write failed (tenacity's ``after``: it may be retried)."""
        error = attempt.outcome.exception() if attempt.outcome else None
        with self._lock:
            if self._started is None:
                self._started = attempt.start_time
            self._error = redis_error_text(error) if error else self._error

    def answered(self) -> None:
        """Redis answered a write: an outage under way ends now."""
        with self._lock:
            if self._started is not None:
                now = time.monotonic()
                self._last = Outage(now - self._started, self._error, now)
                self._started = None

    def since(self, seconds: float) -> Outage | None:
        """The outage under way, or the last one if it ended within ``seconds``."""
        now = time.monotonic()
        with self._lock:
            if self._started is not None:
                return Outage(now - self._started, self._error, None)
            last = self._last
        if last is None or last.ended_at is None or now - last.ended_at > seconds:
            return None
        return last


class ScanStore:
    """Writes the scan's keys and reads its status, through the Redis door's clients."""

    def __init__(
        self,
        door: RedisDoor,
        ttl: int,
        lock_ttl: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.read_client: redis.Redis = door.read_client
        self.write_client: redis.Redis = door.write_client
        self.keys = ScanKeys(door.keys.prefix)
        self.ttl = ttl
        self.lock_ttl = lock_ttl
        self.clock = clock
        #: When Redis last failed the writes of this process (a stall, a restart).
        self.outages = OutageLog()
        self._scripts = {
            name: FlaggedScript(
                self.write_client,
                getattr(scripts, name),
                FREES_MEMORY if name == "RELEASE" else WRITES,
            )
            for name in (
                "PUBLISH",
                "ASSEMBLE",
                "SET_VALUES",
                "REFRESH",
                "ACQUIRE",
                "RELEASE",
                "INTERRUPT",
                "SET_LAST_RUN",
                "REPORT_DATA_LOST",
                "REWORD_INTERRUPTION",
            )
        }

    def refusal(self, error: BaseException) -> CacheUnavailable:
        """The error to raise for a failure to use Redis: RedisFull when it refused a write
        for want of memory (fatal for a scan), else CacheUnavailable in plain words."""
        if is_out_of_memory(error):
            return RedisFull.on(self.write_client)
        return CacheUnavailable.because(error)

    def _retrying(self, call: Callable[..., Any], **kwargs: Any) -> Any:
        """``call(**kwargs)``, retried with backoff while Redis is unreachable, for up to half
        the lock's TTL: a scan rides out a Redis hiccup. Every fenced write is idempotent."""
        retrying = Retrying(
            stop=stop_after_delay(self.lock_ttl / 2),
            wait=wait_exponential(multiplier=0.1, max=2),
            retry=retry_if_exception_type(TRANSIENT_ERRORS),
            after=self.outages.failed,
            reraise=True,
        )
        result = retrying(call, **kwargs)
        self.outages.answered()
        return result

    def _run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        """Run ``script``, riding out a Redis hiccup; CacheUnavailable when Redis stays away."""
        try:
            return self._retrying(self._scripts[script], keys=keys, args=args)
        except REDIS_ERRORS as error:
            raise self.refusal(error) from error

    def _heartbeat(self, scan_id: str) -> str:
        """The heartbeat of ``scan_id`` as of now, as stored."""
        at = self.clock().isoformat(timespec="milliseconds")
        return _encode({"scan_id": scan_id, "at": at})

    def key(self, name: str) -> str:
        """The full Redis key for ``name``."""
        return self.keys(name)

    # -- reading the status ----------------------------------------------------------------

    def read_status(self) -> Status:
        """Lock, progress, last run, version and heartbeat in one MGET; safe defaults on any
        failure."""
        names = (LOCK, "scan_progress", "last_run", "last_run_facts", "version", HEARTBEAT, RECORD)
        try:
            raw = self.read_client.mget([self.key(name) for name in names])
        except REDIS_ERRORS as error:
            return Status(unavailable_reason=redis_error_text(error))
        lock, progress, last_run, facts, version, heartbeat, record = (
            load_json(value) for value in raw
        )
        return Status(
            last_run=last_run if isinstance(last_run, str) else NEVER_RUN_MESSAGE,
            facts=RunFacts.from_dict(facts),
            progress=Progress.from_dict(progress),
            running_scan=lock if isinstance(lock, str) else None,
            version=_version(version),
            available=True,
            heartbeat=Heartbeat.from_dict(heartbeat),
            expired=(
                None
                if isinstance(last_run, str)
                else _from_stored(ScanRecord, record, _RECORD_CHECKS)
            ),
        )

    def read_pulse(
        self, *extra_keys: str, heartbeat: bool = True
    ) -> tuple[Pulse, list[bytes | None]] | None:
        """The pulse and the raw values of ``extra_keys``, in one MGET; None when Redis
        cannot be read. Without ``heartbeat``, only the version is read (the pulse's lock
        owner and heartbeat are then None)."""
        names = ["version", LOCK, HEARTBEAT] if heartbeat else ["version"]
        keys = [*(self.key(name) for name in names), *extra_keys]
        try:  # a single key is a GET, which redis-py answers with less work than an MGET
            values = self.read_client.mget(keys) if keys[1:] else [self.read_client.get(keys[0])]
        except REDIS_ERRORS:
            return None
        read = dict(zip(names, map(load_json, values[: len(names)]), strict=True))
        owner = read.get(LOCK)
        pulse = Pulse(
            version=_version(read["version"]),
            running_scan=owner if isinstance(owner, str) else None,
            heartbeat=Heartbeat.from_dict(read.get(HEARTBEAT)),
        )
        return pulse, values[len(names) :]

    def ping(self) -> bool:
        """Whether Redis answers."""
        try:
            return bool(self.write_client.ping())
        except REDIS_ERRORS:
            return False

    # -- the lock --------------------------------------------------------------------------

    def acquire_lock(self, scan_id: str) -> bool:
        """Take the lock for ``scan_id`` with an atomic SET NX EX, writing its first heartbeat
        in the same step; False if another scan has it."""
        keys = [self.keys.lock, self.key(HEARTBEAT)]
        args = [_encode(scan_id), self.lock_ttl, self._heartbeat(scan_id), self.ttl]
        try:
            return bool(self._scripts["ACQUIRE"](keys=keys, args=args))
        except REDIS_ERRORS as error:
            raise self.refusal(error) from error

    def lock_owner(self) -> str | None:
        """The id of the scan holding the lock, if any (raises CacheUnavailable)."""
        try:
            owner = load_json(self.read_client.get(self.keys.lock))
        except REDIS_ERRORS as error:
            raise self.refusal(error) from error
        return owner if isinstance(owner, str) else None

    def refresh_lock(self, scan_id: str) -> bool:
        """The heartbeat: push the lock's and the results' expiry out and say that ``scan_id``
        is alive now, only if it holds the lock."""
        args = [self.lock_ttl, self._heartbeat(scan_id)]
        return self._fenced("REFRESH", scan_id, args, raise_lost=False) is not None

    def release_lock(self, scan_id: str) -> bool:
        """Delete the lock only if ``scan_id`` holds it (compare-and-delete)."""
        return bool(self._scripts["RELEASE"](keys=[self.keys.lock], args=[_encode(scan_id)]))

    # -- writing ---------------------------------------------------------------------------

    def _fenced(
        self,
        script: str,
        scan_id: str,
        args: Iterable[Any],
        extra_keys: Iterable[str] = (),
        *,
        raise_lost: bool = True,
    ) -> Any:
        """Run a fenced script; None (or LockLost) when ``scan_id`` no longer holds the lock."""
        keys = [self.keys.lock, *self.keys.results(), *extra_keys]
        result = self._run(script, keys, [_encode(scan_id), self.ttl, *args])
        if result is None and raise_lost:
            raise LockLost(f"scan {scan_id} no longer holds the lock")
        return result

    def begin(self, progress: Progress, forget: Iterable[str] = ()) -> None:
        """Publish a new scan's starting progress; drop the tickers in ``forget``."""
        args = [_encode(progress.to_dict()), "", ""]
        for symbol in forget:
            args += _forget_args(symbol)
        self._fenced("PUBLISH", progress.scan_id, args)

    def publish(self, scan_id: str, results: Iterable[TickerResult], current: str | None) -> int:
        """Publish finished tickers and count them as done; returns the new version.

        Costs what the tickers carry, however many tickers the store already holds.
        """
        results = list(results)
        args: list[Any] = ["", current or "", _credits(results)]
        for result in results:
            args += _ticker_args(result)
        return self._fenced("PUBLISH", scan_id, args)

    def listed_symbols(self) -> set[str]:
        """Every ticker the store has data for (raises CacheUnavailable)."""
        try:
            with self.read_client.pipeline(transaction=False) as pipe:
                pipe.zrange(self.key("listed"), 0, -1)
                pipe.hkeys(self.key("scan_times"))
                listed, scanned = pipe.execute()
        except REDIS_ERRORS as error:
            raise self.refusal(error) from error
        return {symbol.decode() for symbol in (*listed, *scanned)}

    def finish(
        self, scan_id: str, message: str, facts: RunFacts, progress: Progress | None = None
    ) -> None:
        """Publish how the scan ended: the "Last scan" message, its facts, the final progress;
        log the credits it cost."""
        values = {"last_run": message, "last_run_facts": facts.__dict__}
        if progress is not None:
            values["scan_progress"] = progress.to_dict()
        self._fenced(
            "SET_VALUES",
            scan_id,
            [_encode(value) for value in values.values()],
            [self.key(name) for name in values],
        )
        if facts.credits is not None:
            log.info("scan %s (%s) cost %d API credits", scan_id, facts.outcome, facts.credits)
        self.keep_record(facts.finished_at)

    def keep_record(self, finished_at: str) -> None:
        """Remember when the last scan ended, RECORD_SECONDS past its results; a failure is
        only logged (the results themselves are written)."""
        record = _encode({"finished_at": finished_at, "ttl": self.ttl})
        try:
            self.write_client.set(self.key(RECORD), record, ex=self.ttl + RECORD_SECONDS)
        except REDIS_ERRORS as error:
            log.warning("the record of the last scan was not kept: %s", error)

    def assemble(self, scan_id: str) -> tuple[int, int]:
        """Rebuild the contract keys (``ticker_options``, ``ticker_calls``, ...) from the
        working set; (tickers with puts, puts)."""
        with_puts, puts = self._fenced("ASSEMBLE", scan_id, [])
        return int(with_puts), int(puts)

    def published_puts(self) -> int:
        """The puts of the listed tickers, as ``assemble`` counts them, without writing."""
        try:
            scores = self.write_client.zrange(self.key("idx:puts"), 0, -1, withscores=True)
        except REDIS_ERRORS as error:
            raise self.refusal(error) from error
        return int(sum(score for _symbol, score in scores))

    def interrupt(
        self,
        owner: str | None,
        beat_at: str | None,
        ending: tuple[str, RunFacts, Progress],
        successor: str | None = None,
    ) -> bool:
        """End a scan as interrupted in one atomic step, if the lock is still held by ``owner``
        (None: no lock) and the heartbeat is the one seen at ``beat_at`` (None: no heartbeat;
        ``ANY_BEAT``: whatever it is). ``ending`` is its message, facts and final progress;
        the facts' puts are counted as the contract keys are assembled from what it
        published; the tickers it never reached are marked stale (``NOT_REACHED``). The
        lock is freed, or handed to ``successor`` with a first heartbeat.
        False when the lock or the heartbeat changed meanwhile."""
        message, facts, progress = ending
        args = [
            "" if owner is None else _encode(owner),
            self.ttl,
            beat_at or "",
            _encode(message),
            _encode(facts.__dict__),
            _encode(progress.to_dict()),
            "" if successor is None else _encode(successor),
            "" if successor is None else self._heartbeat(successor),
            self.lock_ttl,
            NOT_REACHED,
        ]
        reported = bool(self._run("INTERRUPT", [self.keys.lock, *self.keys.results()], args))
        if reported:
            self.keep_record(facts.finished_at)
        return reported

    def set_last_run(self, message: str) -> None:
        """Set the "Last scan" message outside a scan (e.g. market closed)."""
        keys = [self.key("last_run"), self.key("version"), self.key("last_run_facts")]
        try:
            self._scripts["SET_LAST_RUN"](keys=keys, args=[_encode(message), self.ttl])
        except REDIS_ERRORS as error:
            raise self.refusal(error) from error

    def report_data_lost(self, message: str, facts: RunFacts) -> bool:
        """Set the "Last scan" message if Redis holds no lock and no progress (it lost its
        data); True when it did."""
        names = (LOCK, "scan_progress", "last_run", "last_run_facts", "version")
        args = [_encode(message), _encode(facts.__dict__), self.ttl]
        try:
            return bool(
                self._scripts["REPORT_DATA_LOST"](
                    keys=[self.key(name) for name in names], args=args
                )
            )
        except REDIS_ERRORS as error:
            raise self.refusal(error) from error

    def reword_interruption(self, facts: RunFacts, old_reason: str, message: str) -> bool:
        """Replace the stored facts and "Last scan" message of the interrupted scan
        ``facts.scan_id`` with ``facts`` and ``message``, only if they still name that scan
        with ``old_reason``; True when they did."""
        names = ("last_run_facts", "last_run", "version")
        args = [facts.scan_id, old_reason, _encode(facts.__dict__), _encode(message)]
        return bool(self._run("REWORD_INTERRUPTION", [self.key(name) for name in names], args))
