"""The local-mode secret key: made once in the instance folder, the same for every process."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from scanner_app.config import ConfigError
from scanner_app.secret_key import shared_secret_key


def test_the_key_is_made_once_with_mode_0600(tmp_path):
    folder = tmp_path / "instance"

    key = shared_secret_key(folder)

    path = folder / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == key and len(key) == 64
    assert shared_secret_key(folder) == key
    assert [entry.name for entry in folder.iterdir()] == ["secret_key"]


def test_processes_starting_together_agree_on_one_key(tmp_path):
    with ThreadPoolExecutor(16) as pool:
        keys = set(pool.map(lambda _: shared_secret_key(tmp_path), range(64)))

    assert len(keys) == 1


def test_a_file_without_a_key_is_an_error_naming_it(tmp_path):
    (tmp_path / "secret_key").write_text("\n")

    with pytest.raises(ConfigError, match="secret_key does not hold a secret key"):
        shared_secret_key(tmp_path)
