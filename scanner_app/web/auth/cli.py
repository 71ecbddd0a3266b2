"""``flask hash-password``: the hash to put in SCANNER_PASSWORD_HASH."""

from __future__ import annotations

import click
from werkzeug.security import generate_password_hash

MIN_PASSWORD_LENGTH = 8


@click.command("hash-password")
def hash_password_command() -> None:
    """Print a hash of a password (asked twice, not echoed) for SCANNER_PASSWORD_HASH."""
    password = click.prompt(
        "Password", hide_input=True, confirmation_prompt=True, value_proc=_long_enough
    )
    click.echo(generate_password_hash(password))


def _long_enough(password: str) -> str:
    """``password`` when it has at least MIN_PASSWORD_LENGTH characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.UsageError(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    return password
