"""``flask history import`` and ``export``: validation as a whole, upserts, a round trip."""

from __future__ import annotations

from datetime import date

import pytest

from scanner_app import create_app
from scanner_app.db import StoredDay


@pytest.fixture
def cli_app(app_config, database_url):
    return create_app({**app_config, "DATABASE_URL": database_url})


def _history(app):
    return app.extensions["put_scanner"].history


def test_an_import_upserts_and_importing_twice_changes_nothing(cli_app, tmp_path):
    path = tmp_path / "iv.csv"
    path.write_text(
        "date,symbol,iv30,close\n2026-11-17,aapl,0.2512345678901,229.5\n2026-11-18,AAPL,0.26,\n"
    )
    runner = cli_app.test_cli_runner()
    first = runner.invoke(args=["history", "import", str(path)])
    assert first.exit_code == 0, first.output
    assert "Imported 2 days of 1 symbol(s)" in first.output
    stored = _history(cli_app).days("AAPL")
    assert runner.invoke(args=["history", "import", str(path)]).exit_code == 0
    assert (
        _history(cli_app).days("AAPL")
        == stored
        == [
            StoredDay("AAPL", date(2026, 11, 17), 229.5, 0.2512345678901),
            StoredDay("AAPL", date(2026, 11, 18), None, 0.26),
        ]
    )


def test_a_bad_file_imports_nothing_and_lists_its_first_20_bad_lines(cli_app, tmp_path):
    lines = ["date,symbol,iv30", "2026-11-17,AAPL,0.25"]
    lines += [f"2026-11-{day:02d},AAPL,abc" for day in range(1, 24)]
    lines += ["2026-13-01,KO,0.2", "2026-11-17,AAPL,0.3", "2026-11-16,$$,7", "2026-11-16,KO"]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")

    result = cli_app.test_cli_runner().invoke(args=["history", "import", str(path)])

    assert result.exit_code == 1
    assert "nothing imported; 27 bad line(s)" in result.output
    assert "line 3: iv30 'abc' is not a number from 0.001 to 5" in result.output
    assert "line 22:" in result.output and "line 23:" not in result.output
    assert "... and 7 more" in result.output
    assert _history(cli_app).days("AAPL") == []


def test_the_header_and_the_duplicates_are_checked(cli_app, tmp_path):
    runner = cli_app.test_cli_runner()
    path = tmp_path / "iv.csv"
    path.write_text("day,symbol,iv\n2026-11-17,AAPL,0.2\n")
    result = runner.invoke(args=["history", "import", str(path)])
    assert result.exit_code == 1 and "line 1: the header must be date,symbol,iv30" in result.output

    path.write_text("date,symbol,iv30\n2026-11-17,AAPL,0.2\n2026-11-17,aapl,0.3\n2026-13-1,K$,9\n")
    result = runner.invoke(args=["history", "import", str(path)])
    assert "line 3: AAPL 2026-11-17 already on line 2" in result.output
    assert "line 4: date '2026-13-1' is not a date" in result.output
    assert "symbol 'K$' is not a ticker symbol" in result.output
    assert runner.invoke(args=["history", "import", str(tmp_path / "none.csv")]).exit_code == 1


def test_export_then_import_is_a_round_trip(cli_app, app_config, tmp_path, database_url):
    days = [
        StoredDay("KO", date(2026, 11, 16), 62.125, 0.1812345678912345, 0.15),
        StoredDay("KO", date(2026, 11, 17), None, 0.19),
        StoredDay("KO", date(2026, 11, 18), 63.0, None),  # no IV30: not exported
    ]
    _history(cli_app).save_days(days)
    exported = cli_app.test_cli_runner().invoke(args=["history", "export", "ko"])
    assert exported.exit_code == 0
    assert exported.output.splitlines() == [
        "date,symbol,iv30,close",
        "2026-11-16,KO,0.1812345678912345,62.125",
        "2026-11-17,KO,0.19,",
    ]
    path = tmp_path / "ko.csv"
    path.write_text(exported.output)
    assert cli_app.test_cli_runner().invoke(args=["history", "import", str(path)]).exit_code == 0
    assert _history(cli_app).days("KO") == days  # the hv20 and the close-only day stay


def test_export_of_a_symbol_without_history_fails(cli_app):
    result = cli_app.test_cli_runner().invoke(args=["history", "export", "ZZZZ"])
    assert result.exit_code == 1 and "no IV history is stored for ZZZZ" in result.output
