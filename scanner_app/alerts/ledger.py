"""What was alerted, and each delivery, in the database.

The dedupe rule, per screen and contract: a contract is alerted when it starts matching;
not again while it keeps matching; again only when it stopped matching and matches anew at
least the repeat window after its last alert (back sooner, it counts as matching again,
without an alert). Each screen keeps the contracts that matched at its last evaluation;
each alerted contract its last alert's time. A claim is one guarded upsert (it records
the contract only when it was never alerted, or not within the window), so two workers
evaluating the same scan, or a restarted app, never claim a contract twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random

from ..db import stored_time
from ..db.account_tables import USERS
from ..db.screen_tables import ALERT_DELIVERIES, ALERT_TARGETS, ALERTED_CONTRACTS, SCREENS
from ..stored_json import load_json

#: Consecutive failed deliveries (each after its retries) that pause a target.
PAUSE_AFTER = 10
#: Tries of one claim when another evaluation's write made its snapshot stale (SQLite).
CLAIM_ATTEMPTS = 5
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


def matching_digest(contracts: Iterable[str]) -> str:
    """A digest of a set of contracts (equal sets, equal digests)."""
    return hashlib.sha1("\n".join(sorted(set(contracts))).encode()).hexdigest()


class AlertLedger:
    """Claims contracts for alerts and records deliveries on the app's database."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def digests(self) -> dict[int, str | None]:
        """Each screen's digest of the contracts that matched it last (one query)."""
        query = select(SCREENS.c.id, SCREENS.c.matching_digest)
        with self.engine.connect() as connection:
            return {row.id: row.matching_digest for row in connection.execute(query)}

    def claim(self, screen_id: int, matching: Iterable[str], repeat: timedelta) -> set[str]:
        """Of the contracts matching the screen now, those to alert (claimed here, so no
        other evaluation alerts them); the screen's matching set becomes ``matching``.

        Only the contracts that started matching touch the table, so a scan that changes
        little costs little. SQLite refuses a write on a stale snapshot when another
        evaluation wrote first: the claim is then made again on fresh data.
        """
        retrying = Retrying(
            retry=retry_if_exception_type(OperationalError),
            stop=stop_after_attempt(CLAIM_ATTEMPTS),
            wait=wait_random(0.05, 0.25),
            reraise=True,
        )
        current = set(matching)
        return retrying(self._claim, screen_id, current, repeat)

    def _claim(self, screen_id: int, current: set[str], repeat: timedelta) -> set[str]:
        now = self.clock()
        claimed: set[str] = set()
        with self.engine.begin() as connection:
            stored = connection.scalar(
                select(SCREENS.c.matching_contracts).where(SCREENS.c.id == screen_id)
            )
            known = load_json(stored)
            before = {str(item) for item in known} if isinstance(known, list) else set()
            started = [
                {"screen_id": screen_id, "contract_symbol": contract, "last_alerted_at": now}
                for contract in sorted(current - before)
            ]
            if started:
                found = connection.execute(self._upsert(now - repeat), started)
                claimed.update(found.scalars())
            if current != before:
                connection.execute(
                    update(SCREENS)
                    .where(SCREENS.c.id == screen_id)
                    .values(
                        matching_contracts=json.dumps(sorted(current)),
                        matching_digest=matching_digest(current),
                    )
                )
        return claimed

    def _upsert(self, cutoff: datetime):
        """Record contracts as alerted (one statement for many rows), except those alerted
        after ``cutoff``; returns the ones recorded."""
        table = ALERTED_CONTRACTS
        dialect = self.engine.dialect.name
        statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)
        return statement.on_conflict_do_update(
            index_elements=["screen_id", "contract_symbol"],
            set_={"last_alerted_at": statement.excluded.last_alerted_at},
            where=table.c.last_alerted_at <= cutoff,
        ).returning(table.c.contract_symbol, sort_by_parameter_order=True)

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
                    stored_time(row.created_at),
                    row.contracts,
                    row.outcome,
                    row.error,
                )
                for row in connection.execute(query)
            ]
