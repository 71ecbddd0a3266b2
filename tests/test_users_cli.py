"""``flask users ...`` on SQLite and PostgreSQL: each command, its messages and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner_app import create_app
from scanner_app.accounts.users import UsersStore
from scanner_app.scan.parts import APP_EXTENSION
from scanner_app.users_cli import (
    EXIT_BAD_INPUT,
    EXIT_LAST_ADMIN,
    EXIT_OK,
    EXIT_TAKEN,
    EXIT_UNAVAILABLE,
    EXIT_UNKNOWN,
)

ROOT = Path(__file__).resolve().parent.parent
GOOD = "a good long password"
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def cli_app(app_config, database_url, redis_client):
    """An app on an empty database (SQLite, then PostgreSQL)."""
    return create_app({**app_config, "DATABASE_URL": database_url})


def users(app, *args: str, input: str | None = None):
    """Run ``flask users ARGS`` against ``app``; the click result."""
    return app.test_cli_runner().invoke(args=["users", *args], input=input)


def store_of(app) -> UsersStore:
    """The users store of ``app``."""
    return UsersStore(app.extensions[APP_EXTENSION].database)


def test_create_from_standard_input_then_list(cli_app):
    created = users(cli_app, "create", "Alice", "--admin", "--password-stdin", input=GOOD + "\n")
    member = users(cli_app, "create", "bob", "--password-stdin", input=GOOD + "\r\n")

    assert created.exit_code == EXIT_OK, created.output
    assert created.output == "Created admin alice.\n"
    assert member.exit_code == EXIT_OK and member.output == "Created member bob.\n"
    listed = users(cli_app, "list")
    assert listed.exit_code == EXIT_OK
    lines = listed.output.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["alice", "admin", "enabled"],
        ["bob", "member", "enabled"],
    ]
    assert all("last login never" in line for line in lines)
    assert "scrypt" not in listed.output
    assert store_of(cli_app).authenticate("bob", GOOD) is not None


def test_create_asks_twice_without_echo(cli_app):
    result = users(cli_app, "create", "carol", input=f"{GOOD}\nother entry here\n{GOOD}\n{GOOD}\n")

    assert result.exit_code == EXIT_OK, result.output
    assert "do not match" in result.output
    assert GOOD not in result.output
    assert store_of(cli_app).authenticate("carol", GOOD) is not None


def test_a_taken_name_exits_3(cli_app):
    users(cli_app, "create", "dave", "--password-stdin", input=GOOD)

    result = users(cli_app, "create", "DAVE", "--password-stdin", input=GOOD)

    assert result.exit_code == EXIT_TAKEN
    assert "Error: A user named dave exists already." in result.output


@pytest.mark.parametrize(
    ("password", "message"),
    [("\n", "The password is empty."), ("too short\n", "at least 12 characters")],
)
def test_an_empty_or_short_password_exits_5(cli_app, password, message):
    result = users(cli_app, "create", "erin", "--password-stdin", input=password)

    assert result.exit_code == EXIT_BAD_INPUT
    assert message in result.output
    assert store_of(cli_app).count() == 0


def test_a_bad_name_exits_5(cli_app):
    result = users(cli_app, "create", "no spaces please", "--password-stdin", input=GOOD)

    assert result.exit_code == EXIT_BAD_INPUT
    assert "A username has 1 to 64 characters" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["set-password", "nobody", "--password-stdin"],
        ["disable", "nobody"],
        ["enable", "nobody"],
        ["delete", "nobody"],
    ],
)
def test_an_unknown_user_exits_4(cli_app, command):
    result = users(cli_app, *command, input=GOOD)

    assert result.exit_code == EXIT_UNKNOWN
    assert "Error: No user is named 'nobody'." in result.output


def test_set_password_disable_enable_delete(cli_app):
    users(cli_app, "create", "frank", "--admin", "--password-stdin", input=GOOD)
    users(cli_app, "create", "grace", "--password-stdin", input=GOOD)
    store = store_of(cli_app)

    changed = users(cli_app, "set-password", "grace", "--password-stdin", input="brand new secret")
    assert changed.exit_code == EXIT_OK and "their sessions ended" in changed.output
    assert store.authenticate("grace", "brand new secret") is not None

    assert users(cli_app, "disable", "grace").exit_code == EXIT_OK
    assert store.find("grace").disabled
    assert store.authenticate("grace", "brand new secret") is None
    assert users(cli_app, "enable", "grace").output == "Enabled grace.\n"
    assert not store.find("grace").disabled

    assert users(cli_app, "delete", "grace").output == "Deleted grace.\n"
    assert [account.username for account in store.all()] == ["frank"]


def test_a_short_new_password_changes_nothing(cli_app):
    users(cli_app, "create", "heidi", "--password-stdin", input=GOOD)

    result = users(cli_app, "set-password", "heidi", "--password-stdin", input="short")

    assert result.exit_code == EXIT_BAD_INPUT
    assert store_of(cli_app).authenticate("heidi", GOOD) is not None


def test_the_last_admin_cannot_be_disabled_or_deleted(cli_app):
    users(cli_app, "create", "ivan", "--admin", "--password-stdin", input=GOOD)

    for command in ("disable", "delete"):
        result = users(cli_app, command, "ivan")
        assert result.exit_code == EXIT_LAST_ADMIN
        assert "ivan is the only enabled admin" in result.output
    assert not store_of(cli_app).find("ivan").disabled


def test_list_without_users_says_how_to_create_the_first_admin(cli_app):
    result = users(cli_app, "list")

    assert result.exit_code == EXIT_OK
    assert "flask --app wsgi users create NAME --admin" in result.output


def test_redis_down_disables_nobody(app_config, database_url, redis_client):
    app = create_app({**app_config, "DATABASE_URL": database_url})
    users(app, "create", "judy", "--password-stdin", input=GOOD)
    down = create_app({**app_config, "DATABASE_URL": database_url, "REDIS_URL": DEAD_REDIS})

    result = users(down, "disable", "judy")

    assert result.exit_code == EXIT_UNAVAILABLE
    assert "Nothing changed: Redis did not answer" in result.output
    assert not store_of(app).find("judy").disabled


def test_the_database_down_exits_1(app_config, redis_client):
    app = create_app({**app_config, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})

    for command in (["list"], ["create", "kim", "--password-stdin"], ["disable", "kim"]):
        result = users(app, *command, input=GOOD)
        assert result.exit_code == EXIT_UNAVAILABLE, result.output
        assert "Error: Nothing changed: the database did not answer" in result.output


def test_the_commands_run_from_the_shell(tmp_path, redis_url):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'users.db'}",
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": "users-cli-test:",
        "PYTHONPATH": str(ROOT),
    }

    def flask(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "users", *args]
        return subprocess.run(
            command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=60
        )

    created = flask("create", "leo", "--admin", "--password-stdin", stdin=GOOD + "\n")
    taken = flask("create", "leo", "--password-stdin", stdin=GOOD + "\n")
    unknown = flask("disable", "nobody")

    assert created.returncode == EXIT_OK, created.stderr
    assert (taken.returncode, unknown.returncode) == (EXIT_TAKEN, EXIT_UNKNOWN)
    assert "exists already" in taken.stderr and "No user is named" in unknown.stderr
    assert flask("list").stdout.split()[:3] == ["leo", "admin", "enabled"]
