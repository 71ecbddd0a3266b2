"""The scan's memory: each batch of finished tickers written to the database in one
transaction (their day, the bars fetched for the backfill, the contracts that qualified),
which also reads each ticker's stored IV30 window summed up (its extremes and the latest
day's place in it, never the window's rows), so IV rank and percentile go on the rows
before the batch is published to Redis.

A scan writes under the New York date of the session it observed (during or after it);
before the open and on days without a session it writes nothing, and the figures are those
of the latest stored day, with its date. The database failing never fails the scan: the
rows go out without what needs it, and the scan's facts say the history was not saved and
why (noted in Redis, so the process that ends an RQ scan knows it too).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Set
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import redis
from sqlalchemy.exc import SQLAlchemyError

from ..db import DayBatch, HistoryStore, IvStanding, StoredDay, describe_database_error
from ..market.calendar import history_day
from ..redis_door import REDIS_ERRORS, Keys
from ..stored_json import load_json
from ..valuation.volatility import (
    TRADING_DAYS,
    expected_move,
    percentile_in,
    rank_in,
    strike_in_expected_moves,
)
from .store import TickerResult
from .ticker_volatility import TickerVolatility

log = logging.getLogger(__name__)

#: The Redis note of a scan whose history was not saved: ``{"scan_id", "reason"}``.
UNSAVED = "history_unsaved"
#: After a failed write, the database is left alone this long within one scan.
BACKOFF_SECONDS = 15.0


class HistoryRecorder:
    """Writes a scan's batches to the history and puts the ticker's figures on their rows.

    ``days_kept``: the retention (``HISTORY_DAYS``), pruned once a day.
    """

    def __init__(
        self,
        history: HistoryStore,
        client: redis.Redis,
        keys: Keys,
        clock: Callable[[], datetime],
        days_kept: int,
        ttl: int,
    ) -> None:
        self.history = history
        self.client = client
        self.keys = keys
        self.clock = clock
        self.days_kept = days_kept
        self.ttl = ttl
        self._failed_at: datetime | None = None

    def record(self, scan_id: str, results: list[TickerResult]) -> list[TickerResult]:
        """Save what ``results`` measured and return them with their figures on every row."""
        measured = [result for result in results if result.volatility is not None]
        if not measured:
            return results
        now = self.clock()
        day = history_day(now)
        standings: dict[str, IvStanding] = {}
        news: set[str] | None = None
        if not self._resting(now):
            try:
                if day is None:
                    standings = self._latest_standings(measured)
                else:
                    news, standings = self.history.save_batch(_batch(measured, day), TRADING_DAYS)
                    self._prune_once(day)
            except SQLAlchemyError as error:
                self._failed(scan_id, now, describe_database_error(error))
        return [
            _with_figures(result, standings.get(result.symbol), day, news)
            if result.volatility is not None
            else result
            for result in results
        ]

    def _latest_standings(self, measured: list[TickerResult]) -> dict[str, IvStanding]:
        """Without a session, no day is written; a ticker with nothing stored yet gets the
        provider's year (the demo's synthetic one), so a first scan shows IV rank."""
        symbols = {result.symbol for result in measured}
        standings = self.history.iv_standings(symbols, None, TRADING_DAYS)
        first_use = [result for result in measured if result.symbol not in standings]
        backfill = [day for result in first_use for day in _backfill(result, None)]
        if not backfill:
            return standings
        self.history.fill(backfill)
        return self.history.iv_standings(symbols, None, TRADING_DAYS)

    def unsaved_reason(self, scan_id: str) -> str | None:
        """Why the history of ``scan_id`` was not saved, when it was not."""
        try:
            note = load_json(self.client.get(self.keys(UNSAVED)))
        except REDIS_ERRORS:
            return None
        if isinstance(note, Mapping) and note.get("scan_id") == scan_id:
            return str(note.get("reason") or "the database failed")
        return None

    def _prune_once(self, day: date) -> None:
        """Drop what is older than ``days_kept``, once a day across every process."""
        try:
            first = self.client.set(self.keys(f"history_pruned:{day}"), 1, nx=True, ex=86_400)
        except REDIS_ERRORS:
            return
        if first:
            gone = self.history.prune(day - timedelta(days=self.days_kept))
            log.info("history: pruned %d days older than %d days", gone, self.days_kept)

    def _resting(self, now: datetime) -> bool:
        """Whether the database failed so recently that this batch does not ask it again."""
        return self._failed_at is not None and (now - self._failed_at).total_seconds() < (
            BACKOFF_SECONDS
        )

    def _failed(self, scan_id: str, now: datetime, reason: str) -> None:
        log.warning("scan %s: history not saved: %s", scan_id, reason)
        self._failed_at = now
        try:
            note = json.dumps({"scan_id": scan_id, "reason": reason})
            self.client.set(self.keys(UNSAVED), note, ex=self.ttl)
        except REDIS_ERRORS as error:
            log.warning("the history's failure could not be noted in Redis: %s", error)


def _batch(results: list[TickerResult], day: date) -> DayBatch:
    """The day of each ticker, the bars fetched for the backfill, and the contracts that
    qualified."""
    days, backfill, contracts = [], [], []
    for result in results:
        figures: TickerVolatility = result.volatility  # type: ignore[assignment]
        days.append(StoredDay(result.symbol, day, figures.spot, figures.iv30, figures.hv20))
        backfill += _backfill(result, day)
        contracts += [(row["contract_symbol"], result.symbol, "put") for row in result.rows]
        contracts += [(row["contract_symbol"], result.symbol, "call") for row in result.calls]
    return DayBatch(day, days, backfill, contracts)


def _backfill(result: TickerResult, day: date | None) -> list[StoredDay]:
    """The provider's bars of ``result``'s ticker before ``day`` (None: all of them)."""
    figures: TickerVolatility = result.volatility  # type: ignore[assignment]
    return [
        StoredDay(result.symbol, bar.day, bar.close, bar.iv30)
        for bar in figures.backfill
        if day is None or bar.day < day
    ]


def ticker_figures(
    standing: IvStanding | None, day: date | None, measured: TickerVolatility
) -> dict[str, Any]:
    """The ticker's IV30, HV20, IV rank and percentile, the days behind them and their
    date: today's measure on a session day, else the latest stored day's."""
    latest = None if standing is None else standing.latest
    if day is None and latest is not None:
        iv30, hv20, as_of = latest.iv30, latest.hv20, latest.day
    else:
        iv30, hv20, as_of = measured.iv30, measured.hv20, day
    if standing is None:
        rank = percentile = None
        days = 0
    else:
        days = standing.days
        rank = rank_in(standing.latest_iv30, standing.lowest, standing.highest, days)
        percentile = percentile_in(standing.below, days)
    return {
        "iv30": iv30,
        "hv20": hv20,
        "iv_rank": rank,
        "iv_percentile": percentile,
        "iv_history_days": days,
        "iv_as_of": None if as_of is None else as_of.isoformat(),
    }


def _row_figures(
    row: dict[str, Any],
    figures: Mapping[str, Any],
    side: str,
    news: Set[str] | None,
) -> dict[str, Any]:
    move = expected_move(row["spot"], figures["iv30"], row["dte"])
    return {
        **row,
        **figures,
        "expected_move": move,
        "strike_in_expected_moves": strike_in_expected_moves(
            row["spot"], row["strike"], move, side
        ),
        "new": None if news is None else row["contract_symbol"] in news,
    }


def _with_figures(
    result: TickerResult,
    standing: IvStanding | None,
    day: date | None,
    news: Set[str] | None,
) -> TickerResult:
    figures = ticker_figures(standing, day, result.volatility)  # type: ignore[arg-type]
    if day is None:
        news = set()  # no session today: nothing first qualified today
    return replace(
        result,
        rows=[_row_figures(row, figures, "put", news) for row in result.rows],
        calls=[_row_figures(row, figures, "call", news) for row in result.calls],
    )
