"""``flask watchlist import`` and ``export``: whose watchlist, the files, their errors and
exit codes, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from scanner_app.accounts.local_user import local_user_id

from .watchlist_users import make_user

SEEDED = '[[tickers]]\nsymbol = "AAPL"\nfair_value = 150\n\n[[tickers]]\nsymbol = "KO"\n'


@pytest.fixture
def app(make_app, database_url, watchlist_file):
    return make_app(DATABASE_URL=database_url, WATCHLIST_FILE=watchlist_file(SEEDED))


@pytest.fixture
def scanner(app):
    return app.extensions["put_scanner"]


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_export_writes_local_modes_watchlist_as_toml(runner):
    result = runner.invoke(args=["watchlist", "export"])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == '[[tickers]]\nsymbol = "AAPL"\nfair_value = 150.0\n\n[[tickers]]\nsymbol = "KO"\n'
    )
    assert "Watchlist of local (local mode's user; --user NAME for another)." in result.stderr


def test_import_adds_and_updates_for_a_named_user(runner, scanner, tmp_path):
    bob = make_user(scanner.database, "bob")
    path = tmp_path / "bob.csv"
    path.write_text("symbol,fair_value,shares,cost_basis\nTSLA,,300,200\n")
    result = runner.invoke(args=["watchlist", "import", str(path), "--user", "bob"])
    assert result.exit_code == 0, result.output
    assert "imported into bob's watchlist: 1 added, 0 updated, 0 removed." in result.output
    assert scanner.watchlists.read(bob).watchlist.positions()["TSLA"].shares == 300
    exported = runner.invoke(args=["watchlist", "export", "--user", "bob"])
    assert 'symbol = "TSLA"\nshares = 300\ncost_basis = 200.0' in exported.stdout


def test_import_replace_makes_the_list_exactly_the_file(runner, scanner, tmp_path):
    path = tmp_path / "only.toml"
    path.write_text('[[tickers]]\nsymbol = "NVDA"\n')
    result = runner.invoke(args=["watchlist", "import", str(path), "--replace"])
    assert result.exit_code == 0, result.output
    assert "1 added, 0 updated, 2 removed" in result.output
    local = local_user_id(scanner.database)
    assert scanner.watchlists.read(local).watchlist.symbols() == ["NVDA"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "bad.toml",
            '[[tickers]]\nsymbol = "AAPL"\n\n[[tickers]]\nsymbol = "KO"\nshares = -5\n',
            "bad.toml: line 4: entry 2 (KO): shares must be a whole number of 0 or more, got -5",
        ),
        ("bad.csv", "MSFT,,,\nNVDA,,abc,\n", "bad.csv: line 2 (NVDA): shares must be a whole"),
    ],
)
def test_a_bad_file_imports_nothing_and_exits_1(runner, scanner, tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    result = runner.invoke(args=["watchlist", "import", str(path)])
    assert result.exit_code == 1
    assert "Error: nothing imported:" in result.stderr and message in result.stderr
    local = local_user_id(scanner.database)
    assert scanner.watchlists.read(local).watchlist.symbols() == ["AAPL", "KO"]


def test_an_unknown_user_or_a_missing_file_exits_1(runner, tmp_path):
    path = tmp_path / "w.toml"
    path.write_text('[[tickers]]\nsymbol = "AAPL"\n')
    unknown = runner.invoke(args=["watchlist", "import", str(path), "--user", "nobody"])
    assert unknown.exit_code == 1 and "Error: no user named 'nobody'" in unknown.stderr
    assert runner.invoke(args=["watchlist", "export", "--user", "nobody"]).exit_code == 1
    missing = runner.invoke(args=["watchlist", "import", str(tmp_path / "none.toml")])
    assert missing.exit_code == 1 and "cannot read it" in missing.stderr


def test_without_user_in_production_the_first_admin_is_meant(
    make_app, database_url, watchlist_file
):
    app = make_app(
        DATABASE_URL=database_url,
        WATCHLIST_FILE=watchlist_file(SEEDED),
        SCANNER_ENV="production",
        SCANNER_PASSWORD_HASH="x",
    )
    runner = app.test_cli_runner()
    engine = app.extensions["put_scanner"].database
    make_user(engine, "mia")
    make_user(engine, "ada", role="admin")
    result = runner.invoke(args=["watchlist", "export"])
    assert result.exit_code == 0, result.output
    assert "Watchlist of ada (the first admin; --user NAME for another)." in result.stderr
