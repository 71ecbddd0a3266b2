"""The saved screens and their alert targets in the database.

Every read and change names the user it acts for: a screen is theirs, or shared by someone
else (which they may apply, never change); anything else is "not found". Raises
SQLAlchemyError when the database does not answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..db.account_tables import USERS
from ..db.screen_tables import ALERT_TARGETS, SCREENS
from .definition import ScreenError, ScreenQuery

ADMIN = "admin"


@dataclass(frozen=True)
class Target:
    """One alert target: its Apprise URL (a secret) and whether it is paused."""

    id: int
    url: str
    paused: bool = False
    failures: int = 0


@dataclass(frozen=True)
class SavedScreen:
    """A screen as its owner saved it, with its owner's name and its targets."""

    id: int
    user_id: int
    owner: str
    name: str
    query: str
    view: str
    shared: bool
    updated_at: datetime
    targets: tuple[Target, ...] = ()

    def mine(self, user_id: int) -> bool:
        """Whether ``user_id`` owns the screen (only the owner changes it)."""
        return self.user_id == user_id

    @property
    def paused(self) -> bool:
        """Whether any of its targets is paused."""
        return any(target.paused for target in self.targets)


class ScreenStore:
    """Reads and changes the saved screens on the app's database."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    # -- people ------------------------------------------------------------------------

    def role(self, user_id: int) -> str | None:
        """The user's role (``admin`` or ``member``); None for an unknown id."""
        with self.engine.connect() as connection:
            return connection.scalar(select(USERS.c.role).where(USERS.c.id == user_id))

    def is_admin(self, user_id: int) -> bool:
        """Whether the user is an admin."""
        return self.role(user_id) == ADMIN

    def user_id(self, username: str) -> int | None:
        """The id of the user called ``username``; None when there is none."""
        with self.engine.connect() as connection:
            return connection.scalar(select(USERS.c.id).where(USERS.c.username == username))

    # -- reading -----------------------------------------------------------------------

    def visible(self, user_id: int) -> list[SavedScreen]:
        """The user's own screens and those others share, by name."""
        return self._read(or_(SCREENS.c.user_id == user_id, SCREENS.c.shared.is_(True)))

    def everyone_alerting(self) -> list[SavedScreen]:
        """Every screen with at least one target (for the matcher)."""
        with_targets = select(ALERT_TARGETS.c.screen_id)
        return [screen for screen in self._read(SCREENS.c.id.in_(with_targets)) if screen.targets]

    def find(self, user_id: int, screen_id: int) -> SavedScreen | None:
        """The screen if the user may apply it (theirs, or shared); None otherwise."""
        found = self._read(SCREENS.c.id == screen_id)
        if not found or not (found[0].mine(user_id) or found[0].shared):
            return None
        return found[0]

    def find_own(self, user_id: int, screen_id: int) -> SavedScreen | None:
        """The screen if the user owns it; None otherwise (another's screen is not found)."""
        found = self.find(user_id, screen_id)
        return found if found is not None and found.mine(user_id) else None

    def find_named(self, user_id: int, name: str) -> SavedScreen | None:
        """The user's own screen called ``name``."""
        found = self._read((SCREENS.c.user_id == user_id) & (SCREENS.c.name == name))
        return found[0] if found else None

    def _read(self, where) -> list[SavedScreen]:
        """The screens meeting ``where``, by name then id, with their targets."""
        query = (
            select(SCREENS, USERS.c.username)
            .join(USERS, USERS.c.id == SCREENS.c.user_id)
            .where(where)
            .order_by(func.lower(SCREENS.c.name), SCREENS.c.id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
            ids = [row.id for row in rows]
            targets: dict[int, list[Target]] = {}
            if ids:
                found = connection.execute(
                    select(ALERT_TARGETS)
                    .where(ALERT_TARGETS.c.screen_id.in_(ids))
                    .order_by(ALERT_TARGETS.c.id)
                )
                for target in found:
                    targets.setdefault(target.screen_id, []).append(
                        Target(target.id, target.url, target.paused, target.failures)
                    )
        return [
            SavedScreen(
                id=row.id,
                user_id=row.user_id,
                owner=row.username,
                name=row.name,
                query=row.query,
                view=row.view,
                shared=row.shared,
                updated_at=row.updated_at,
                targets=tuple(targets.get(row.id, ())),
            )
            for row in rows
        ]

    # -- changing ----------------------------------------------------------------------

    def create(
        self,
        user_id: int,
        name: str,
        query: ScreenQuery,
        shared: bool = False,
        targets: Iterable[str] = (),
    ) -> SavedScreen:
        """Save a new screen for the user; ScreenError when they have one of that name."""
        now = self.clock()
        values = {
            "user_id": user_id,
            "name": name,
            "query": query.text(),
            "view": query.view,
            "shared": shared,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self.engine.begin() as connection:
                screen_id = connection.execute(insert(SCREENS).values(values)).inserted_primary_key[
                    0
                ]
                self._insert_targets(connection, screen_id, targets)
        except IntegrityError:
            raise ScreenError([f"You already have a screen called “{name}”."]) from None
        found = self.find_own(user_id, screen_id)
        assert found is not None
        return found

    def update(self, user_id: int, screen_id: int, **changes) -> bool:
        """Change the user's own screen (``name``, ``query``: a ScreenQuery, ``shared``);
        False when it is not theirs; ScreenError on a name they already use."""
        values = {key: value for key, value in changes.items() if key != "query"}
        query: ScreenQuery | None = changes.get("query")
        if query is not None:
            values |= {"query": query.text(), "view": query.view}
        values["updated_at"] = self.clock()
        try:
            with self.engine.begin() as connection:
                done = connection.execute(
                    update(SCREENS)
                    .where((SCREENS.c.id == screen_id) & (SCREENS.c.user_id == user_id))
                    .values(values)
                )
        except IntegrityError:
            raise ScreenError([f"You already have a screen called “{changes['name']}”."]) from None
        return done.rowcount == 1

    def delete(self, user_id: int, screen_id: int) -> bool:
        """Delete the user's own screen (its targets, alerts and deliveries go with it);
        False when it is not theirs."""
        with self.engine.begin() as connection:
            done = connection.execute(
                delete(SCREENS).where((SCREENS.c.id == screen_id) & (SCREENS.c.user_id == user_id))
            )
        return done.rowcount == 1

    def replace_targets(self, user_id: int, screen_id: int, urls: Iterable[str]) -> bool:
        """Make ``urls`` the screen's targets (an edit re-enables a paused one: each starts
        afresh); False when the screen is not the user's."""
        with self.engine.begin() as connection:
            owned = connection.scalar(
                select(SCREENS.c.id).where(
                    (SCREENS.c.id == screen_id) & (SCREENS.c.user_id == user_id)
                )
            )
            if owned is None:
                return False
            connection.execute(delete(ALERT_TARGETS).where(ALERT_TARGETS.c.screen_id == screen_id))
            self._insert_targets(connection, screen_id, urls)
        return True

    def resume_targets(self, user_id: int, screen_id: int) -> bool:
        """Re-enable the screen's paused targets; False when the screen is not the user's."""
        if self.find_own(user_id, screen_id) is None:
            return False
        with self.engine.begin() as connection:
            connection.execute(
                update(ALERT_TARGETS)
                .where(ALERT_TARGETS.c.screen_id == screen_id)
                .values(paused=False, failures=0)
            )
        return True

    def _insert_targets(self, connection, screen_id: int, urls: Iterable[str]) -> None:
        rows = [
            {"screen_id": screen_id, "url": url, "paused": False, "failures": 0}
            | {"created_at": self.clock()}
            for url in dict.fromkeys(urls)
        ]
        if rows:
            connection.execute(insert(ALERT_TARGETS), rows)
