"""After a completed scan: which contracts started matching each screen with targets, and
one message per screen to each of its targets, every delivery recorded.

``AlertService.run`` is the whole of it, wherever it runs (a thread of the process that
finished the scan, or an RQ job). It never raises: a database, Redis or target failure is
logged (never with a target) and recorded where it can be, and the scan's outcome is
already published before any of it starts.

In production a member's target is checked again when it is sent: a host name that
resolved to a public address when the target was saved may resolve inward now (DNS
rebinding), and such a send is refused and recorded as failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from ..db import describe_database_error
from ..redis_door import REDIS_ERRORS, CacheUnavailable
from ..scan.fair_values import read_estimates
from ..scan.reads import ResultReader
from ..scan.stopping import running_scan
from ..screens.definition import read_query, row_hash
from ..screens.matcher import Matches, ScreenView, match_screens
from ..screens.saved_screens import SavedScreen, ScreenStore
from ..user_watchlists.universe import Universe
from .delivery import Sent, send
from .ledger import FAILED, PAUSED, SENT, AlertLedger, matching_digest
from .message import MAX_ROWS, AlertMessage, alert_message, trial_message
from .targets import inner_address
from .threads import nap_until_stopped

log = logging.getLogger(__name__)

#: user id -> the symbols of their view (None: the whole universe)
OwnerSymbols = Callable[[int], Iterable[str]]


@dataclass(frozen=True)
class AlertSettings:
    """``ALERT_REPEAT_HOURS``, ``PUBLIC_URL``, the base wait between retries, and local
    mode (where any target may reach a loopback or private address)."""

    repeat: timedelta
    public_url: str
    retry_base: float
    local_mode: bool


@dataclass(frozen=True)
class Pending:
    """One screen's message, for each of its targets."""

    screen: SavedScreen
    contracts: int
    message: AlertMessage


def _never() -> bool:
    return False


class AlertService:
    """Matches the screens after a scan, claims what is new and delivers the messages."""

    def __init__(
        self,
        *,
        screens: ScreenStore,
        ledger: AlertLedger,
        reader: ResultReader,
        universe: Callable[[], Universe],
        owner_symbols: OwnerSymbols,
        settings: AlertSettings,
    ) -> None:
        self.screens = screens
        self.ledger = ledger
        self.reader = reader
        self.universe = universe
        self.owner_symbols = owner_symbols
        self.settings = settings

    def run(
        self,
        scan_id: str,
        nap: Callable[[float], None],
        give_up: Callable[[], bool] = _never,
    ) -> None:
        """Evaluate every screen after scan ``scan_id`` and deliver what is new."""
        try:
            pending = self.evaluate()
        except SQLAlchemyError as error:
            log.warning("alerts of scan %s skipped: %s", scan_id, describe_database_error(error))
            return
        except CacheUnavailable as error:
            log.warning("alerts of scan %s skipped: Redis is unavailable (%s)", scan_id, error)
            return
        for item in pending:
            self.deliver(item, nap, give_up)

    def match(self) -> tuple[list[SavedScreen], dict[int, Matches]]:
        """Every screen with targets, and the rows that meet each (one pass)."""
        screens = self.screens.everyone_alerting()
        owners: dict[int, frozenset[str]] = {}  # each owner's view, read once
        views = [self._view(screen, owners) for screen in screens]
        matched = match_screens(
            views, lambda side: self.reader.stream_rows(row_hash(side)), self._fair_values()
        )
        return screens, matched

    def evaluate(self) -> list[Pending]:
        """The message of each screen whose matching contracts include new ones (claimed:
        no other evaluation alerts them)."""
        screens, matched = self.match()
        pending = []
        digests = self.ledger.digests()
        for screen in screens:
            matches = matched.get(screen.id)
            contracts = matches.contracts() if matches is not None else []
            if matching_digest(contracts) == digests.get(screen.id):
                continue  # the same contracts as last time: nothing started matching
            claimed = self.ledger.claim(screen.id, contracts, self.settings.repeat)
            if claimed:
                first = matches.rows(claimed, MAX_ROWS)
                message = alert_message(
                    screen.name,
                    screen.view,
                    screen.query,
                    first,
                    len(claimed),
                    self.settings.public_url,
                )
                pending.append(Pending(screen, len(claimed), message))
        return pending

    def _view(self, screen: SavedScreen, owners: dict[int, frozenset[str]]) -> ScreenView:
        """What the screen asks for, over its owner's view (their watchlist, or the whole
        universe when the query says ``scope=all``); ``owners`` keeps the views read."""
        query, _messages = read_query(screen.query, screen.view)
        if query.whole_universe:
            return ScreenView(screen.id, query.side, query.filters, None)
        if screen.user_id not in owners:
            owners[screen.user_id] = frozenset(self.owner_symbols(screen.user_id))
        return ScreenView(screen.id, query.side, query.filters, owners[screen.user_id])

    def _fair_values(self) -> Callable[[str], float | None]:
        """Each ticker's fair value as the scan has it: the figure every holder set, else
        the scan's estimate (read once, for the tickers without a figure)."""
        universe = self.universe()
        estimates: dict[str, Any] = {}
        loaded = False

        def fair_value(symbol: str) -> float | None:
            nonlocal estimates, loaded
            own = universe.fair_value(symbol)
            if own is not None:
                return own
            if not loaded:
                loaded = True
                wanted = [s for s in universe.symbols() if universe.fair_value(s) is None]
                try:
                    estimates = read_estimates(self.reader.client, self.reader.keys, wanted)
                except REDIS_ERRORS as error:
                    log.warning("fair values unreadable for alerts: %s", error)
            found = estimates.get(symbol)
            return found.value if found is not None else None

        return fair_value

    def deliver(
        self, item: Pending, nap: Callable[[float], None], give_up: Callable[[], bool] = _never
    ) -> None:
        """Send one screen's message to each target (a paused one is recorded as paused)."""
        for target in item.screen.targets:
            if target.paused:
                outcome, error = PAUSED, "the target is paused after repeated failures"
            elif (error := self._refusal(item.screen, target.url)) is not None:
                outcome = FAILED
            else:
                error = send(target.url, item.message, self.settings.retry_base, nap, give_up).error
                outcome = SENT if error is None else FAILED
            if error is not None:
                log.warning(
                    "alert of screen %s (%s) %s: %s",
                    item.screen.id,
                    item.screen.name,
                    outcome,
                    error,
                )
            try:
                self.ledger.record(item.screen.id, target.id, item.contracts, outcome, error)
            except SQLAlchemyError as failure:
                log.warning(
                    "delivery of screen %s not recorded: %s",
                    item.screen.id,
                    describe_database_error(failure),
                )

    def _refusal(self, screen: SavedScreen, url: str) -> str | None:
        """Why ``url`` may not be reached now for the screen's owner (None: it may). In
        production only an admin's target may reach a loopback or private address; its
        host is resolved again here, whatever it resolved to when it was saved."""
        if self.settings.local_mode:
            return None
        host = inner_address(url)
        if host is None or self.screens.is_admin(screen.user_id):
            return None
        return (
            f"refused: {host} now resolves to a loopback or private address (or does not "
            "resolve), which only an admin's target may reach"
        )

    def send_trial(self, screen: SavedScreen) -> list[Sent]:
        """Send the test message to each of the screen's targets now, all at once, each
        retried like a delivery (a shutdown stops the retries); how each went. A test is
        not a delivery: it is not recorded."""
        message = trial_message(screen.name, screen.view, screen.query, self.settings.public_url)
        with running_scan() as stop:
            nap = nap_until_stopped(stop)

            def attempt(url: str) -> Sent:
                refusal = self._refusal(screen, url)
                if refusal is not None:
                    return Sent(refusal, 0)
                return send(url, message, self.settings.retry_base, nap, lambda: bool(stop.error))

            urls = [target.url for target in screen.targets]
            with ThreadPoolExecutor(max_workers=max(len(urls), 1)) as pool:
                return list(pool.map(attempt, urls))
