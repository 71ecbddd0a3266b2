"""The saved screens and the alert ledger on SQLite and PostgreSQL: who sees what, and
the dedupe rule per screen and contract."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from scanner_app.alerts.ledger import FAILED, PAUSE_AFTER, PAUSED, SENT, AlertLedger
from scanner_app.screens.definition import ScreenError, check_screen
from scanner_app.screens.saved_screens import ScreenStore

from .screens_data import add_user, forget_screens

START = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def engine(database_url, make_app):
    """The migrated database, with no screens in it."""
    app = make_app(DATABASE_URL=database_url)
    engine = app.extensions["put_scanner"].database
    forget_screens(engine)
    yield engine
    forget_screens(engine)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_private_screen_is_its_owners_alone(engine, clock):
    store = ScreenStore(engine, clock)
    alice, bob = add_user(engine), add_user(engine)
    name, query = check_screen("Weekly income", "min_annualized=40&max_dte=21")
    private = store.create(alice, name, query)
    shared = store.create(alice, "Team", check_screen("x", "min_delta=-0.2")[1], shared=True)
    assert [s.name for s in store.visible(bob)] == ["Team"]
    assert store.find(bob, private.id) is None and store.find(bob, shared.id) is not None
    assert store.find_own(bob, shared.id) is None  # shared: applied, never changed
    assert not store.update(bob, shared.id, name="Mine now")
    assert not store.delete(bob, private.id)
    assert not store.replace_targets(bob, private.id, ["json://example.com/x"])
    assert store.find(alice, private.id).query == "min_annualized=40&max_dte=21"


def test_a_name_is_unique_per_owner(engine, clock):
    store = ScreenStore(engine, clock)
    alice, bob = add_user(engine), add_user(engine)
    query = check_screen("x", "")[1]
    store.create(alice, "Weekly", query)
    store.create(bob, "Weekly", query)
    with pytest.raises(ScreenError, match="already have a screen called “Weekly”"):
        store.create(alice, "Weekly", query)


def test_the_ledger_alerts_a_contract_once_while_it_keeps_matching(engine, clock):
    store, ledger = ScreenStore(engine, clock), AlertLedger(engine, clock)
    screen = store.create(add_user(engine), "S", check_screen("x", "")[1])
    assert ledger.claim(screen.id, {"A", "B"}, DAY) == {"A", "B"}
    assert ledger.claim(screen.id, {"A", "B", "C"}, DAY) == {"C"}
    # a restart: a new ledger on the same database remembers
    assert AlertLedger(engine, clock).claim(screen.id, {"A", "B", "C"}, DAY) == set()


def test_a_contract_back_after_the_repeat_window_is_alerted_again(engine, clock):
    store, ledger = ScreenStore(engine, clock), AlertLedger(engine, clock)
    screen = store.create(add_user(engine), "S", check_screen("x", "")[1])
    assert ledger.claim(screen.id, {"A", "B"}, DAY) == {"A", "B"}
    clock.now += timedelta(hours=1)
    assert ledger.claim(screen.id, set(), DAY) == set()  # both stop matching
    clock.now += timedelta(hours=2)
    assert ledger.claim(screen.id, {"A"}, DAY) == set()  # back within 24 h: no alert
    clock.now += DAY
    assert ledger.claim(screen.id, {"A", "B"}, DAY) == {"B"}  # A never stopped since
    clock.now += timedelta(hours=1)
    ledger.claim(screen.id, set(), DAY)
    clock.now += timedelta(hours=20)
    # A's last alert was 48 h ago, B's 21 h ago
    assert ledger.claim(screen.id, {"A", "B"}, DAY) == {"A"}


def test_two_ledgers_claiming_at_once_alert_each_contract_once(engine, clock):
    """Two evaluations of the same scans at the same moment, each on its own connection:
    each contract that starts matching is claimed by exactly one of them."""
    store = ScreenStore(engine, clock)
    screen = store.create(add_user(engine), "S", check_screen("x", "")[1])
    scans = [{f"C{number}" for number in range(start, start + 1200)} for start in (0, 600, 1200)]
    claimed: list[list[set[str]]] = [[], []]
    together = threading.Barrier(2)

    def evaluate(worker: int) -> None:
        ledger = AlertLedger(engine, clock)
        for contracts in scans:
            together.wait()
            claimed[worker].append(ledger.claim(screen.id, contracts, DAY))

    workers = [threading.Thread(target=evaluate, args=(worker,)) for worker in (0, 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for number, (first, second) in enumerate(zip(*claimed, strict=True)):
        started = scans[number] - (scans[number - 1] if number else set())
        assert not first & second and first | second == started


def test_ten_failed_deliveries_in_a_row_pause_a_target(engine, clock):
    store, ledger = ScreenStore(engine, clock), AlertLedger(engine, clock)
    owner = add_user(engine)
    screen = store.create(owner, "S", check_screen("x", "")[1], targets=["json://h.example/x"])
    target = screen.targets[0].id
    for _ in range(PAUSE_AFTER - 1):
        ledger.record(screen.id, target, 3, FAILED, "boom")
    ledger.record(screen.id, target, 3, SENT)  # a success starts the count again
    for _ in range(PAUSE_AFTER - 1):
        ledger.record(screen.id, target, 3, FAILED, "boom")
    assert not store.find_own(owner, screen.id).paused
    ledger.record(screen.id, target, 3, FAILED, "boom")
    assert store.find_own(owner, screen.id).paused
    ledger.record(screen.id, target, 3, PAUSED, "paused")
    assert ledger.last_outcomes([screen.id])[screen.id].outcome == PAUSED
    assert store.resume_targets(owner, screen.id) and not store.find_own(owner, screen.id).paused


def test_the_deliveries_listed_are_the_users_own_unless_everyone_asked(engine, clock):
    store, ledger = ScreenStore(engine, clock), AlertLedger(engine, clock)
    alice, bob = add_user(engine), add_user(engine)
    mine = store.create(alice, "Mine", check_screen("x", "")[1])
    theirs = store.create(bob, "Theirs", check_screen("x", "")[1])
    ledger.record(mine.id, None, 2, SENT)
    ledger.record(theirs.id, None, 1, FAILED, "no")
    assert [d.screen for d in ledger.recent(alice)] == ["Mine"]
    assert {d.screen for d in ledger.recent(None)} == {"Mine", "Theirs"}
