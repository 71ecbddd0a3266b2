"""``/watchlist``, ``/watchlist.toml`` and ``/api/watchlist``, and what each user sees on
the dashboard, the Calls tab, the drilldown, ``/api/options`` and the CSV: their own
tickers, calls, positions and cash; ``scope=all`` for every watched ticker's puts. Two real
users on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import event

from scanner_app.accounts.local_user import local_user_id

from .redis_server import free_port
from .watchlist_users import act_as, make_user

HX = {"HX-Request": "true"}
SEEDED = '[[tickers]]\nsymbol = "AAPL"\nfair_value = 150\n\n[[tickers]]\nsymbol = "KO"\n'


@pytest.fixture
def app(make_app, database_url, watchlist_file):
    """The app on a database of the test's own, seeded with AAPL and KO for local mode's
    user."""
    return make_app(DATABASE_URL=database_url, WATCHLIST_FILE=watchlist_file(SEEDED))


@pytest.fixture
def scanner(app):
    return app.extensions["put_scanner"]


@pytest.fixture
def local(scanner):
    return local_user_id(scanner.database)


def _rows(page: str) -> list[str]:
    """The symbols of the dashboard's ticker rows."""
    return re.findall(r'<tbody class="ticker-group" id="ticker-([A-Z.\-]+)"', page)


def test_the_page_lists_the_seeded_entries_with_an_add_field(client):
    page = client.get("/watchlist").text
    assert '<label for="add-tickers">Add tickers</label>' in page
    assert ">Add</button>" in page
    assert "AAPL" in page and "KO" in page
    assert page.count("waiting for the next scan") == 2  # no scan yet
    assert 'name="csrf_token"' in page


def test_add_tickers_takes_many_symbols_and_says_they_wait_for_a_scan(client, scanner, local):
    answer = client.post("/watchlist/add", data={"tickers": "msft, nvda\naapl"}, headers=HX)
    assert answer.status_code == 200
    assert "Added MSFT, NVDA." in answer.text and "1 already on the watchlist" in answer.text
    assert scanner.watchlists.read(local).watchlist.symbols() == ["AAPL", "KO", "MSFT", "NVDA"]
    dashboard = client.get("/").text
    assert "waiting for the next scan" in dashboard
    client.post("/scan", headers=HX)
    assert "waiting for the next scan" not in client.get("/").text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"fair_value": "-3"}, "fair_value must be a positive number, got -3"),
        ({"fair_value": "abc"}, "fair_value must be a positive number, got &#39;abc&#39;"),
        ({"shares": "1.5"}, "shares must be a whole number of 0 or more, got 1.5"),
        ({"shares": "-1"}, "shares must be a whole number of 0 or more, got -1"),
        ({"cost_basis": "10"}, "cost_basis needs shares (the number of shares held)"),
        ({"shares": "100", "cost_basis": "0"}, "cost_basis must be a positive number (per share)"),
        ({"eps_growth_rate": "500"}, "eps_growth_rate must be a number from -50 to 100, got 500"),
        ({"eps_multiple": "0"}, "eps_multiple must be a number from 1 to 200, got 0"),
        ({"fcf_growth_rate": "x"}, "fcf_growth_rate must be a number from -50 to 100"),
        ({"fcf_multiple": "999"}, "fcf_multiple must be a number from 1 to 200, got 999"),
        ({"desired_return": "0.5"}, "desired_return must be a number from 1 to 100, got 0.5"),
        ({"projection_years": "2.5"}, "projection_years must be a whole number from 1 to 30"),
        (
            {"preferred_method": "dcf"},
            "preferred_method must be one of eps, fcf, got &#39;dcf&#39;",
        ),
    ],
)
def test_each_bad_field_keeps_the_row_open_with_the_files_message(
    client, scanner, local, fields, message
):
    entry_id = scanner.watchlists.read(local).ids["KO"]
    answer = client.post(f"/watchlist/{entry_id}", data=fields, headers=HX)
    assert answer.status_code == 200
    assert f"Watchlist entry (KO): {message}" in answer.text
    assert 'name="fair_value"' in answer.text  # still the form
    assert scanner.watchlists.read(local).watchlist.fair_value("KO") is None  # unchanged
    plain = client.post(f"/watchlist/{entry_id}", data=fields)
    assert plain.status_code == 422 and message in plain.text


def test_a_bad_add_keeps_what_was_typed(client):
    answer = client.post("/watchlist/add", data={"tickers": "MSFT b@d"})
    assert answer.status_code == 422
    assert "Add tickers (&#39;b@d&#39;): invalid symbol" in answer.text
    assert "MSFT b@d</textarea>" in answer.text


def test_an_entry_is_edited_in_place_and_removed(client, scanner, local):
    entry_id = scanner.watchlists.read(local).ids["KO"]
    form = client.get(f"/watchlist/{entry_id}/edit", headers=HX).text
    assert form.startswith('<tr id="entry-') and 'name="shares"' in form
    saved = client.post(
        f"/watchlist/{entry_id}", data={"shares": "300", "cost_basis": "55"}, headers=HX
    )
    assert "Saved KO." in saved.text and 'name="shares"' not in saved.text
    position = scanner.watchlists.read(local).watchlist.positions()["KO"]
    assert (position.shares, position.cost_basis) == (300, 55)
    assert client.post(f"/watchlist/{entry_id}/delete", headers=HX).text == ""
    assert scanner.watchlists.read(local).watchlist.symbols() == ["AAPL"]


def test_every_route_with_an_entry_id_answers_404_for_another_users_entry(client, scanner, local):
    bob = make_user(scanner.database, "bob")
    scanner.watchlists.add_symbols(bob, ["TSLA"])
    theirs = scanner.watchlists.read(bob).ids["TSLA"]
    for method, url, data in [
        ("get", f"/watchlist/{theirs}", None),
        ("get", f"/watchlist/{theirs}/edit", None),
        ("post", f"/watchlist/{theirs}", {"fair_value": "1"}),
        ("post", f"/watchlist/{theirs}/delete", None),
    ]:
        answer = getattr(client, method)(url, data=data, headers=HX)
        assert answer.status_code == 404, url
    tsla = scanner.watchlists.read(bob).watchlist
    assert tsla.symbols() == ["TSLA"] and tsla.fair_value("TSLA") is None
    assert "TSLA" not in client.get("/watchlist").text


def test_forms_need_the_csrf_token(make_app, database_url, watchlist_file, scanner, local):
    app = make_app(
        DATABASE_URL=database_url, WATCHLIST_FILE=watchlist_file(SEEDED), WTF_CSRF_ENABLED=True
    )
    client = app.test_client()
    entry_id = scanner.watchlists.read(local).ids["KO"]
    for url in (
        "/watchlist/add",
        f"/watchlist/{entry_id}",
        f"/watchlist/{entry_id}/delete",
        "/watchlist/import",
        "/watchlist/cash",
        "/watchlist/import-file",
    ):
        assert client.post(url, data={"tickers": "X"}).status_code == 400, url
    assert scanner.watchlists.read(local).watchlist.symbols() == ["AAPL", "KO"]


def test_import_upload_of_toml_and_csv_and_a_bad_file_changes_nothing(client, scanner, local):
    def upload(name, text, replace=False):
        data = {"file": (io.BytesIO(text.encode()), name)}
        if replace:
            data["replace"] = "on"
        return client.post("/watchlist/import", data=data, content_type="multipart/form-data")

    bad = upload("mine.csv", "MSFT,,,\nNVDA,zero,,\n")
    assert bad.status_code == 422
    assert "Nothing imported: mine.csv: line 2 (NVDA): fair_value must be" in bad.text
    assert scanner.watchlists.read(local).watchlist.symbols() == ["AAPL", "KO"]
    assert upload("mine.csv", "MSFT,300,,\n").status_code == 303
    assert scanner.watchlists.read(local).watchlist.symbols() == ["AAPL", "KO", "MSFT"]
    done = upload("mine.toml", '[[tickers]]\nsymbol = "NVDA"\n', replace=True)
    assert "1 added, 0 updated, 3 removed" in done.headers["Location"].replace("+", " ")
    assert scanner.watchlists.read(local).watchlist.symbols() == ["NVDA"]


def test_the_export_and_the_api_give_the_users_entries(client, scanner, local):
    entry_id = scanner.watchlists.read(local).ids["KO"]
    client.post(f"/watchlist/{entry_id}", data={"shares": "200", "eps_multiple": "12"})
    exported = client.get("/watchlist.toml")
    assert exported.mimetype == "application/toml"
    assert exported.text.startswith('[[tickers]]\nsymbol = "AAPL"\nfair_value = 150.0\n')
    assert "shares = 200\neps_multiple = 12.0" in exported.text
    assert client.get("/api/watchlist").json == {
        "tickers": [
            {"symbol": "AAPL", "fair_value": 150.0, "shares": None, "cost_basis": None},
            {
                "symbol": "KO",
                "fair_value": None,
                "shares": 200,
                "cost_basis": None,
                "eps_multiple": 12.0,
            },
        ]
    }


def test_a_changed_watchlist_file_is_said_on_the_page_and_imported_on_request(
    make_app, database_url, watchlist_file, scanner, local
):
    changed = watchlist_file(SEEDED + '\n[[tickers]]\nsymbol = "NVDA"\n')
    client = make_app(DATABASE_URL=database_url, WATCHLIST_FILE=changed).test_client()
    page = client.get("/watchlist").text
    assert f"{changed.name} changed since it was imported: <button" in page
    assert ">Import it</button>" in page
    client.post("/watchlist/import-file")
    assert scanner.watchlists.read(local).watchlist.symbols() == ["AAPL", "KO", "NVDA"]
    assert "changed since it was imported" not in client.get("/watchlist").text


def test_a_database_that_is_down_gets_a_message_and_changes_nothing(
    make_app, watchlist_file, redis_client
):
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    client = make_app(DATABASE_URL=dead, WATCHLIST_FILE=watchlist_file(SEEDED)).test_client()
    for answer in (
        client.get("/watchlist"),
        client.post("/watchlist/add", data={"tickers": "MSFT"}),
        client.get("/watchlist.toml"),
    ):
        assert answer.status_code == 503
        assert "Nothing was changed; try again shortly." in answer.text
    api = client.get("/api/watchlist")
    assert api.status_code == 503 and "the database did not answer" in api.json["error"]
    assert client.get("/").status_code == 200


def test_each_user_sees_their_own_rows_and_scope_all_shows_everyones(client, app, scanner, local):
    bob = make_user(scanner.database, "bob")
    scanner.watchlists.add_symbols(bob, ["TSLA"])
    client.post("/scan", headers=HX)
    assert _rows(client.get("/").text) == ["AAPL", "KO"]
    assert sorted(_rows(client.get("/?scope=all").text)) == ["AAPL", "KO", "TSLA"]
    options = client.get("/api/options").json["options"]
    assert set(options) <= {"AAPL", "KO"} and options
    assert "TSLA" in client.get("/api/options?scope=all").json["options"]
    csv = client.get("/options.csv").text
    assert "TSLA" not in csv and ("AAPL" in csv or "KO" in csv)
    act_as(app, bob)
    assert _rows(client.get("/").text) == ["TSLA"]


def test_each_user_sees_the_calls_of_their_own_shares_and_basis(client, app, scanner, local):
    bob = make_user(scanner.database, "bob")
    scanner.watchlists.add_symbols(bob, ["AAPL"])
    mine = scanner.watchlists.read(local)
    client.post(f"/watchlist/{mine.ids['AAPL']}", data={"shares": "300", "cost_basis": "1"})
    bobs = scanner.watchlists.read(bob).ids["AAPL"]
    act_as(app, bob)
    client.post(f"/watchlist/{bobs}", data={"shares": "100", "cost_basis": "230"})
    act_as(app, local)
    client.post("/scan", headers=HX)
    local_calls = client.get("/api/options?side=call").json["options"]["AAPL"]
    assert {row["contracts"] for row in local_calls} == {3}
    act_as(app, bob)
    bob_calls = client.get("/api/options?side=call").json["options"].get("AAPL", [])
    assert all(row["contracts"] == 1 and row["strike"] >= 230 for row in bob_calls)
    assert 0 < len(bob_calls) < len(local_calls)
    act_as(app, local)
    assert "AAPL" in client.get("/calls").text
    act_as(app, make_user(scanner.database, "carol"))
    assert client.get("/api/options?side=call").json["options"] == {}


def test_cash_is_per_user_with_cash_available_as_the_default(
    make_app, database_url, watchlist_file, redis_client
):
    app = make_app(
        DATABASE_URL=database_url, WATCHLIST_FILE=watchlist_file(SEEDED), CASH_AVAILABLE=20_000
    )
    client = app.test_client()
    assert "sized with $20,000 of cash" in client.get("/").text
    assert client.post("/watchlist/cash", data={"cash": "abc"}).status_code == 422
    client.post("/watchlist/cash", data={"cash": "5000"})
    assert "sized with $5,000 of cash" in client.get("/").text
    bob = make_user(app.extensions["put_scanner"].database, "bob")
    act_as(app, bob)
    assert "sized with $20,000 of cash" in client.get("/").text


def test_an_empty_universe_scans_0_tickers_and_says_the_watchlists_are_empty(
    client, app, scanner, local
):
    for entry_id in scanner.watchlists.read(local).ids.values():
        client.post(f"/watchlist/{entry_id}/delete")
    result = app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    assert "0 tickers: the watchlists are empty" in result.output
    assert "the watchlists are empty" in client.get("/").text
    assert client.get("/api/scan").json["last_run_facts"]["tickers"] == 0


def test_the_unchanged_status_poll_makes_no_database_query(client, scanner):
    client.post("/scan", headers=HX)
    client.get("/")
    version = scanner.store.read_pulse()[0].version
    at = int(scanner.clock().timestamp())
    statements = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(scanner.database, "before_cursor_execute", count)
    try:
        answer = client.get(f"/scan/status?v={version}&at={at}", headers=HX)
    finally:
        event.remove(scanner.database, "before_cursor_execute", count)
    assert answer.status_code == 204
    assert statements == []


@pytest.mark.parametrize("view", ["/", "/?sort=value", "/?min_annualized=1"])
def test_a_users_views_count_only_their_own_tickers(client, scanner, local, view):
    bob = make_user(scanner.database, "bob")
    scanner.watchlists.add_symbols(bob, ["ZZNOPE", "TSLA"])
    client.post("/scan", headers=HX)
    everyone = client.get(view + ("&" if "?" in view else "?") + "scope=all").text
    mine = client.get(view).text
    assert "TSLA" in everyone and "TSLA" not in mine
    assert set(_rows(mine)) <= {"AAPL", "KO"}
