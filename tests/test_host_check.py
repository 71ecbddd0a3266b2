"""The Host header: malformed or foreign names get a short 400 and one INFO line, in both
modes, on every route; through the test client and a real gunicorn."""

from __future__ import annotations

import http.client
import logging
import os

import pytest

from scanner_app.web.host_check import host_name
from tests.production import PRODUCTION

from .test_gunicorn import ROOT, Server

ROUTES = ["/", "/login", "/api/scan", "/api/options", "/options.csv", "/healthz", "/ticker/AAPL"]
LOOPBACK = ["localhost", "localhost:5000", "127.0.0.1", "127.0.0.1:8000", "[::1]", "[::1]:5000"]


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Example.COM:8080", "example.com"),
        ("scanner.example.com.", "scanner.example.com"),
        ("[::1]:5000", "::1"),
        ("[0:0::1]", "::1"),
        ("127.0.0.1", "127.0.0.1"),
    ],
)
def test_a_well_formed_host_gives_its_name(header, name):
    assert host_name(header) == name


@pytest.mark.parametrize(
    "header",
    ["a..b", ".a", "a b", "a_b", "-a.com", "a:0", "a:99999", "[::1", "[zz::1]", "", "a:b:c"],
)
def test_a_malformed_host_gives_nothing(header):
    assert host_name(header) is None


@pytest.mark.parametrize("mode", ["local", "production"])
@pytest.mark.parametrize("path", ROUTES)
def test_a_malformed_host_is_a_short_400_with_one_info_line(make_app, caplog, mode, path):
    app = make_app(**(PRODUCTION if mode == "production" else {}))
    caplog.set_level(logging.INFO)

    response = app.test_client().get(path, headers={"Host": "a..b"})

    assert response.status_code == 400
    assert response.get_data(as_text=True) == "Bad request: malformed Host header.\n"
    lines = [record for record in caplog.records if "Host" in record.getMessage()]
    assert [record.levelno for record in lines] == [logging.INFO]
    assert "a..b" in lines[0].getMessage()
    assert not any(record.exc_info for record in caplog.records)


@pytest.mark.parametrize("host", LOOPBACK)
def test_local_mode_serves_the_loopback_names(make_app, host):
    response = make_app().test_client().get("/api/scan", headers={"Host": host})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.2", "[::2]", "localhost.evil.example"])
def test_local_mode_refuses_other_names_against_dns_rebinding(make_app, host):
    response = make_app().test_client().get("/api/scan", headers={"Host": host})
    assert response.status_code == 400
    assert b"TRUSTED_HOSTS" in response.data


def test_trusted_hosts_add_names_in_local_mode(make_app):
    client = make_app(TRUSTED_HOSTS=["scanner.lan", ".example.org"]).test_client()
    assert client.get("/api/scan", headers={"Host": "scanner.lan:5000"}).status_code == 200
    assert client.get("/api/scan", headers={"Host": "a.example.org"}).status_code == 200
    assert client.get("/api/scan", headers={"Host": "localhost"}).status_code == 200
    assert client.get("/api/scan", headers={"Host": "other.lan"}).status_code == 400


def test_production_takes_any_name_until_trusted_hosts_says_which(make_app):
    open_app = make_app(**PRODUCTION).test_client()
    assert open_app.get("/healthz", headers={"Host": "scanner.example.com"}).status_code == 200
    strict = make_app(**PRODUCTION, TRUSTED_HOSTS=["scanner.example.com"]).test_client()
    assert strict.get("/healthz", headers={"Host": "scanner.example.com"}).status_code == 200
    assert strict.get("/healthz", headers={"Host": "localhost"}).status_code == 400
    assert strict.get("/login", headers={"Host": "evil.example"}).status_code == 400


def _raw_get(port: int, host: str, path: str = "/") -> tuple[int, str]:
    """GET ``path`` with exactly ``host`` as the Host header."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


@pytest.fixture
def gunicorn_env(tmp_path, redis_url, key_prefix, small_watchlist, redis_client) -> dict:
    """The environment of a gunicorn on the test Redis (its own prefix and watchlist)."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SCANNER_", "MARKET_", "DEMO_", "SCAN_", "CACHE_", "GUNICORN_"))
        and key not in {"SECRET_KEY", "WEB_CONCURRENCY", "PORT", "TRUSTED_HOSTS"}
    }
    return {
        **kept,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": key_prefix,
        "WATCHLIST_FILE": str(small_watchlist),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "PYTHONPATH": str(ROOT),
    }


@pytest.mark.parametrize("production", [False, True])
def test_gunicorn_answers_bad_hosts_with_400_and_logs_no_traceback(
    tmp_path, gunicorn_env, production
):
    # 127.0.0.1 for the start-up check, which production must be told to accept
    env = {**gunicorn_env, "TRUSTED_HOSTS": "scanner.lan,127.0.0.1"}
    if production:
        env.update(
            SCANNER_ENV="production",
            SECRET_KEY="k" * 64,
            SCANNER_PASSWORD_HASH=PRODUCTION["SCANNER_PASSWORD_HASH"],
            MARKET_DATA="demo",
        )
    server = Server(tmp_path, env)
    try:
        server.wait_until_up()
        for path in ("/", "/login", "/api/scan", "/healthz"):
            assert _raw_get(server.port, "a..b", path) == (
                400,
                "Bad request: malformed Host header.\n",
            )
        assert _raw_get(server.port, "evil.example")[0] == 400
        assert _raw_get(server.port, "scanner.lan:8000", "/healthz")[0] == 200
        assert _raw_get(server.port, "localhost", "/healthz")[0] == (400 if production else 200)
    finally:
        server.stop()
    log = server.error_log.read_text()
    assert "Traceback" not in log
    assert log.count("malformed Host header") == 4
