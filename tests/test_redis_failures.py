"""Redis failures worded plainly: never Redis's own text."""

from __future__ import annotations

import pytest
from redis import exceptions

from scanner_app.redis_door import describe_error, redis_error_text
from scanner_app.redis_door import failures as words

RAW_OOM = "command not allowed when used memory > 'maxmemory'."
PIPELINE = "Command # 1 (HGET k AAPL) of pipeline caused error: "

CASES = [
    (exceptions.OutOfMemoryError, RAW_OOM, words.OUT_OF_MEMORY),
    (
        exceptions.ResponseError,
        f"OOM {RAW_OOM} script: 1f0c, on @user_script:1.",
        words.OUT_OF_MEMORY,
    ),
    (
        exceptions.ConnectionError,
        "Error 111 connecting to 10.0.0.5:6379. Refused.",
        words.UNREACHABLE,
    ),
    (exceptions.TimeoutError, "Timeout reading from socket", words.TIMED_OUT),
    (exceptions.BusyLoadingError, "Redis is loading the dataset in memory", words.LOADING),
    (exceptions.ReadOnlyError, "You can't write against a read only replica.", words.READ_ONLY),
    (exceptions.AuthenticationError, "invalid username-password pair", words.REFUSED_LOGIN),
    (
        exceptions.NoPermissionError,
        "no permissions to run the 'evalsha' command",
        words.REFUSED_COMMAND,
    ),
    (
        exceptions.ResponseError,
        "MISCONF Redis is configured to save RDB snapshots",
        words.NOT_SAVING,
    ),
    (exceptions.ResponseError, PIPELINE + "WRONGTYPE Operation against a key", words.WRONG_TYPE),
    (exceptions.ResponseError, "BUSY Redis is busy running a script.", words.BUSY),
    (exceptions.ResponseError, "ERR unknown command 'CONFIG'", words.OTHER),
]


@pytest.mark.parametrize(("kind", "text", "plain"), CASES)
def test_redis_failures_are_worded_plainly(kind, text, plain):
    error = kind(text)
    assert redis_error_text(error) == describe_error(error) == plain
    assert text not in plain


def test_a_socket_error_under_redis_is_unreachable():
    assert redis_error_text(ConnectionResetError("Connection reset by peer")) == words.UNREACHABLE


def test_other_errors_keep_their_own_message():
    assert describe_error(RuntimeError("disk on fire")) == "disk on fire"
    assert describe_error(OSError("no such file")) == "no such file"
