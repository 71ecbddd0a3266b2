"""Run a scan: begin it, scan its tickers in batches, publish as they finish, finish it.

A scan runs whole in one process (the thread executor, ``flask scan``) or split into
batches that several processes scan at once (the RQ executor): every step goes through the
store's fenced writes, so the steps need not share anything but Redis. While it scans, a
heartbeat proves it alive; a shutdown or a lost lock stops it at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, Future, wait
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from ..market.calendar import eastern_text, history_day, market_today
from ..redis_door import CacheUnavailable, describe_error
from ..redis_door.memory import RedisFull
from .daemon_pool import DaemonPool
from .heartbeat import Heartbeat
from .history import HistoryRecorder
from .messages import run_message
from .stopping import ScanInterrupted, StopSignal, running_scan
from .store import (
    ANY_BEAT,
    LockLost,
    Outage,
    Progress,
    RunFacts,
    ScanStore,
    TickerResult,
)
from .ticker_scan import TickerScanner

log = logging.getLogger(__name__)

ProgressListener = Callable[[Progress], None]
#: Told the id of each scan that completed, after its outcome is published (the app's
#: alerts); it must return quickly and its failure never changes the scan's outcome.
AfterScan = Callable[[str], None]

REDIS_LOST_REASON = "results were lost when Redis restarted; run a scan"
#: Why a reader ended a scan whose heartbeat aged: all it can tell.
DEAD_REASON = "the process running it stopped"


@dataclass(frozen=True)
class ScanSummary:
    """How a finished scan went."""

    scan_id: str
    tickers: int
    puts: int
    failed: int
    message: str


def _ignore(progress: Progress) -> None:
    """A progress listener that listens to nothing."""


class ScanEngine:
    """Scans the watchlist with bounded concurrency and publishes through a ScanStore.

    It shares nothing with the web process but Redis: any process can run any step.
    """

    def __init__(
        self,
        *,
        store: ScanStore,
        tickers: TickerScanner,
        symbols: list[str],
        concurrency: int,
        clock: Callable[[], datetime],
        heartbeat: float,
        flush_interval: float = 0.25,
        history: HistoryRecorder | None = None,
        after_scan: AfterScan | None = None,
    ) -> None:
        self.store = store
        self.tickers = tickers
        # Symbol order: the dashboard's default view fills from its top, page by page.
        self.symbols = sorted(symbols)
        self.concurrency = concurrency
        self.clock = clock
        # A third of the lock's TTL at most, so the lock never lapses between two beats.
        self.heartbeat = min(heartbeat, store.lock_ttl / 3)
        self.flush_interval = flush_interval
        self.history = history
        self.after_scan = after_scan

    # -- the whole scan in this process ----------------------------------------------------

    def run(self, scan_id: str, listener: ProgressListener | None = None) -> ScanSummary:
        """Begin, scan every ticker and finish under the lock ``scan_id`` already holds.

        The lock is released in every case. A failure of the whole scan is published as
        the last-run message when Redis still allows it, and re-raised; so is a shutdown
        (ScanInterrupted), after publishing what the scan has.
        """
        listener = listener or _ignore
        with self._alive(scan_id) as stop:
            try:
                progress = self.begin(scan_id)
                listener(progress)
                self._scan(scan_id, self.symbols, stop, listener, progress)
                summary, progress = self._finish_locked(scan_id)
                listener(progress)
                return summary
            except ScanInterrupted as stopped:
                log.warning("scan %s stopped: %s", scan_id, stopped.reason)
                self.interrupt(scan_id, stopped.reason)
                raise
            except LockLost:
                self.report_lost(scan_id)
                raise
            except CacheUnavailable as error:  # Redis refused or dropped a write: no traceback
                log.error("scan %s stopped: %s", scan_id, error)
                self.fail(scan_id, error)
                raise
            except Exception as error:
                log.exception("scan %s failed", scan_id)
                self.fail(scan_id, error)
                raise
            finally:
                self.release(scan_id)

    # -- the steps ---------------------------------------------------------------------------

    def begin(self, scan_id: str) -> Progress:
        """Publish the scan's starting progress and forget tickers that left the watchlist."""
        progress = Progress(scan_id=scan_id, total=len(self.symbols), started_at=self._now())
        self.store.begin(progress, forget=self.store.listed_symbols() - set(self.symbols))
        return progress

    def scan_batch(
        self,
        scan_id: str,
        symbols: Iterable[str],
        listener: ProgressListener = _ignore,
        progress: Progress | None = None,
    ) -> None:
        """Scan ``symbols`` with up to ``concurrency`` at once, publishing as they finish.

        Raises LockLost as soon as the scan no longer holds the lock, and ProviderRefused
        when the market refuses the account (the tickers not started yet are cancelled).
        ``listener`` hears ``progress`` advanced by this batch's tickers.
        """
        with self._alive(scan_id) as stop:
            self._scan(scan_id, symbols, stop, listener, progress)

    def finish(self, scan_id: str) -> ScanSummary:
        """Assemble the contract keys, say how the scan went and release the lock."""
        try:
            return self._finish_locked(scan_id)[0]
        except LockLost:
            self.report_lost(scan_id)
            raise
        finally:
            self.release(scan_id)

    def fail(self, scan_id: str, error: BaseException) -> None:
        """Say that the scan failed, with the contract keys rebuilt from what it published.

        Not when Redis is full: they keep the last scan's, and what room is left goes to
        the few bytes that say why the scan stopped.
        """
        moment = self.clock()
        try:
            if isinstance(error, RedisFull):
                puts = self.store.published_puts()
            else:
                _with_puts, puts = self.store.assemble(scan_id)
            progress = self._own_progress(scan_id)
            facts = RunFacts(
                scan_id=scan_id,
                outcome="failed",
                finished_at=moment.isoformat(timespec="seconds"),
                tickers=len(self.symbols),
                puts=puts,
                failed=progress.failed,
                reason=describe_error(error),
                done=progress.done,
                credits=progress.credits,
            )
            final = replace(progress, finished_at=facts.finished_at, current=None)
            self.store.finish(scan_id, run_message(facts, _display_time(moment)), facts, final)
        except LockLost:  # a reader ended the scan while Redis failed its writes
            self.report_lost(scan_id)
        except Exception:  # Redis itself may be what failed; the lock still gets released
            log.warning("could not publish the failure of scan %s", scan_id)

    def interrupt(self, scan_id: str, reason: str) -> None:
        """Say that the scan stopped before its end, keeping what it published, and free the
        lock, all in one step."""
        try:
            ending = interruption(self._own_progress(scan_id), self.clock(), reason)
            self.store.interrupt(scan_id, ANY_BEAT, ending)
        except Exception:  # Redis may be down; readers report the scan once its heartbeat ages
            log.warning("could not report scan %s as interrupted", scan_id)

    def report_lost(self, scan_id: str) -> None:
        """After the lock was lost: if Redis lost every key (a restart), or failed the scan's
        writes until its heartbeat aged (a stall), say so plainly."""
        moment = self.clock()
        facts = RunFacts(
            scan_id=scan_id,
            outcome="interrupted",
            finished_at=moment.isoformat(timespec="seconds"),
            tickers=len(self.symbols),
            puts=0,
            failed=0,
            reason=REDIS_LOST_REASON,
        )
        message = run_message(facts, _display_time(moment))
        try:
            if self.store.report_data_lost(message, facts):
                log.warning("scan %s: Redis lost its data mid-scan", scan_id)
            elif self._blame_outage(scan_id):
                log.warning("scan %s stopped: Redis failed its writes", scan_id)
            else:
                log.warning("scan %s lost its lock and stopped publishing", scan_id)
        except CacheUnavailable:
            log.warning("scan %s lost its lock; Redis is unavailable", scan_id)

    def _blame_outage(self, scan_id: str) -> bool:
        """When Redis failed this process's writes lately, end ``scan_id`` as interrupted by
        that outage: reword a reader's report of it as dead, or report it first once its
        lock expired. False when there was no outage, or the scan was not left so."""
        outage = self.store.outages.since(self.store.lock_ttl)
        if outage is None:
            return False
        reason = _outage_reason(outage)
        status = self.store.read_status()
        facts = status.facts
        if facts is not None and facts.scan_id == scan_id:
            if facts.outcome != "interrupted" or facts.reason != DEAD_REASON:
                return False
            reworded = replace(facts, reason=reason)
            when = _display_time(datetime.fromisoformat(facts.finished_at))
            return self.store.reword_interruption(
                reworded, DEAD_REASON, run_message(reworded, when)
            )
        progress = status.progress
        if status.running_scan is not None or progress is None or progress.scan_id != scan_id:
            return False
        if progress.finished_at is not None:
            return False
        beat_at = status.heartbeat.at if status.heartbeat else None
        ending = interruption(progress, self.clock(), reason)
        return self.store.interrupt(None, beat_at, ending)

    def release(self, scan_id: str) -> None:
        """Free the lock if ``scan_id`` still holds it; it expires by itself otherwise."""
        try:
            self.store.release_lock(scan_id)
        except Exception:
            log.warning("could not release the lock of scan %s; it expires by itself", scan_id)

    # -- inside the steps ------------------------------------------------------------------

    @contextlib.contextmanager
    def _alive(self, scan_id: str) -> Iterator[StopSignal]:
        """The scan's stop signal, heard by a shutdown, with a heartbeat beside it."""
        with running_scan() as stop, Heartbeat(self.store, scan_id, self.heartbeat, stop):
            yield stop

    def _scan(
        self,
        scan_id: str,
        symbols: Iterable[str],
        stop: StopSignal,
        listener: ProgressListener,
        progress: Progress | None,
    ) -> None:
        """Fetch ``symbols`` on daemon threads and publish them as they finish, until all are
        done or ``stop`` is set (then the ones not started are cancelled)."""
        self._keep_lock(scan_id)
        current = _CurrentTicker()
        today = market_today(self.clock())
        with DaemonPool(self.concurrency, name=f"scan-{scan_id[:8]}") as pool:
            pending = {pool.submit(self._scan_one, symbol, today, current) for symbol in symbols}
            self._drain(scan_id, pending, stop, current, listener, progress)

    def _own_progress(self, scan_id: str) -> Progress:
        """The stored progress of ``scan_id``; a blank one when it has none yet."""
        stored = self.store.read_status().progress
        if stored is not None and stored.scan_id == scan_id:
            return stored
        return Progress(scan_id=scan_id, total=len(self.symbols), started_at=self._now())

    def _finish_locked(self, scan_id: str) -> tuple[ScanSummary, Progress]:
        _with_puts, puts = self.store.assemble(scan_id)
        status = self.store.read_status()
        if not status.available:
            raise CacheUnavailable("the scan's progress could not be read")
        stored = status.progress
        if stored is None or stored.scan_id != scan_id:
            raise LockLost(f"scan {scan_id} has no progress of its own")
        finished_at = self.clock()
        missing = stored.total - stored.done
        facts = RunFacts(
            scan_id=scan_id,
            outcome="failed" if missing > 0 else "completed",
            finished_at=finished_at.isoformat(timespec="seconds"),
            tickers=stored.total,
            puts=puts,
            failed=stored.failed,
            reason=_missing_reason(missing, stored.total) if missing > 0 else None,
            credits=stored.credits,
            done=stored.done,
            **self._history_facts(scan_id, finished_at),
        )
        message = run_message(facts, _display_time(finished_at))
        progress = replace(stored, finished_at=facts.finished_at, current=None)
        self.store.finish(scan_id, message, facts, progress)
        if facts.outcome == "completed":
            self._completed(scan_id)
        summary = ScanSummary(scan_id, stored.total, puts, stored.failed, message)
        return summary, progress

    def _completed(self, scan_id: str) -> None:
        """Tell ``after_scan`` that the scan completed; its failure is only logged."""
        if self.after_scan is None:
            return
        try:
            self.after_scan(scan_id)
        except Exception as error:
            log.warning("after scan %s: %s: %s", scan_id, type(error).__name__, error)

    def _history_facts(self, scan_id: str, finished_at: datetime) -> dict[str, Any]:
        """Whether the scan's history was saved, and why not (nothing to say with history
        off, or before a session)."""
        if self.history is None or history_day(finished_at) is None:
            return {}
        reason = self.history.unsaved_reason(scan_id)
        return {"history_saved": reason is None, "history_error": reason}

    def _drain(
        self,
        scan_id: str,
        pending: set[Future[TickerResult]],
        stop: StopSignal,
        current: _CurrentTicker,
        listener: ProgressListener,
        progress: Progress | None,
    ) -> None:
        """Publish tickers as they finish; once ``stop`` is set, publish the ones finished and
        raise its reason."""
        while pending:
            finished, pending = self._next_batch(pending, stop)
            if finished:
                now_current = current.symbol if pending else None
                if self.history is not None:
                    finished = self.history.record(scan_id, finished)
                self.store.publish(scan_id, finished, now_current)
                if progress is not None:
                    progress = replace(
                        progress,
                        done=progress.done + len(finished),
                        failed=progress.failed + sum(1 for result in finished if result.error),
                        current=now_current,
                    )
                    listener(progress)
            if stop.error is not None:
                raise stop.error

    def _next_batch(
        self, pending: set[Future[TickerResult]], stop: StopSignal
    ) -> tuple[list[TickerResult], set[Future[TickerResult]]]:
        """Wait for a ticker (or ``stop``), then gather what else finishes within the flush
        interval; returns the finished tickers and the ones still pending."""
        wait([*pending, stop.future], return_when=FIRST_COMPLETED)
        done = {future for future in pending if future.done()}
        if done and done != pending and stop.error is None:
            if not any(future.exception() for future in done):
                wait(pending - done, timeout=self.flush_interval, return_when=FIRST_EXCEPTION)
                done = {future for future in pending if future.done()}
        return [future.result() for future in done], pending - done

    def _keep_lock(self, scan_id: str) -> None:
        """Push the lock's expiry back; stop the scan if another scan owns the lock now."""
        if not self.store.refresh_lock(scan_id):
            raise LockLost(f"scan {scan_id} no longer holds the lock")

    def _scan_one(self, symbol: str, today: date, current: _CurrentTicker) -> TickerResult:
        current.symbol = symbol
        return self.tickers.scan(symbol, today)

    def _now(self) -> str:
        return self.clock().isoformat(timespec="seconds")


class _CurrentTicker:
    """The ticker most recently started by any thread (shown as "current" in progress)."""

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
    """``moment`` as every page and message writes a time (``calendar.eastern_text``)."""
    return eastern_text(moment)


def _outage_reason(outage: Outage) -> str:
    return f"Redis failed the scan's writes for {outage.seconds:.0f} s ({outage.error})"


def _missing_reason(missing: int, total: int) -> str:
    return f"{missing} of {total} tickers could not be scanned (their jobs failed)"


def interruption(
    progress: Progress, moment: datetime, reason: str
) -> tuple[str, RunFacts, Progress]:
    """The "Last scan" message, facts and final progress of a scan interrupted at
    ``progress`` at ``moment`` (the facts' puts are counted by the store)."""
    finished_at = moment.isoformat(timespec="seconds")
    facts = RunFacts(
        scan_id=progress.scan_id,
        outcome="interrupted",
        finished_at=finished_at,
        tickers=progress.total,
        puts=0,
        failed=progress.failed,
        reason=reason,
        done=progress.done,
    )
    final = replace(progress, finished_at=finished_at, current=None)
    return run_message(facts, _display_time(moment)), facts, final
