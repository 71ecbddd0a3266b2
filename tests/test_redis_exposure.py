"""The warning at start for a Redis that anyone can use, on real servers."""

from __future__ import annotations

import logging

import pytest
import redis

from scanner_app.redis_door.exposure import answers_without_password, is_loopback, warn_if_open


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
