"""The warning at start for a Redis that anyone can use, on real servers."""

from __future__ import annotations

import logging

import pytest
import redis

from scanner_app.redis_door import exposure
from scanner_app.redis_door.exposure import (
    OPEN_REDIS_WARNING,
    answers_without_password,
    is_loopback,
    warn_if_open,
)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"])
def test_loopback_names(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["redis.internal", "10.0.0.5", "192.168.1.4", "::ffff:a00:5"])
def test_other_addresses_are_not_loopback(host):
    assert not is_loopback(host)


def test_a_redis_without_a_password_answers_anyone(start_redis):
    assert answers_without_password(start_redis())


def test_a_redis_with_a_password_does_not(start_redis):
    url = start_redis()
    redis.Redis.from_url(url).config_set("requirepass", "s3cret-pass")
    assert not answers_without_password(url)
    assert not answers_without_password(url.replace("redis://", "redis://:s3cret-pass@"))


def test_no_warning_on_the_loopback_even_without_a_password(start_redis, caplog):
    caplog.set_level(logging.WARNING)
    assert not warn_if_open(start_redis())
    assert not warn_if_open("unix:///run/redis.sock")
    assert caplog.records == []


def test_a_redis_off_the_loopback_without_a_password_is_warned_about(
    start_redis, make_app, monkeypatch, caplog
):
    """The server listens on the loopback; the check is told its address is not one."""
    monkeypatch.setattr(exposure, "is_loopback", lambda host: False)
    caplog.set_level(logging.WARNING, logger=exposure.__name__)
    url = start_redis()

    assert warn_if_open(url)
    [warning] = caplog.records
    assert warning.msg == OPEN_REDIS_WARNING and warning.args == (url.split("/")[2],)
    caplog.clear()
    make_app(REDIS_URL=url)
    assert [record.msg for record in caplog.records] == [OPEN_REDIS_WARNING]
    redis.Redis.from_url(url).config_set("requirepass", "s3cret-pass")
    caplog.clear()
    make_app(REDIS_URL=url.replace("redis://", "redis://:s3cret-pass@"))
    assert caplog.records == []
