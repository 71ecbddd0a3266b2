"""Login throttling: password checks per client address and failures per username, counted
in Redis, then 429 -- never for the right password from an address with no recent failure."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from werkzeug.security import generate_password_hash

from scanner_app import create_app
from scanner_app.config import ConfigError
from tests.accounts import create_user, log_in_as
from tests.production import PASSWORD, PRODUCTION, log_in

from . import test_gunicorn
from .test_gunicorn import TOKEN, Server, request

ATTACKER = "198.51.100.7"
OWNER = "203.0.113.20"
THROTTLED = "Too many login attempts from your address"
USER_THROTTLED = "Too many failed logins for this username"
#: Addresses that each fail once, spreading an attack on one name.
SPREAD = [f"192.0.2.{n}" for n in range(1, 8)]


@pytest.fixture
def client(make_app):
    """A client of a production app with the default limits (5/minute;50/day)."""
    return make_app(**PRODUCTION).test_client()


def guess(client, times: int, address: str = ATTACKER) -> list[int]:
    """The statuses of ``times`` wrong passwords from ``address``."""
    return [log_in(client, "guess", address).status_code for _ in range(times)]


def test_the_sixth_wrong_password_in_a_minute_gets_429_with_retry_after(client):
    assert guess(client, 5) == [401] * 5

    response = log_in(client, "guess", ATTACKER)

    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    html = response.get_data(as_text=True)
    assert THROTTLED in html and 'type="password"' in html
    assert log_in(client, PASSWORD, ATTACKER).status_code == 429


def test_a_right_password_from_another_address_still_works(client):
    guess(client, 6)

    response = log_in(client, PASSWORD, OWNER)

    assert response.status_code == 302
    assert client.get("/api/scan").status_code == 200


def test_every_checked_password_counts_a_right_one_too(client):
    for _ in range(2):
        assert log_in(client, PASSWORD, ATTACKER).status_code == 302
        client.post("/logout")

    assert guess(client, 4) == [401, 401, 401, 429]


def test_a_throttled_login_is_not_checked_even_with_the_right_password(client):
    guess(client, 5)

    assert log_in(client, PASSWORD, ATTACKER).status_code == 429
    assert client.get("/api/scan").status_code == 401


def test_failures_spread_over_addresses_throttle_the_username_for_those_addresses(client):
    create_user(client.application, "alice", role="member")
    assert [log_in_as(client, "alice", "guess", a).status_code for a in SPREAD[:5]] == [401] * 5

    refused = log_in_as(client, "alice", PASSWORD, SPREAD[0])

    assert refused.status_code == 429
    assert USER_THROTTLED in refused.get_data(as_text=True)
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert log_in_as(client, "ALICE ", "guess", SPREAD[1]).status_code == 429
    assert log_in_as(client, "bob", "guess", SPREAD[0]).status_code == 401  # other names go on


def test_the_username_count_never_refuses_the_right_password_from_a_clean_address(client):
    create_user(client.application, "alice", role="member")
    for address in SPREAD:  # the name's minute and more fill up, each address failing once
        log_in_as(client, "alice", "guess", address)

    wrong = log_in_as(client, "alice", "guess", OWNER)
    assert wrong.status_code == 401  # a clean address has its password checked...
    assert log_in_as(client, "alice", PASSWORD, OWNER).status_code == 429  # ...then it is not
    right = log_in_as(client, "alice", PASSWORD, "203.0.113.99")

    assert right.status_code == 302
    assert client.get("/api/scan").status_code == 200


def test_unknown_names_are_counted_like_known_ones(client):
    statuses = [log_in_as(client, "nobody", "guess", a).status_code for a in SPREAD[:6]]

    assert statuses[:5] == [401] * 5
    assert log_in_as(client, "nobody", "guess", SPREAD[0]).status_code == 429


def test_login_rate_limit_sets_the_limits(make_app):
    client = make_app(**PRODUCTION, LOGIN_RATE_LIMIT="100/minute;3/day").test_client()

    assert guess(client, 4) == [401, 401, 401, 429]
    response = log_in(client, "guess", ATTACKER)
    assert int(response.headers["Retry-After"]) > 23 * 3600
    assert "Try again in 24 hours" in response.get_data(as_text=True)


def test_the_wait_is_the_day_s_when_the_day_limit_tripped_though_the_minute_s_did_too(
    make_app,
):
    client = make_app(**PRODUCTION, LOGIN_RATE_LIMIT="5/minute;3/day").test_client()

    responses = [log_in(client, "guess", ATTACKER) for _ in range(7)]

    assert [response.status_code for response in responses] == [401] * 3 + [429] * 4
    for response in responses[3:]:  # the last two find the minute's window full as well
        assert int(response.headers["Retry-After"]) > 23 * 3600
        assert "Try again in 24 hours" in response.get_data(as_text=True)


def test_a_minute_limit_says_seconds(make_app):
    client = make_app(**PRODUCTION, LOGIN_RATE_LIMIT="2/minute").test_client()
    guess(client, 2)

    response = log_in(client, "guess", ATTACKER)

    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert re.search(r"Try again in \d+ seconds?\.", response.get_data(as_text=True))


def test_a_bad_login_rate_limit_stops_the_app(app_config, monkeypatch):
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "5 per fortnight")

    with pytest.raises(ConfigError, match="LOGIN_RATE_LIMIT='5 per fortnight' is not valid"):
        create_app(app_config)


def forwarded_guess(client, forwarded_for: str) -> int:
    """The status of a wrong password relayed by a proxy for ``forwarded_for``."""
    response = client.post(
        "/login", data={"password": "guess"}, headers={"X-Forwarded-For": forwarded_for}
    )
    return response.status_code


def test_behind_a_proxy_each_forwarded_address_has_its_own_count(make_app):
    client = make_app(**PRODUCTION, TRUSTED_PROXY_COUNT=1).test_client()

    assert [forwarded_guess(client, ATTACKER) for _ in range(6)] == [401] * 5 + [429]
    assert forwarded_guess(client, OWNER) == 401


def test_without_a_trusted_proxy_forwarded_addresses_are_ignored(make_app):
    client = make_app(**PRODUCTION).test_client()
    statuses = [forwarded_guess(client, f"198.51.100.{n}") for n in range(6)]

    assert statuses == [401] * 5 + [429]


def test_counts_live_under_the_key_prefix_so_apps_do_not_share_them(
    make_app, redis_client, key_prefix
):
    client = make_app(**PRODUCTION).test_client()
    other = make_app(**PRODUCTION, CACHE_KEY_PREFIX=f"{key_prefix}other:").test_client()

    guess(client, 6)

    assert list(redis_client.scan_iter(match=f"{key_prefix}limits:*"))
    assert log_in(other, "guess", ATTACKER).status_code == 401


def test_redis_down_refuses_logins_without_judging_the_password(make_app):
    client = make_app(**PRODUCTION, REDIS_URL="redis://127.0.0.1:1/0").test_client()

    for password in ("guess", PASSWORD):
        response = log_in(client, password, OWNER)
        assert response.status_code == 503
        assert "Login is unavailable" in response.get_data(as_text=True)
    assert client.get("/login").status_code == 200


def test_the_in_process_cache_counts_in_memory(make_app):
    client = make_app(**PRODUCTION, CACHE_BACKEND="memory").test_client()

    assert guess(client, 6) == [401] * 5 + [429]


# -- a burst against gunicorn: several workers, many threads, one count ----------------------

BURST = 40
#: Seconds one attempt of the burst may take: each checked password costs a scrypt hash.
ATTEMPT_SECONDS = 60
#: gunicorn started from the repository, on the test Redis (the fixture of test_gunicorn).
serve = test_gunicorn.serve


def burst_of_wrong_passwords(servers: list[Server]) -> list[tuple[int, str]]:
    """``BURST`` wrong passwords posted at once from one address, shared out between
    ``servers``; (status, page) of each."""
    _status, headers, html = request(servers[0].port, "GET", "/login")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    token = next(group for group in TOKEN.search(html).groups() if group)
    form = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    body = urlencode({"csrf_token": token, "username": "admin", "password": "guess"})

    def post(number: int) -> tuple[int, str]:
        server = servers[number % len(servers)]
        status, _headers, page = request(server.port, "POST", "/login", form, body, ATTEMPT_SECONDS)
        return status, page

    with ThreadPoolExecutor(BURST) as pool:
        return list(pool.map(post, range(BURST)))


@pytest.fixture
def production_servers(serve):
    """Start two gunicorns in production mode on one Redis and key prefix, each with 2
    workers of 16 threads, with ``LOGIN_RATE_LIMIT``."""

    def start(limit: str) -> list[Server]:
        settings = {
            "SCANNER_ENV": "production",
            "SECRET_KEY": "burst-test-secret-" + "x" * 32,
            "SCANNER_PASSWORD_HASH": generate_password_hash(PASSWORD),
            "MARKET_DATA": "demo",
            "LOGIN_RATE_LIMIT": limit,
        }
        return [serve("--workers", "2", **settings) for _ in range(2)]

    return start


@pytest.mark.parametrize(
    ("limit", "checked", "wait"),
    [
        ("10/minute", 10, re.compile(r"Try again in \d+ seconds?\.")),
        ("100/minute;15/day", 15, re.compile(r"Try again in 24 hours\.")),
    ],
)
def test_a_burst_of_forty_gets_exactly_the_limit_checked_across_processes(
    production_servers, limit, checked, wait
):
    servers = production_servers(limit)

    answers = burst_of_wrong_passwords(servers)

    statuses = [status for status, _page in answers]
    assert statuses.count(401) == checked, statuses
    assert statuses.count(429) == BURST - checked, statuses
    assert all(wait.search(page) for status, page in answers if status == 429)
    assert all("Wrong username or password." in page for status, page in answers if status == 401)
    served = [server.worker_pids("POST /login") for server in servers]
    assert all(served), "a server had no share of the burst"
