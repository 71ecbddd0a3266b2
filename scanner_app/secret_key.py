"""The secret key of local mode: made once, kept in the instance folder, shared by every worker.

Sessions and CSRF tokens are signed with the secret key, so every process of one app must
use the same key. With no ``SECRET_KEY`` set (local mode only), the first process to start
writes a random key to ``<instance folder>/secret_key`` (mode 0600) and every other process,
now or after a restart, reads that file.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from .config import ConfigError

FILE_NAME = "secret_key"
KEY_BYTES = 32


def shared_secret_key(instance_folder: str | os.PathLike[str]) -> str:
    """The key in ``instance_folder``, written there first if there is none yet.

    The file appears whole or not at all: the key is written to a private temporary file
    that is then hard-linked to its name, which fails when another process got there
    first (like ``O_EXCL``); that process's key is then read instead, so all agree.
    """
    folder = Path(instance_folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / FILE_NAME
    if not path.exists():
        _publish(path, secrets.token_hex(KEY_BYTES))
    return _read(path)


def _publish(path: Path, key: str) -> None:
    """Create ``path`` holding ``key`` (mode 0600) unless it exists already."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE_NAME}.")
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(key)
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)


def _read(path: Path) -> str:
    """The key stored at ``path``; ConfigError when the file holds no usable key."""
    key = path.read_text().strip()
    if len(key) < KEY_BYTES:
        raise ConfigError(
            f"{path} does not hold a secret key: delete it to make a new one, or set SECRET_KEY."
        )
    return key
