"""Run one scan: fan out over the watchlist, isolate failures, publish as tickers finish."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import date, datetime

from ..market.calendar import NY, expiration_window_end, market_today
from ..market.errors import MarketDataError
from ..market.provider import MarketProvider
from .screen import Criteria, screen_chain, sort_puts
from .store import LockLost, Progress, ScanStore, TickerResult

log = logging.getLogger(__name__)

ProgressListener = Callable[[Progress], None]


@dataclass(frozen=True)
class ScanSummary:
    """How a finished scan went."""

    scan_id: str
    tickers: int
    puts: int
    failed: int
    message: str


class ScanEngine:
    """Scans the watchlist with bounded concurrency and publishes through a ScanStore.

    It shares nothing with the web process but Redis: any process can run it.
    """

    def __init__(
        self,
        *,
        store: ScanStore,
        provider: MarketProvider,
        symbols: list[str],
        criteria: Criteria,
        rate: float,
        concurrency: int,
        clock: Callable[[], datetime],
        flush_interval: float = 0.25,
    ) -> None:
        self.store = store
        self.provider = provider
        self.symbols = symbols
        self.criteria = criteria
        self.rate = rate
        self.concurrency = concurrency
        self.clock = clock
        self.flush_interval = flush_interval

    def run(self, scan_id: str, listener: ProgressListener | None = None) -> ScanSummary:
        """Scan every ticker under the lock ``scan_id`` already holds, then release it.

        The lock is released in every case; a failure of the whole scan is published as
        the last-run message when Redis still allows it, and re-raised.
        """
        try:
            summary = self._run_locked(scan_id, listener or (lambda progress: None))
        except LockLost:
            log.warning("scan %s lost its lock and stopped publishing", scan_id)
            raise
        except Exception as error:
            log.exception("scan %s failed", scan_id)
            self._publish_failure(scan_id, error)
            raise
        finally:
            self._release(scan_id)
        return summary

    def _run_locked(self, scan_id: str, listener: ProgressListener) -> ScanSummary:
        options, scan_times = self.store.read_results()
        watched = set(self.symbols)
        options = {t: rows for t, rows in options.items() if t in watched}
        scan_times = {t: at for t, at in scan_times.items() if t in watched}
        errors: dict[str, str] = {}
        progress = Progress(scan_id=scan_id, total=len(self.symbols), started_at=self._now())
        self.store.begin(progress)
        listener(progress)
        current = _CurrentTicker()
        today = market_today(self.clock())
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="scan") as pool:
            pending: set[Future[TickerResult]] = {
                pool.submit(self._scan_ticker, symbol, today, current) for symbol in self.symbols
            }
            while pending:
                finished, pending = self._next_batch(pending)
                self._keep_lock(scan_id)
                if not finished:
                    continue
                for result in finished:
                    _merge(result, options, scan_times, errors)
                progress = replace(
                    progress,
                    done=progress.done + len(finished),
                    failed=len(errors),
                    current=current.symbol if pending else None,
                )
                self.store.publish(
                    progress, options, scan_times, errors, [r.symbol for r in finished]
                )
                listener(progress)
        puts = sum(len(rows) for rows in options.values())
        message = _completion_message(self.clock(), len(self.symbols), puts, len(errors))
        progress = replace(progress, finished_at=self._now(), current=None)
        self.store.finish(scan_id, message, progress)
        listener(progress)
        return ScanSummary(scan_id, len(self.symbols), puts, len(errors), message)

    def _next_batch(
        self, pending: set[Future[TickerResult]]
    ) -> tuple[list[TickerResult], set[Future[TickerResult]]]:
        """Wait for a ticker, then gather what else finishes within the flush interval.

        Returns empty-handed after a third of the lock's TTL without a finished ticker, so
        the caller can keep the lock alive while slow tickers (retries, back-off) run.
        """
        done, pending = wait(pending, timeout=self.store.lock_ttl / 3, return_when=FIRST_COMPLETED)
        if done and pending:
            more, pending = wait(pending, timeout=self.flush_interval)
            done |= more
        return [future.result() for future in done], pending

    def _keep_lock(self, scan_id: str) -> None:
        """Push the lock's expiry back; stop the scan if another scan owns the lock now."""
        if not self.store.refresh_lock(scan_id):
            raise LockLost(f"scan {scan_id} no longer holds the lock")

    def _scan_ticker(self, symbol: str, today: date, current: _CurrentTicker) -> TickerResult:
        """Fetch and screen one ticker; any failure becomes the ticker's error."""
        current.symbol = symbol
        try:
            rows = self._screen_ticker(symbol, today)
        except MarketDataError as error:
            return TickerResult(symbol, self._now(), [], error=str(error) or type(error).__name__)
        except Exception as error:  # a bug or an unexpected reply must not stop the scan
            log.exception("ticker %s failed", symbol)
            return TickerResult(symbol, self._now(), [], error=f"Unexpected error: {error}")
        return TickerResult(symbol, self._now(), [row.to_dict() for row in rows])

    def _screen_ticker(self, symbol: str, today: date) -> list:
        feed = self.provider.open(symbol)
        window_end = expiration_window_end(today, self.criteria.weeks)
        rows = []
        for expiration in feed.expirations():
            if today <= expiration <= window_end:
                chain = feed.put_chain(expiration)
                rows.extend(screen_chain(chain, today, self.criteria, self.rate))
        return sort_puts(rows)

    def _publish_failure(self, scan_id: str, error: Exception) -> None:
        message = f"Scan failed at {_display_time(self.clock())}: {error}"
        try:
            self.store.finish(scan_id, message)
        except Exception:  # Redis itself may be what failed; the lock still gets released
            log.warning("could not publish the failure of scan %s", scan_id)

    def _release(self, scan_id: str) -> None:
        try:
            self.store.release_lock(scan_id)
        except Exception:
            log.warning("could not release the lock of scan %s; it expires by itself", scan_id)

    def _now(self) -> str:
        return self.clock().isoformat(timespec="seconds")


class _CurrentTicker:
    """The ticker most recently started by any worker (shown as "current" in progress)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._symbol: str | None = None

    @property
    def symbol(self) -> str | None:
        with self._lock:
            return self._symbol

    @symbol.setter
    def symbol(self, value: str) -> None:
        with self._lock:
            self._symbol = value


def _merge(
    result: TickerResult,
    options: dict[str, list],
    scan_times: dict[str, str],
    errors: dict[str, str],
) -> None:
    """Fold one ticker's result into the published dicts.

    A failed ticker keeps what an earlier scan published for it and gets an error entry.
    """
    if result.error:
        errors[result.symbol] = result.error
        return
    scan_times[result.symbol] = result.scanned_at
    if result.rows:
        options[result.symbol] = result.rows
    else:
        options.pop(result.symbol, None)


def _display_time(moment: datetime) -> str:
    """``moment`` in New York time with the zone named."""
    return moment.astimezone(NY).strftime("%Y-%m-%d %H:%M %Z")


def _completion_message(moment: datetime, tickers: int, puts: int, failed: int) -> str:
    """The "Last scan" message of a scan that ran to the end."""
    message = (
        f"Scan completed successfully at {_display_time(moment)} — {tickers} tickers, {puts} puts"
    )
    if failed:
        message += f" ({failed} failed ticker{'s' if failed != 1 else ''})"
    return message
