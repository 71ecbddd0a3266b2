"""``WATCHLIST_FILE`` seeds the database once, when it holds no watchlist yet, into local
mode's user or the first admin; afterwards a changed file is said at start (the log) and
on that user's ``/watchlist``, never silently ignored."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ..db.account_tables import AppFact
from ..watchlist import WatchlistError, load_watchlist
from .entries import WatchlistStore
from .owners import Owner, default_owner

log = logging.getLogger(__name__)

#: The ``app_facts`` row that remembers the file imported: its SHA-256 and whose it became.
SEEDED_FACT = "watchlist_file"
CHANGED_NOTICE = "{name} changed since it was imported"
NO_ADMIN_YET = (
    "%s not imported: no admin yet; it seeds the first admin's watchlist at the next start "
    "after `flask --app wsgi users create NAME --admin`"
)


@dataclass(frozen=True)
class SeedRecord:
    """The file imported last: its fingerprint and the user it was imported for."""

    sha256: str
    user_id: int


def fingerprint(path: Path) -> str | None:
    """The SHA-256 of the file at ``path``; None when it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def read_record(engine: Engine) -> SeedRecord | None:
    """The record of the file imported last, None before the seed."""
    with Session(engine) as session:
        fact = session.get(AppFact, SEEDED_FACT)
        data = json.loads(fact.value) if fact is not None else None
    if not isinstance(data, dict):
        return None
    return SeedRecord(str(data.get("sha256")), int(data.get("user_id", 0)))


def record_import(engine: Engine, path: Path, user_id: int) -> None:
    """Remember that the file at ``path``, as it is now, was imported for ``user_id``."""
    value = json.dumps({"sha256": fingerprint(path), "user_id": user_id})
    with Session(engine) as session, session.begin():
        fact = session.get(AppFact, SEEDED_FACT)
        if fact is None:
            session.add(AppFact(name=SEEDED_FACT, value=value))
        else:
            fact.value = value


def changed_file(engine: Engine, path: Path, user_id: int | None = None) -> bool:
    """Whether the file at ``path`` differs from the one imported (for ``user_id``, when
    given); raises SQLAlchemyError when the database does not answer."""
    record = read_record(engine)
    if record is None or (user_id is not None and record.user_id != user_id):
        return False
    now = fingerprint(path)
    return now is not None and now != record.sha256


def seed_once(engine: Engine, path: Path, local_mode: bool) -> Owner | None:
    """Import the file at ``path`` for the default owner when nobody has a watchlist and
    it was never imported; the owner seeded, else None (each reason logged). A changed
    file after the seed is logged. Raises SQLAlchemyError when the database does not
    answer."""
    store = WatchlistStore(engine)
    if read_record(engine) is not None:
        if changed_file(engine, path):
            log.warning(
                "%s: import it on /watchlist or with `flask --app wsgi watchlist import %s`",
                CHANGED_NOTICE.format(name=Path(path).name),
                path,
            )
        return None
    if store.holds_any():
        return None
    owner = default_owner(engine, local_mode)
    if owner is None:
        log.warning(NO_ADMIN_YET, path)
        return None
    try:
        entries = load_watchlist(path).entries
    except WatchlistError as error:
        log.error("watchlist not imported: %s", error)
        return None
    store.import_entries(owner.id, list(entries))
    record_import(engine, path, owner.id)
    log.info("imported %s (%d tickers) into %s's watchlist", path, len(entries), owner.username)
    return owner
