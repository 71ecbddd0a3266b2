"""Each user's watchlist in the database: the store, imports and exports, the seed from
``WATCHLIST_FILE``, the universe read in one query and its copy in Redis. Every database
test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, event, select
from sqlalchemy.orm import Session

from scanner_app.accounts.local_user import local_user_id
from scanner_app.db.account_tables import AppFact, User, WatchlistRow
from scanner_app.user_watchlists.imports import export_toml, parse_import
from scanner_app.user_watchlists.seeding import seed_once
from scanner_app.user_watchlists.text_entries import entry_from_fields, split_symbols
from scanner_app.user_watchlists.universe import Universe, read_universe
from scanner_app.watchlist import WatchlistError, parse_watchlist

from .production import ADMIN, PRODUCTION
from .redis_server import free_port
from .watchlist_users import make_user

SEEDED = '[[tickers]]\nsymbol = "AAPL"\nfair_value = 150\n\n[[tickers]]\nsymbol = "KO"\n'


@pytest.fixture
def scanner(make_app, database_url, watchlist_file):
    """The app's parts on a database of the test's own (SQLite, then PostgreSQL)."""
    app = make_app(DATABASE_URL=database_url, WATCHLIST_FILE=watchlist_file(SEEDED))
    return app.extensions["put_scanner"]


# --- imports and exports (no database) ---


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            '[[tickers]]\nsymbol = "AAPL"\n\n[[tickers]]\nsymbol = "KO"\nfair_value = -1\n',
            "up.toml: line 4: entry 2 (KO): fair_value must be a positive number, got -1",
        ),
        (
            '[[tickers]]\nsymbol = "AAPL"\nshares = 1.5\n',
            "up.toml: line 1: entry 1 (AAPL): shares must be a whole number of 0 or more",
        ),
        (
            '[[tickers]]\nsymbol = "AAPL"\ncolor = 1\n',
            "line 1: entry 1 (AAPL): unknown key(s) color",
        ),
        ("tickers = 3", "up.toml: no tickers"),
        ("[[tickers]\n", "up.toml: not valid TOML"),
    ],
)
def test_a_bad_toml_import_fails_whole_naming_the_line(text, fragment):
    with pytest.raises(WatchlistError) as raised:
        parse_import("up.toml", text.encode())
    assert fragment in str(raised.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "symbol,fair_value,shares,cost_basis\nAAPL,150,,\nKO,abc,,\n",
            "up.csv: line 3 (KO): fair_value must be a positive number, got 'abc'",
        ),
        ("AAPL,,,\nb@d,,,\n", "up.csv: line 2 ('b@d'): invalid symbol"),
        ("AAPL,,,5\n", "up.csv: line 1 (AAPL): cost_basis needs shares"),
        ("AAPL,,,\nAAPL,,,\n", "up.csv: line 2 (AAPL): duplicate symbol AAPL"),
        ("AAPL,1,2,3,4\n", "up.csv: line 1: 5 columns; expected at most 4"),
        ("symbol,fair_value,shares,cost_basis\n", "up.csv: no tickers"),
    ],
)
def test_a_bad_csv_import_fails_whole_naming_the_line(text, fragment):
    with pytest.raises(WatchlistError) as raised:
        parse_import("up.csv", text.encode())
    assert fragment in str(raised.value)


def test_a_csv_import_reads_numbers_and_empty_cells():
    entries = parse_import(
        "up.csv", b"symbol,fair_value,shares,cost_basis\naapl,150,300,120.5\nKO\n"
    )
    assert [entry.symbol for entry in entries] == ["AAPL", "KO"]
    assert entries[0].fair_value == 150.0
    assert (entries[0].position.shares, entries[0].position.cost_basis) == (300, 120.5)
    assert entries[1].fair_value is None and entries[1].position is None


def test_the_toml_export_reads_back_as_the_same_entries():
    text = (
        '[[tickers]]\nsymbol = "AAPL"\nfair_value = 150.5\nshares = 300\ncost_basis = 120\n'
        'eps_growth_rate = 12\npreferred_method = "fcf"\nprojection_years = 7\n\n'
        '[[tickers]]\nsymbol = "KO"\nshares = 0\n'
    )
    entries = parse_watchlist(text).entries
    exported = export_toml(entries)
    assert parse_watchlist(exported).entries == entries


def test_add_tickers_splits_on_spaces_commas_and_new_lines():
    assert split_symbols(" aapl, msft\nko  ko\tbrk.b ") == ["AAPL", "MSFT", "KO", "BRK.B"]
    with pytest.raises(WatchlistError, match=r"Add tickers \('b@d'\): invalid symbol"):
        split_symbols("AAPL b@d")
    with pytest.raises(WatchlistError, match="type one or more ticker symbols"):
        split_symbols(" , ")


def test_an_entry_typed_into_fields_gets_the_files_messages():
    entry = entry_from_fields("AAPL", {"fair_value": "150", "shares": "300"}, "Watchlist entry")
    assert entry.fair_value == 150 and entry.position.shares == 300
    with pytest.raises(WatchlistError) as raised:
        entry_from_fields("AAPL", {"desired_return": "500"}, "Watchlist entry")
    assert str(raised.value) == (
        "Watchlist entry (AAPL): desired_return must be a number from 1 to 100, got 500"
    )


# --- the universe (no database) ---


def _universe(*holdings: dict) -> Universe:
    return Universe.from_list([{"assumptions": {}, **holding} for holding in holdings])


def test_calls_are_screened_down_to_the_lowest_basis_of_those_with_a_contract():
    universe = _universe(
        {"user_id": 1, "symbol": "AAPL", "shares": 300, "cost_basis": 150.0},
        {"user_id": 2, "symbol": "AAPL", "shares": 100, "cost_basis": 120.0},
        {"user_id": 3, "symbol": "AAPL", "shares": 50, "cost_basis": 10.0},
        {"user_id": 1, "symbol": "KO", "shares": 100},
        {"user_id": 2, "symbol": "KO", "shares": 200, "cost_basis": 50.0},
        {"user_id": 2, "symbol": "MSFT", "shares": 99},
    )
    positions = universe.positions()
    assert set(positions) == {"AAPL", "KO"}
    assert (positions["AAPL"].shares, positions["AAPL"].cost_basis) == (300, 120.0)
    assert positions["KO"].cost_basis is None  # one holder has no basis: every strike
    assert universe.symbols() == ["AAPL", "KO", "MSFT"] and len(universe) == 3


def test_the_scan_uses_a_fair_value_or_assumptions_only_when_every_holder_agrees():
    universe = _universe(
        {"user_id": 1, "symbol": "AAPL", "fair_value": 150.0, "assumptions": {"eps_multiple": 9}},
        {"user_id": 2, "symbol": "AAPL", "fair_value": 150.0, "assumptions": {"eps_multiple": 9}},
        {"user_id": 1, "symbol": "KO", "fair_value": 60.0, "assumptions": {"eps_multiple": 9}},
        {"user_id": 2, "symbol": "KO"},
    )
    assert universe.fair_value("AAPL") == 150.0
    assert universe.assumptions("aapl") == {"eps_multiple": 9}
    assert universe.fair_value("KO") is None  # estimated for whoever set none
    assert universe.assumptions("KO") == {}


# --- the store and the universe (SQLite and PostgreSQL) ---


def test_the_store_adds_edits_removes_and_keeps_each_users_own(scanner):
    watchlists = scanner.watchlists
    alice = make_user(scanner.database, "alice")
    bob = make_user(scanner.database, "bob")
    assert watchlists.add_symbols(alice, ["MSFT", "AAPL"]) == ["MSFT", "AAPL"]
    assert watchlists.add_symbols(alice, ["AAPL", "NVDA"]) == ["NVDA"]
    watchlists.add_symbols(bob, ["TSLA"])
    mine = watchlists.read(alice)
    assert mine.watchlist.symbols() == ["MSFT", "AAPL", "NVDA"]  # the order added
    entry = entry_from_fields("AAPL", {"shares": "300", "cost_basis": "120"}, "entry")
    bobs_entry = watchlists.read(bob).ids["TSLA"]
    assert not watchlists.update(alice, bobs_entry, entry)  # not hers
    assert watchlists.remove(alice, bobs_entry) is None
    assert watchlists.update(alice, mine.ids["AAPL"], entry)
    assert watchlists.read(alice).watchlist.positions()["AAPL"].cost_basis == 120
    own_rules = entry_from_fields("NVDA", {"eps_multiple": "9", "preferred_method": "fcf"}, "")
    assert watchlists.update(alice, mine.ids["NVDA"], own_rules)
    read_back = watchlists.read(alice).watchlist
    assert read_back.assumptions("NVDA") == {"eps_multiple": 9, "preferred_method": "fcf"}
    assert read_back.assumptions("AAPL") == {}
    assert watchlists.remove(alice, mine.ids["MSFT"]) == "MSFT"
    assert watchlists.read(alice).watchlist.symbols() == ["AAPL", "NVDA"]
    assert watchlists.read(bob).watchlist.symbols() == ["TSLA"]


def test_an_import_adds_and_updates_and_replace_makes_the_list_the_file(scanner):
    watchlists = scanner.watchlists
    alice = make_user(scanner.database, "alice")
    watchlists.add_symbols(alice, ["MSFT", "AAPL"])
    entries = parse_import("in.csv", b"AAPL,150,300,120\nKO,,,\n")
    outcome = watchlists.import_entries(alice, entries)
    assert (outcome.added, outcome.updated, outcome.removed) == (["KO"], ["AAPL"], [])
    assert watchlists.read(alice).watchlist.symbols() == ["MSFT", "AAPL", "KO"]
    assert watchlists.read(alice).watchlist.fair_value("AAPL") == 150
    replaced = watchlists.import_entries(alice, parse_import("in.csv", b"KO\nAAPL\n"), True)
    assert replaced.removed == ["MSFT"]
    mine = watchlists.read(alice).watchlist
    assert mine.symbols() == ["KO", "AAPL"] and mine.fair_value("AAPL") is None


def test_the_universe_is_every_users_symbols_once_in_one_query(scanner):
    for index in range(5):
        user = make_user(scanner.database, f"user{index}")
        scanner.watchlists.add_symbols(user, ["AAPL", f"T{index}"])
    statements = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(scanner.database, "before_cursor_execute", count)
    try:
        universe = read_universe(scanner.database)
    finally:
        event.remove(scanner.database, "before_cursor_execute", count)
    assert len(statements) == 1 and "watchlist_entries" in statements[0]
    assert universe.symbols() == ["AAPL", "KO", "T0", "T1", "T2", "T3", "T4"]


def test_the_seed_happens_once_into_local_modes_user(scanner, watchlist_file, make_app, caplog):
    local = local_user_id(scanner.database)
    assert scanner.watchlists.read(local).watchlist.symbols() == ["AAPL", "KO"]
    entry_id = scanner.watchlists.read(local).ids["KO"]
    scanner.watchlists.remove(local, entry_id)
    url = scanner.settings["DATABASE_URL"]
    changed = watchlist_file(SEEDED + '\n[[tickers]]\nsymbol = "NVDA"\n')
    with caplog.at_level(logging.WARNING):
        again = make_app(DATABASE_URL=url, WATCHLIST_FILE=changed).extensions["put_scanner"]
    assert again.watchlists.read(local).watchlist.symbols() == ["AAPL"]  # not seeded again
    assert f"{changed.name} changed since it was imported" in caplog.text


def test_the_seed_goes_to_the_first_admin_never_a_member(
    make_app, database_url, watchlist_file, caplog
):
    path = watchlist_file(SEEDED)
    first = make_app(DATABASE_URL=database_url, WATCHLIST_FILE=path).extensions["put_scanner"]
    engine = first.database
    # the database empty again, with a member and an admin: production's case
    with Session(engine) as session, session.begin():
        session.execute(delete(WatchlistRow))
        session.execute(delete(AppFact))
        session.execute(delete(User))
    assert seed_once(engine, Path(path), local_mode=False) is None  # no admin yet
    assert "no admin yet" in caplog.text
    member = make_user(engine, "mia")
    admin = make_user(engine, "ada", role="admin")
    owner = seed_once(engine, Path(path), local_mode=False)
    assert owner is not None and owner.id == admin
    assert first.watchlists.read(member).watchlist.symbols() == []
    assert first.watchlists.read(admin).watchlist.symbols() == ["AAPL", "KO"]


def test_the_universe_is_copied_to_redis_and_read_from_it_when_the_database_is_down(
    scanner, redis_client, monkeypatch
):
    alice = make_user(scanner.database, "alice")
    scanner.watchlists.add_symbols(alice, ["NVDA"])
    stored = json.loads(redis_client.get(scanner.store.keys.universe))
    assert {holding["symbol"] for holding in stored} == {"AAPL", "KO", "NVDA"}
    members = redis_client.zrange(scanner.store.keys.user_symbols(alice), 0, -1)
    assert members == [b"NVDA"]
    scanner.database.dispose()
    monkeypatch.setattr(scanner.watchlists, "engine", _dead_engine())
    assert scanner.engine().symbols == ["AAPL", "KO", "NVDA"]


def _dead_engine():
    """An engine on a PostgreSQL port where nothing listens: a database that is down."""
    return create_engine(
        f"postgresql://postgres@127.0.0.1:{free_port()}/none", connect_args={"connect_timeout": 2}
    )


def test_the_admin_an_upgrade_makes_gets_the_seed_at_the_same_start(
    make_app, database_url, watchlist_file
):
    app = make_app(DATABASE_URL=database_url, WATCHLIST_FILE=watchlist_file(SEEDED), **PRODUCTION)
    scanner = app.extensions["put_scanner"]
    with Session(scanner.database) as session:
        admin = session.scalar(select(User.id).where(User.username == ADMIN))
    assert scanner.watchlists.read(admin).watchlist.symbols() == ["AAPL", "KO"]
