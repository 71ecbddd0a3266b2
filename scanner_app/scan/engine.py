"""Run one scan: fan out over the watchlist, isolate failures, publish as tickers finish."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import date, datetime

from ..market.calendar import NY, expiration_window_end, market_today
from ..market.errors import MarketDataError, ProviderRefused
from ..market.provider import MarketProvider
from ..redis_errors import describe_error
from .screen import Criteria, screen_chain, sort_puts
from .store import LockLost, Progress, RunFacts, ScanStore, TickerResult

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
        # Symbol order: the dashboard's default view fills from its top, page by page.
        symbols = sorted(self.symbols)
        progress = Progress(scan_id=scan_id, total=len(symbols), started_at=self._now())
        self.store.begin(progress, forget=self.store.listed_symbols() - set(symbols))
        listener(progress)
        current = _CurrentTicker()
        today = market_today(self.clock())
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="scan") as pool:
            pending: set[Future[TickerResult]] = {
                pool.submit(self._scan_ticker, symbol, today, current) for symbol in symbols
            }
            # A refusal of the whole provider (bad token, no credits) ends the scan at once:
            # the tickers not started yet are cancelled, not each refused in turn.
            try:
                progress = self._drain(scan_id, pending, progress, current, listener)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        _with_puts, puts = self.store.assemble(scan_id)
        finished_at = self.clock()
        facts = RunFacts(
            scan_id=scan_id,
            outcome="completed",
            finished_at=finished_at.isoformat(timespec="seconds"),
            tickers=len(symbols),
            puts=puts,
            failed=progress.failed,
        )
        message = _completion_message(finished_at, len(symbols), puts, progress.failed)
        progress = replace(progress, finished_at=facts.finished_at, current=None)
        self.store.finish(scan_id, message, facts, progress)
        listener(progress)
        return ScanSummary(scan_id, len(symbols), puts, progress.failed, message)

    def _drain(
        self,
        scan_id: str,
        pending: set[Future[TickerResult]],
        progress: Progress,
        current: _CurrentTicker,
        listener: ProgressListener,
    ) -> Progress:
        """Publish tickers as they finish, keeping the lock alive; the progress at the end."""
        while pending:
            finished, pending = self._next_batch(pending)
            self._keep_lock(scan_id)
            if not finished:
                continue
            now_current = current.symbol if pending else None
            self.store.publish(scan_id, finished, now_current)
            progress = replace(
                progress,
                done=progress.done + len(finished),
                failed=progress.failed + sum(1 for result in finished if result.error),
                current=now_current,
            )
            listener(progress)
        return progress

    def _next_batch(
        self, pending: set[Future[TickerResult]]
    ) -> tuple[list[TickerResult], set[Future[TickerResult]]]:
        """Wait for a ticker, then gather what else finishes within the flush interval.

        Returns empty-handed after a third of the lock's TTL without a finished ticker, so
        the caller can keep the lock alive while slow tickers (retries, back-off) run.
        """
        done, pending = wait(pending, timeout=self.store.lock_ttl / 3, return_when=FIRST_COMPLETED)
        if done and pending and not any(future.exception() for future in done):
            more, pending = wait(pending, timeout=self.flush_interval, return_when=FIRST_EXCEPTION)
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
        except ProviderRefused:
            raise
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
        """Say that the scan failed, with the contract keys rebuilt from what it published."""
        moment = self.clock()
        try:
            _with_puts, puts = self.store.assemble(scan_id)
            progress = self.store.read_status().current_progress
            facts = RunFacts(
                scan_id=scan_id,
                outcome="failed",
                finished_at=moment.isoformat(timespec="seconds"),
                tickers=len(self.symbols),
                puts=puts,
                failed=progress.failed if progress else 0,
                reason=describe_error(error),
            )
            self.store.finish(scan_id, f"Scan failed at {_display_time(moment)}: {error}", facts)
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
