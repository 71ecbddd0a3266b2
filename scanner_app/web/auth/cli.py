"""``flask hash-password``: a password hash for SCANNER_PASSWORD_HASH (the upgrade path: the
first start with no users makes it the password of the user ``admin``)."""

from __future__ import annotations

import click

from ...accounts.account_errors import BadPassword
from ...accounts.passwords import checked_password, hash_password


@click.command("hash-password")
def hash_password_command() -> None:
    """Print a hash of a password (asked twice, not echoed) for SCANNER_PASSWORD_HASH."""
    password = click.prompt(
        "Password", hide_input=True, confirmation_prompt=True, value_proc=_follows_rules
    )
    click.echo(hash_password(password))


def _follows_rules(password: str) -> str:
    """``password`` when it follows the password rules (asked again otherwise)."""
    try:
        return checked_password(password)
    except BadPassword as error:
        raise click.UsageError(str(error)) from None
