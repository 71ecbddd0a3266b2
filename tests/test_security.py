"""Security headers on pages, JSON, CSV and error responses."""

from __future__ import annotations

import pytest
from flask import Response

from scanner_app import create_app
from scanner_app.web.auth.security_headers import add_security_headers
from tests.production import PRODUCTION, log_in

#: The policy asked for: everything from this site only, no inline script or style, no framing.
EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def assert_security_headers(response) -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == EXPECTED_CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/api/scan", "/api/options", "/options.csv"])
def test_pages_and_data_carry_the_headers_and_are_never_cached(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no-such-page", 404),
        ("GET", "/api/no-such-thing", 404),
        ("GET", "/api/options/NFLX", 404),
        ("DELETE", "/api/scan", 405),
    ],
)
def test_error_responses_carry_the_headers(client, method, path, status):
    response = client.open(path, method=method)

    assert response.status_code == status
    assert_security_headers(response)


def test_a_csrf_failure_carries_the_headers(app_config, redis_client):
    client = create_app({**app_config, "WTF_CSRF_ENABLED": True}).test_client()

    response = client.post("/scan")

    assert response.status_code == 400
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_redirects_to_login_carry_the_headers(app_config, redis_client):
    client = create_app({**app_config, **PRODUCTION}).test_client()

    assert_security_headers(client.get("/"))
    assert_security_headers(client.get("/api/scan"))
    assert_security_headers(client.get("/login"))


def test_a_throttled_login_carries_the_headers_and_is_not_cached(app_config, redis_client):
    client = create_app({**app_config, **PRODUCTION, "LOGIN_RATE_LIMIT": "1/minute"}).test_client()
    log_in(client, "guess")

    response = log_in(client, "guess")

    assert response.status_code == 429
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_answers_are_not_cached(client):
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"


def test_a_response_keeps_its_own_cache_control():
    response = Response("{}", mimetype="application/json", headers={"Cache-Control": "no-cache"})

    add_security_headers(response)

    assert response.headers["Cache-Control"] == "no-cache"
    assert_security_headers(response)


def test_static_assets_are_not_forced_uncached():
    response = Response("body{}", mimetype="text/css")

    add_security_headers(response)

    assert "Cache-Control" not in response.headers
    assert_security_headers(response)
