"""What was alerted, and each delivery, in the database.

The dedupe rule, per screen and contract: a contract is alerted when it starts matching;
not again while it keeps matching; again only when it stopped matching and matches anew at
least the repeat window after its last alert (back sooner, it counts as matching again,
without an alert). Each screen keeps the contracts that matched at its last evaluation;
each alert a claim: one row with the screen, the time and the contracts it alerted (a
screen's first evaluation writes one row, not a row per contract). A claim starts with a
write to the screen's row, so two claims of one screen run one after the other (a row
lock on PostgreSQL, SQLite's single writer): two workers evaluating the same scan, or a
restarted app, never claim a contract twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import OperationalError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random

from ..db import stored_time
from ..db.account_tables import USERS
from ..db.screen_tables import ALERT_CLAIMS, ALERT_DELIVERIES, ALERT_TARGETS, SCREENS
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


def matching_digest(contracts: Sequence[str]) -> str:
    """A digest of the contracts as listed: equal digests, the same contracts. The matcher
    lists a set of contracts in one order (by ticker, then as the scan stored them), so
    unchanged contracts give an unchanged digest without a sort."""
    return hashlib.sha1("\n".join(contracts).encode()).hexdigest()


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
        """Of the contracts matching the screen now (each once, as the matcher lists them),
        those to alert (claimed here, so no other evaluation alerts them); the screen's
        matching set becomes ``matching``.

        The claims are read only when some contract started matching, so a scan that
        changes little costs little. SQLite refuses a write on a stale snapshot when
        another evaluation wrote first: the claim is then made again on fresh data.
        """
        retrying = Retrying(
            retry=retry_if_exception_type(OperationalError),
            stop=stop_after_attempt(CLAIM_ATTEMPTS),
            wait=wait_random(0.05, 0.25),
            reraise=True,
        )
        return retrying(self._claim, screen_id, list(matching), repeat)

    def _claim(self, screen_id: int, matching: list[str], repeat: timedelta) -> set[str]:
        """One try of ``claim``."""
        now = self.clock()
        current = set(matching)
        screen = SCREENS.c
        with self.engine.begin() as connection:
            # the write first: the claims of this screen wait for this one
            connection.execute(
                update(SCREENS)
                .where(screen.id == screen_id)
                .values(matching_digest=matching_digest(matching))
            )
            known = load_json(
                connection.scalar(select(screen.matching_contracts).where(screen.id == screen_id))
            )
            before = {str(item) for item in known} if isinstance(known, list) else set()
            started = current - before
            claimed = (
                started - self._recent(connection, screen_id, now - repeat) if started else set()
            )
            listed = json.dumps(matching)
            if claimed:
                alerted = (  # all it matches (a first claim): the same list
                    listed
                    if claimed == current
                    else json.dumps([c for c in matching if c in claimed])
                )
                connection.execute(
                    insert(ALERT_CLAIMS).values(
                        screen_id=screen_id, claimed_at=now, contracts=alerted
                    )
                )
            if current != before:
                connection.execute(
                    update(SCREENS).where(screen.id == screen_id).values(matching_contracts=listed)
                )
        return claimed

    @staticmethod
    def _recent(connection: Connection, screen_id: int, cutoff: datetime) -> set[str]:
        """The contracts the screen alerted after ``cutoff``; its older claims are deleted
        (they hold nothing back any more)."""
        claims = ALERT_CLAIMS.c
        mine = claims.screen_id == screen_id
        connection.execute(delete(ALERT_CLAIMS).where(mine & (claims.claimed_at <= cutoff)))
        recent: set[str] = set()
        for stored in connection.scalars(select(claims.contracts).where(mine)):
            found = load_json(stored)
            if isinstance(found, list):
                recent.update(str(item) for item in found)
        return recent

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
