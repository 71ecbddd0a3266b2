"""The cache key layout: the scan lock, fenced publishing, and one-round-trip reads.

Keys (under the configurable prefix, ``scanner:`` by default), all JSON:

- ``ticker_options``    dict ticker -> list of qualifying put rows
- ``ticker_scan_times`` dict ticker -> ISO-8601 time of that ticker's last scan
- ``last_run``          the "Last scan: ..." message
- ``scan_in_progress``  the lock: the running scan's id (short TTL, refreshed as it progresses)
- ``scan_progress``     dict: scan_id, done, total, current, started_at, finished_at, failed
- ``ticker_errors``     dict ticker -> error of the last scan
- ``version``           integer bumped by every write, so a poll can tell "nothing changed"
- ``ticker:<SYMBOL>``   one ticker's rows, scan time and error: the drilldown reads only this
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import redis

UNAVAILABLE_MESSAGE = "Data temporarily unavailable. Please refresh the page."
NEVER_RUN_MESSAGE = "Never"

# Write each (key, value) pair with the TTL, or delete the key for an empty value, and bump
# the version -- only while the lock still holds this scan's token (fencing).
_FENCED_WRITE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[2])
for i = 3, #KEYS do
  local value = ARGV[i]
  if value == '' then
    redis.call('DEL', KEYS[i])
  else
    redis.call('SET', KEYS[i], value, 'EX', ttl)
  end
end
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ttl)
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_REFRESH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_UNFENCED_WRITE = """
local ttl = tonumber(ARGV[1])
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[i], 'EX', ttl) end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ttl)
return 1
"""


class CacheUnavailable(Exception):
    """Redis could not be reached (or answered with an error)."""


class LockLost(Exception):
    """This scan no longer holds the lock: another scan owns the results now."""


@dataclass(frozen=True)
class Progress:
    """Where a scan is: how many tickers are done, which one is being fetched."""

    scan_id: str
    total: int
    started_at: str
    done: int = 0
    current: str | None = None
    failed: int = 0
    finished_at: str | None = None

    @property
    def percent(self) -> int:
        """Share of tickers done, 0-100."""
        return round(100 * self.done / self.total) if self.total else 100

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Progress:
        """Inverse of ``to_dict``; raises TypeError/KeyError on a malformed value."""
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


@dataclass(frozen=True)
class Snapshot:
    """Everything the dashboard and the poll show, read in one round trip."""

    options: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    scan_times: dict[str, str] = field(default_factory=dict)
    last_run: str = UNAVAILABLE_MESSAGE
    errors: dict[str, str] = field(default_factory=dict)
    progress: Progress | None = None
    running_scan: str | None = None
    version: int = 0
    available: bool = False

    @property
    def state(self) -> str:
        """``running`` while a scan holds the lock, else ``idle``."""
        return "running" if self.running_scan else "idle"


@dataclass(frozen=True)
class TickerView:
    """One ticker's cached results for the drilldown, read in one round trip."""

    options: list[dict[str, Any]] = field(default_factory=list)
    scanned_at: str | None = None
    error: str | None = None
    last_run: str = UNAVAILABLE_MESSAGE
    running_scan: str | None = None
    available: bool = False


@dataclass(frozen=True)
class TickerResult:
    """What one ticker's scan produced; ``rows`` empty when nothing qualifies."""

    symbol: str
    scanned_at: str
    rows: list[dict[str, Any]]
    error: str | None = None


def _is_str_dict(value: Any, item_type: type) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, item_type) for k, v in value.items()
    )


class ScanStore:
    """Reads and writes the scanner's keys through the Flask-Caching Redis backend's client."""

    def __init__(self, backend: Any, prefix: str, ttl: int, lock_ttl: int) -> None:
        self._write = backend._write_client
        self._read = backend._read_client
        self._serializer = backend.serializer
        self.prefix = prefix
        self.ttl = ttl
        self.lock_ttl = lock_ttl

    def key(self, name: str) -> str:
        """The full Redis key for ``name``."""
        return f"{self.prefix}{name}"

    def _dumps(self, value: Any) -> bytes:
        return self._serializer.dumps(value)

    def _loads(self, raw: bytes | None) -> Any:
        """Decode a value; None for a missing key, ValueError for one that is not JSON."""
        if raw is None:
            return None
        value = self._serializer.loads(raw)
        if value is None:
            raise ValueError("a cache value is not JSON")
        return value

    def _token(self, scan_id: str) -> bytes:
        return self._dumps(scan_id)

    # -- reading ---------------------------------------------------------------------------

    def read_snapshot(self) -> Snapshot:
        """Options, scan times, last run, errors, progress, lock and version in one MGET.

        Never raises: on a Redis failure or a malformed value it returns safe defaults.
        """
        names = ("ticker_options", "ticker_scan_times", "last_run", "ticker_errors")
        names += ("scan_progress", "scan_in_progress", "version")
        try:
            raw = self._read.mget([self.key(name) for name in names])
            options, times, last_run, errors, progress, lock, version = map(self._loads, raw)
            if not (
                _is_str_dict(options or {}, list)
                and _is_str_dict(times or {}, str)
                and _is_str_dict(errors or {}, str)
                and isinstance(last_run, str | None)
                and isinstance(version, int | None)
            ):
                return Snapshot()
            return Snapshot(
                options=options or {},
                scan_times=times or {},
                last_run=last_run or NEVER_RUN_MESSAGE,
                errors=errors or {},
                progress=Progress.from_dict(progress) if progress else None,
                running_scan=lock if isinstance(lock, str) else None,
                version=version or 0,
                available=True,
            )
        except (redis.RedisError, OSError, TypeError, KeyError, ValueError):
            return Snapshot()

    def read_version(self) -> int | None:
        """The write counter (0 before any write); None when Redis cannot be read."""
        try:
            value = self._loads(self._read.get(self.key("version")))
        except (redis.RedisError, OSError, ValueError):
            return None
        return value if isinstance(value, int) else 0

    def read_ticker(self, symbol: str) -> TickerView:
        """One ticker's rows, its scan time and error, last run and lock: one MGET, O(1)."""
        names = (f"ticker:{symbol}", "last_run", "scan_in_progress")
        try:
            entry, last_run, lock = map(
                self._loads, self._read.mget([self.key(name) for name in names])
            )
            entry = entry or {}
            options = entry.get("options", [])
            if not isinstance(options, list) or not isinstance(last_run, str | None):
                return TickerView()
            return TickerView(
                options=options,
                scanned_at=entry.get("scanned_at"),
                error=entry.get("error"),
                last_run=last_run or NEVER_RUN_MESSAGE,
                running_scan=lock if isinstance(lock, str) else None,
                available=True,
            )
        except (redis.RedisError, OSError, AttributeError, ValueError):
            return TickerView()

    def read_results(self) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
        """The published options and scan times, the base a new scan merges into.

        Raises CacheUnavailable when Redis fails; malformed values count as empty.
        """
        try:
            raw = self._read.mget([self.key("ticker_options"), self.key("ticker_scan_times")])
        except (redis.RedisError, OSError) as error:
            raise CacheUnavailable(str(error)) from error
        options, times = (self._serializer.loads(value) for value in raw)
        options = options if _is_str_dict(options, list) else {}
        times = times if _is_str_dict(times, str) else {}
        return options, times

    def ping(self) -> bool:
        """Whether Redis answers."""
        try:
            return bool(self._write.ping())
        except (redis.RedisError, OSError):
            return False

    # -- the lock --------------------------------------------------------------------------

    def acquire_lock(self, scan_id: str) -> bool:
        """Take the lock for ``scan_id`` with one atomic SET NX EX; False if another scan has it."""
        try:
            return bool(
                self._write.set(
                    self.key("scan_in_progress"), self._token(scan_id), nx=True, ex=self.lock_ttl
                )
            )
        except (redis.RedisError, OSError) as error:
            raise CacheUnavailable(str(error)) from error

    def lock_owner(self) -> str | None:
        """The id of the scan holding the lock, if any (raises CacheUnavailable)."""
        try:
            owner = self._serializer.loads(self._read.get(self.key("scan_in_progress")))
        except (redis.RedisError, OSError) as error:
            raise CacheUnavailable(str(error)) from error
        return owner if isinstance(owner, str) else None

    def refresh_lock(self, scan_id: str) -> bool:
        """Push the lock's expiry out again, only if ``scan_id`` still holds it."""
        keys, args = [self.key("scan_in_progress")], [self._token(scan_id), self.lock_ttl]
        return bool(self._write.eval(_REFRESH, 1, *keys, *args))

    def release_lock(self, scan_id: str) -> bool:
        """Delete the lock only if ``scan_id`` holds it (compare-and-delete)."""
        return bool(
            self._write.eval(_RELEASE, 1, self.key("scan_in_progress"), self._token(scan_id))
        )

    # -- writing ---------------------------------------------------------------------------

    def _fenced_write(self, scan_id: str, values: Mapping[str, Any]) -> None:
        """Write ``values`` (None deletes) atomically, only while ``scan_id`` holds the lock."""
        keys = [self.key("scan_in_progress"), self.key("version"), *map(self.key, values)]
        encoded = [b"" if value is None else self._dumps(value) for value in values.values()]
        try:
            written = self._write.eval(
                _FENCED_WRITE, len(keys), *keys, self._token(scan_id), self.ttl, *encoded
            )
        except (redis.RedisError, OSError) as error:
            raise CacheUnavailable(str(error)) from error
        if not written:
            raise LockLost(f"scan {scan_id} no longer holds the lock")

    def begin(self, progress: Progress) -> None:
        """Publish a new scan's starting progress and clear the previous scan's errors."""
        self._fenced_write(
            progress.scan_id, {"scan_progress": progress.to_dict(), "ticker_errors": {}}
        )

    def publish(
        self,
        progress: Progress,
        options: Mapping[str, list[dict[str, Any]]],
        scan_times: Mapping[str, str],
        errors: Mapping[str, str],
        symbols: list[str],
    ) -> None:
        """Publish the merged results after ``symbols`` finished, all in one atomic write.

        ``options``, ``scan_times`` and ``errors`` are the whole dicts as they are now (the
        scan holds the lock, so it is the only writer); each finished ticker's own key is
        cut from the same dicts in the same step, so no reader sees one without the other.
        """
        values: dict[str, Any] = {
            "ticker_options": dict(options),
            "ticker_scan_times": dict(scan_times),
            "ticker_errors": dict(errors),
            "scan_progress": progress.to_dict(),
        }
        for symbol in symbols:
            values[f"ticker:{symbol}"] = {
                "options": options.get(symbol, []),
                "scanned_at": scan_times.get(symbol),
                "error": errors.get(symbol),
            }
        self._fenced_write(progress.scan_id, values)

    def finish(self, scan_id: str, last_run: str, progress: Progress | None = None) -> None:
        """Publish the "Last scan" message, and the final progress when there is one."""
        values: dict[str, Any] = {"last_run": last_run}
        if progress is not None:
            values["scan_progress"] = progress.to_dict()
        self._fenced_write(scan_id, values)

    def set_last_run(self, message: str) -> None:
        """Set the "Last scan" message outside a scan (e.g. market closed)."""
        try:
            self._write.eval(
                _UNFENCED_WRITE,
                2,
                self.key("version"),
                self.key("last_run"),
                self.ttl,
                self._dumps(message),
            )
        except (redis.RedisError, OSError) as error:
            raise CacheUnavailable(str(error)) from error
