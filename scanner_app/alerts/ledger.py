"""What was alerted, and each delivery, in the database.

The dedupe rule, per screen and contract: a contract is alerted when it starts matching;
not again while it keeps matching; again only when it stopped matching and matches anew at
least the repeat window after its last alert (back sooner, it counts as matching again,
without an alert). Every claim is one guarded statement, so two workers evaluating the
same scan, or a restarted app, never claim a contract twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..db.account_tables import USERS
from ..db.screen_tables import ALERT_DELIVERIES, ALERT_TARGETS, ALERTED_CONTRACTS, SCREENS

#: Consecutive failed deliveries (each after its retries) that pause a target.
PAUSE_AFTER = 10
#: Contracts per statement (SQLite allows a few thousand parameters).
CHUNK = 500
SENT, FAILED, PAUSED = "sent", "failed", "paused"


@dataclass(frozen=True)
class Delivery:
    """One recorded delivery of a screen's alert."""

    id: int
    screen_id: int
    screen: str
    owner: str
    created_at: datetime
    contracts: int
    outcome: str
    error: str | None

    def to_dict(self) -> dict:
        """The delivery for ``GET /api/alerts`` (never its target)."""
        return {
            "id": self.id,
            "screen_id": self.screen_id,
            "screen": self.screen,
            "owner": self.owner,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "contracts": self.contracts,
            "outcome": self.outcome,
            "error": self.error,
        }


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class AlertLedger:
    """Claims contracts for alerts and records deliveries on the app's database."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def claim(self, screen_id: int, matching: Iterable[str], repeat: timedelta) -> set[str]:
        """Of the contracts matching the screen now, those to alert (claimed here, so no
        other evaluation alerts them); the stored state follows what matches now."""
        now = self.clock()
        current = set(matching)
        table = ALERTED_CONTRACTS
        mine = table.c.screen_id == screen_id
        claimed: set[str] = set()
        with self.engine.begin() as connection:
            known = {
                row.contract_symbol: row
                for row in connection.execute(
                    select(table.c.contract_symbol, table.c.matching).where(mine)
                )
            }
            stopped = [symbol for symbol, row in known.items() if row.matching]
            stopped = [symbol for symbol in stopped if symbol not in current]
            for chunk in _chunks(stopped):
                connection.execute(
                    update(table)
                    .where(mine & table.c.contract_symbol.in_(chunk))
                    .values(matching=False)
                )
            fresh = sorted(current - known.keys())
            for chunk in _chunks(fresh):
                rows = [
                    {
                        "screen_id": screen_id,
                        "contract_symbol": symbol,
                        "last_alerted_at": now,
                        "matching": True,
                    }
                    for symbol in chunk
                ]
                added = connection.execute(
                    self._insert_new().values(rows).returning(table.c.contract_symbol)
                )
                claimed.update(added.scalars())
            back = sorted(s for s in current & known.keys() if not known[s].matching)
            for chunk in _chunks(back):
                back_now = mine & table.c.contract_symbol.in_(chunk) & table.c.matching.is_(False)
                again = connection.execute(
                    update(table)
                    .where(back_now & (table.c.last_alerted_at <= now - repeat))
                    .values(matching=True, last_alerted_at=now)
                    .returning(table.c.contract_symbol)
                )
                claimed.update(again.scalars())
                connection.execute(update(table).where(back_now).values(matching=True))
        return claimed

    def _insert_new(self):
        """An insert that skips contracts already recorded (another evaluation's)."""
        dialect = self.engine.dialect.name
        statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(
            ALERTED_CONTRACTS
        )
        return statement.on_conflict_do_nothing(index_elements=["screen_id", "contract_symbol"])

    def record(
        self, screen_id: int, target_id: int | None, contracts: int, outcome: str, error=None
    ) -> None:
        """Record one delivery; a failure counts toward pausing the target (a success
        starts the count again), and the ``PAUSE_AFTER``-th in a row pauses it."""
        with self.engine.begin() as connection:
            connection.execute(
                insert(ALERT_DELIVERIES).values(
                    screen_id=screen_id,
                    target_id=target_id,
                    created_at=self.clock(),
                    contracts=contracts,
                    outcome=outcome,
                    error=error,
                )
            )
            if target_id is None or outcome == PAUSED:
                return
            target = ALERT_TARGETS.c
            failures = target.failures + 1 if outcome == FAILED else 0
            connection.execute(
                update(ALERT_TARGETS).where(target.id == target_id).values(failures=failures)
            )
            connection.execute(
                update(ALERT_TARGETS)
                .where((target.id == target_id) & (target.failures >= PAUSE_AFTER))
                .values(paused=True)
            )

    def recent(self, user_id: int | None, limit: int = 100) -> list[Delivery]:
        """The latest deliveries, newest first: of the user's screens (None: everyone's)."""
        where = SCREENS.c.user_id == user_id if user_id is not None else None
        return self._deliveries(where, limit)

    def last_outcomes(self, screen_ids: Iterable[int]) -> dict[int, Delivery]:
        """Each screen's latest delivery, for the screens page."""
        ids = list(screen_ids)
        if not ids:
            return {}
        newest = (
            select(func.max(ALERT_DELIVERIES.c.id))
            .where(ALERT_DELIVERIES.c.screen_id.in_(ids))
            .group_by(ALERT_DELIVERIES.c.screen_id)
        )
        found = self._deliveries(ALERT_DELIVERIES.c.id.in_(newest), len(ids))
        return {delivery.screen_id: delivery for delivery in found}

    def _deliveries(self, where, limit: int) -> list[Delivery]:
        """Deliveries meeting ``where`` (None: all), newest first, with screen and owner."""
        query = (
            select(ALERT_DELIVERIES, SCREENS.c.name, USERS.c.username)
            .join(SCREENS, SCREENS.c.id == ALERT_DELIVERIES.c.screen_id)
            .join(USERS, USERS.c.id == SCREENS.c.user_id)
            .order_by(ALERT_DELIVERIES.c.created_at.desc(), ALERT_DELIVERIES.c.id.desc())
            .limit(limit)
        )
        if where is not None:
            query = query.where(where)
        with self.engine.connect() as connection:
            return [
                Delivery(
                    row.id,
                    row.screen_id,
                    row.name,
                    row.username,
                    _utc(row.created_at),
                    row.contracts,
                    row.outcome,
                    row.error,
                )
                for row in connection.execute(query)
            ]


def _utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC time (SQLite gives it back without its zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
