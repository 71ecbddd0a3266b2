"""The scanner's parts, built once per app from its config."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine

from .alerts.delivery import keep_apprise_quiet
from .alerts.ledger import AlertLedger
from .alerts.service import AlertService, AlertSettings
from .alerts.threads import nap_until_stopped, start_delivery
from .db import HistoryStore, db
from .jobs.extension import alert_enqueuer, rq_executor
from .jobs.recovery import scan_lock_ttl
from .market.provider import FundamentalsSource, MarketProvider
from .market.registry import create_provider, fundamentals_source
from .redis_door import MaxmemoryPolicy, RedisDoor
from .redis_door.memory import MemoryGauge
from .scan.earnings import EarningsCalendar
from .scan.engine import AfterScan, ScanEngine
from .scan.executors import Executor, ThreadExecutor
from .scan.fair_values import FairValueEstimator
from .scan.history import HistoryRecorder
from .scan.liveness import settled_status
from .scan.parts import APP_EXTENSION
from .scan.reads import ResultReader
from .scan.screen import Criteria
from .scan.store import ScanStore, Status
from .scan.ticker_scan import TickerScanner
from .scan.ticker_volatility import VolatilityGauge
from .screens.saved_screens import ScreenStore
from .user_watchlists.universe import Universe
from .user_watchlists.watchlists import Watchlists
from .valuation.assumptions import Assumptions


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


@dataclass
class Scanner:
    """Watchlists, market, store, reader, Redis's eviction policy and memory, criteria,
    executor, the database, the saved screens and their alerts: what a scan and a page
    need (the scan layer's ``ScanParts`` among them)."""

    settings: Mapping[str, Any]
    watchlists: Watchlists
    provider: MarketProvider
    store: ScanStore
    reader: ResultReader
    redis_policy: MaxmemoryPolicy
    redis_memory: MemoryGauge
    criteria: Criteria
    executor: Executor
    clock: Callable[[], datetime]
    database: Engine
    screens: ScreenStore
    #: The universe the last scan (or the app's start) read: only its size is used here.
    known_universe: Universe = field(default_factory=Universe)
    #: None with ``ALERTS=off``
    alerts: AlertService | None = None
    #: what a completed scan's id is handed to: a delivery thread, or an RQ job
    after_scan: AfterScan | None = None

    @classmethod
    def from_app(cls, app: Flask) -> Scanner:
        """Build the scanner from ``app.config`` (the cache must be initialised)."""
        config = app.config
        door = RedisDoor.of(app)
        clock = config.get("CLOCK") or utc_now
        database = _engine(app)
        screens = ScreenStore(database, clock)
        scanner = cls(
            settings=config,
            watchlists=Watchlists(database, door.write_client, door.keys),
            provider=config.get("MARKET_PROVIDER") or create_provider(config),
            store=ScanStore(
                door,
                ttl=config["CACHE_TTL_OPTIONS"],
                lock_ttl=scan_lock_ttl(config),
                clock=clock,
            ),
            reader=ResultReader(door),
            redis_policy=MaxmemoryPolicy(door.write_client),
            redis_memory=MemoryGauge(door.write_client),
            criteria=Criteria.from_settings(config),
            executor=config.get("SCAN_RUNNER") or _executor(app, clock),
            clock=clock,
            database=database,
            screens=screens,
        )
        if config["ALERTS"]:
            scanner.alerts = scanner._alert_service()
            scanner.after_scan = (
                alert_enqueuer(app) if config["SCAN_EXECUTOR"] == "rq" else scanner._deliver_aside
            )
        return scanner

    def start(self) -> None:
        """Seed the watchlists from ``WATCHLIST_FILE`` once, and learn the universe."""
        self.known_universe = self.watchlists.start(
            self.settings["WATCHLIST_FILE"], self.local_mode
        )

    @property
    def watchlist(self) -> Universe:
        """The universe last read (its length is the ``ScanParts``' watchlist size)."""
        return self.known_universe

    @property
    def local_mode(self) -> bool:
        """Local mode scans outside market hours."""
        return self.settings["SCANNER_ENV"] != "production"

    @property
    def enforces_market_hours(self) -> bool:
        """Production scans only while NYSE is open."""
        return not self.local_mode

    @property
    def dead_after(self) -> float:
        """Seconds of heartbeat silence after which a running scan counts as dead."""
        return self.settings["SCAN_DEAD_SECONDS"]

    def status(self) -> Status:
        """The scan status in one round trip, after reporting a scan it shows as dead."""
        return settled_status(self)

    @property
    def history_on(self) -> bool:
        """Whether scans keep a history (``HISTORY``)."""
        return bool(self.settings["HISTORY"])

    @cached_property
    def history(self) -> HistoryStore:
        """The history's queries on the app's database."""
        return HistoryStore(self.database)

    def engine(self) -> ScanEngine:
        """A scan engine over the current universe: every user's watchlist, read in one
        query (the last copy in Redis when the database is down)."""
        universe = self.known_universe = self.watchlists.universe()
        store = self.store
        earnings = (
            EarningsCalendar(store.write_client, store.keys)
            if self.settings["EARNINGS"] and getattr(self.provider, "has_earnings", True)
            else None
        )
        tickers = TickerScanner(
            provider=self.provider,
            criteria=self.criteria,
            rate=self.settings["RISK_FREE_RATE"],
            clock=self.clock,
            earnings=earnings,
            positions=universe.positions(),
            fair_values=self._fair_values(universe),
            volatility=(
                VolatilityGauge(store.write_client, store.keys) if self.history_on else None
            ),
        )
        return ScanEngine(
            store=store,
            tickers=tickers,
            symbols=universe.symbols(),
            concurrency=self.settings["SCAN_CONCURRENCY"],
            clock=self.clock,
            heartbeat=self.settings["SCAN_HEARTBEAT_SECONDS"],
            history=self._recorder(),
            after_scan=self.after_scan,
        )

    def _alert_service(self) -> AlertService:
        """The alerts of the saved screens, on the app's database and results."""
        keep_apprise_quiet()
        settings = self.settings
        return AlertService(
            screens=self.screens,
            ledger=AlertLedger(self.database, self.clock),
            reader=self.reader,
            universe=self.watchlists.universe,
            owner_symbols=self.watchlists.own_symbols,
            settings=AlertSettings(
                repeat=timedelta(hours=settings["ALERT_REPEAT_HOURS"]),
                public_url=settings["PUBLIC_URL"],
                retry_base=settings["ALERT_RETRY_SECONDS"],
                local_mode=self.local_mode,
            ),
        )

    def _deliver_aside(self, scan_id: str) -> None:
        """Evaluate and deliver the alerts of scan ``scan_id`` on a background thread."""
        alerts = self.alerts
        assert alerts is not None
        start_delivery(
            scan_id,
            lambda stop: alerts.run(scan_id, nap_until_stopped(stop), lambda: bool(stop.error)),
        )

    def _recorder(self) -> HistoryRecorder | None:
        """What writes the scan's history; None with ``HISTORY=off``."""
        if not self.history_on:
            return None
        store = self.store
        return HistoryRecorder(
            self.history,
            store.write_client,
            store.keys,
            self.clock,
            days_kept=self.settings["HISTORY_DAYS"],
            ttl=store.ttl,
        )

    @cached_property
    def fundamentals(self) -> FundamentalsSource | None:
        """Where fundamentals come from (one per process), None where none can."""
        return fundamentals_source(self.settings, self.provider)

    def _fair_values(self, universe: Universe) -> FairValueEstimator | None:
        """The estimator of fair values, None without a source of fundamentals."""
        source = self.fundamentals
        if source is None:
            return None
        store = self.store
        assumptions = Assumptions.from_settings(self.settings)
        return FairValueEstimator(
            store.write_client, store.keys, source, assumptions, universe, store.ttl
        )


def _engine(app: Flask) -> Engine:
    """The app's database engine (``init_db`` attached it)."""
    with app.app_context():
        return db.engine


def _executor(app: Flask, clock: Callable[[], datetime]) -> Executor:
    """The executor named by ``SCAN_EXECUTOR``."""
    if app.config["SCAN_EXECUTOR"] != "rq":
        return ThreadExecutor()
    return rq_executor(app, clock)


def current_scanner() -> Scanner:
    """The scanner of the app handling the current request or command."""
    return current_app.extensions[APP_EXTENSION]
