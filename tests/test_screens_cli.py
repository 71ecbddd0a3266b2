"""``flask screens add|list|delete``: saved screens from scripts, with clear errors and
exit codes."""

from __future__ import annotations

import uuid

import pytest

from scanner_app.screens.query import parse_filters

from .production import PRODUCTION
from .screens_data import add_user, forget_screens, no_screens_left  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("no_screens_left")


@pytest.fixture
def cli(make_app):
    """Run ``flask ...`` against a local app with no saved screens."""
    app = make_app()
    forget_screens(app.extensions["put_scanner"].database)
    runner = app.test_cli_runner()
    return app, lambda *args: runner.invoke(args=list(args))


def test_add_list_delete(cli):
    _app, run = cli
    added = run("screens", "add", "Weekly income", "--query", "min_annualized=40&max_dte=21",
                "--shared", "--alert", "json://127.0.0.1:9/s3cret-hook")  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = run("screens", "list")
    assert listed.exit_code == 0
    assert "Weekly income\tputs\tmin_annualized=40&max_dte=21\tshared" in listed.output
    assert "1 alert target(s)" in listed.output and "s3cret" not in listed.output
    assert run("screens", "delete", "Weekly income").exit_code == 0
    assert "No saved screens." in run("screens", "list").output


def test_errors_and_exit_codes(cli):
    app, run = cli
    assert run("screens", "add", "Twice").exit_code == 0
    twice = run("screens", "add", "Twice")
    assert twice.exit_code == 1 and "already have a screen called “Twice”" in twice.output
    bad = run("screens", "add", "Bad", "--query", "max_dte=lots")
    [message] = parse_filters({"max_dte": "lots"})[1]
    assert bad.exit_code == 1 and message in bad.output
    target = run("screens", "add", "T", "--alert", "not a url")
    assert target.exit_code == 1 and "Target 1 is not an alert URL" in target.output
    nobody = run("screens", "add", "X", "--user", "nobody")
    assert nobody.exit_code == 2 and "no user called “nobody”" in nobody.output
    assert run("screens", "delete", "Never saved").exit_code == 2


def test_production_needs_an_owner_and_a_member_cannot_reach_inside(make_app):
    app = make_app(**PRODUCTION)
    forget_screens(app.extensions["put_scanner"].database)
    runner = app.test_cli_runner()
    member_name = f"member-{uuid.uuid4().hex[:8]}"
    add_user(app.extensions["put_scanner"].database, name=member_name)

    unowned = runner.invoke(args=["screens", "add", "S"])
    assert unowned.exit_code == 1 and "--user NAME" in unowned.output
    inside = runner.invoke(
        args=["screens", "add", "S", "--user", member_name, "--alert", "json://127.0.0.1/x"]
    )
    assert inside.exit_code == 1 and "only an admin may add it" in inside.output
    assert runner.invoke(args=["screens", "add", "S", "--user", member_name]).exit_code == 0
