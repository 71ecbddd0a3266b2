"""/healthz on redis-servers of its own: Redis answers, and keeps what it is given."""

from __future__ import annotations

import pytest
import redis

from scanner_app import create_app
from scanner_app.redis_door.policy import CACHE_SECONDS, MaxmemoryPolicy

DOWN_REDIS_URL = "redis://127.0.0.1:1/0"


def _health(app_config: dict, url: str) -> tuple[int, dict]:
    """The status and body of /healthz, without its memory figures (tested on their own)."""
    response = create_app({**app_config, "REDIS_URL": url}).test_client().get("/healthz")
    body = response.get_json()
    body.pop("memory", None)
    return response.status_code, body


def test_noeviction_is_ok(app_config, start_redis):
    url = start_redis("--maxmemory-policy", "noeviction")
    expected = {"status": "ok", "redis": True, "maxmemory_policy": "noeviction", "workers": None}
    expected["database"] = "ok"
    assert _health(app_config, url) == (200, expected)


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-ttl", "volatile-lru"])
def test_a_policy_that_evicts_is_degraded(app_config, start_redis, policy):
    url = start_redis("--maxmemory-policy", policy)
    expected = {"status": "degraded", "redis": True, "maxmemory_policy": policy, "workers": None}
    expected["database"] = "ok"
    assert _health(app_config, url) == (200, expected)


def test_a_redis_that_refuses_config_has_an_unknown_policy_and_is_ok(app_config, start_redis):
    url = start_redis("--maxmemory-policy", "allkeys-lru", "--rename-command", "CONFIG", "")
    expected = {"status": "ok", "redis": True, "maxmemory_policy": "unknown", "workers": None}
    expected["database"] = "ok"
    assert _health(app_config, url) == (200, expected)


def test_redis_down_is_503(app_config):
    expected = {"status": "unavailable", "redis": False, "database": "ok"}
    assert _health(app_config, DOWN_REDIS_URL) == (503, expected)


def test_a_database_that_is_down_is_reported_and_degraded(app_config, start_redis):
    config = {**app_config, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    status, body = _health(config, start_redis("--maxmemory-policy", "noeviction"))
    assert status == 200 and body["database"] == "down" and body["status"] == "degraded"


def test_most_checks_are_one_ping(app_config, start_redis):
    url = start_redis()
    client = create_app({**app_config, "REDIS_URL": url}).test_client()
    for _ in range(3):
        assert client.get("/healthz").get_json()["status"] == "ok"
    stats = redis.Redis.from_url(url).info("commandstats")
    assert sum(v["calls"] for k, v in stats.items() if k.startswith("cmdstat_config")) == 1
    assert stats["cmdstat_ping"]["calls"] >= 3


def test_the_policy_is_asked_again_after_a_minute(start_redis):
    client = redis.Redis.from_url(start_redis())
    now = [1000.0]
    policy = MaxmemoryPolicy(client, clock=lambda: now[0])
    assert policy.read() == "noeviction"

    client.config_set("maxmemory-policy", "allkeys-lru")
    now[0] += CACHE_SECONDS - 1
    assert policy.read() == "noeviction"
    now[0] += 1
    assert policy.read() == "allkeys-lru"


def test_memory_is_reported_against_maxmemory(app_config, start_redis):
    url = start_redis("--maxmemory", "64mb")
    app = create_app({**app_config, "REDIS_URL": url})
    memory = app.test_client().get("/healthz").get_json()["memory"]
    used = redis.Redis.from_url(url).info("memory")["used_memory"]
    assert memory["maxmemory_bytes"] == 64 * 2**20
    assert abs(memory["used_bytes"] - used) < 200_000
    assert memory["percent"] == pytest.approx(100 * memory["used_bytes"] / 2**26, abs=0.1)


def test_without_maxmemory_the_percentage_is_null(app_config, start_redis):
    body = create_app({**app_config, "REDIS_URL": start_redis()}).test_client().get("/healthz")
    assert body.get_json()["memory"]["maxmemory_bytes"] is None
    assert body.get_json()["memory"]["percent"] is None


def test_ninety_percent_full_is_degraded_and_the_page_warns_before_a_scan(app_config, start_redis):
    url = start_redis()
    client = redis.Redis.from_url(url)
    # so that the app's own connections weigh little; made on the server, since a 20 MB SET
    # swells used_memory with its query buffer until Redis frees it a moment later
    client.setrange("ballast", 20_000_000 - 1, "x")
    used = client.info("memory")["used_memory"]
    client.config_set("maxmemory", int(used / 0.93))
    app = create_app({**app_config, "REDIS_URL": url})
    body = app.test_client().get("/healthz").get_json()
    assert body["status"] == "degraded" and 90 <= body["memory"]["percent"] < 100
    page = app.test_client().get("/").get_data(as_text=True)
    assert "Redis is at 9" in page and "% of its maxmemory" in page
    client.config_set("maxmemory", used * 4)
    roomy = create_app({**app_config, "REDIS_URL": url}).test_client()
    assert roomy.get("/healthz").get_json()["status"] == "ok"
    assert "of its maxmemory" not in roomy.get("/").get_data(as_text=True)
