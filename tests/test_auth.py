"""Login in production, CSRF tokens, session cookies and ``flask hash-password``."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import request, url_for
from werkzeug.routing import IntegerConverter
from werkzeug.security import check_password_hash

from scanner_app import create_app
from scanner_app.web.auth.gate import safe_next
from scanner_app.web.auth.routes import CSRF_MESSAGE
from tests.accounts import create_user
from tests.production import ADMIN, PASSWORD, PRODUCTION

PUBLIC_ENDPOINTS = {"auth.login", "api.healthz", "static"}
TOKEN_PATTERNS = (
    re.compile(r'name="csrf_token" value="([^"]+)"'),
    re.compile(r'"X-CSRFToken": "([^"]+)"'),
)


@pytest.fixture
def production_config(app_config) -> dict:
    """The test config in production mode, with the password "pw"."""
    return {**app_config, **PRODUCTION}


@pytest.fixture
def app(production_config, redis_client):
    """A production app (CSRF off, as in the shared config)."""
    return create_app(production_config)


@pytest.fixture
def csrf_client(production_config, redis_client):
    """A client of a production app with CSRF protection on."""
    return create_app({**production_config, "WTF_CSRF_ENABLED": True}).test_client()


@pytest.fixture
def local_client(app_config, redis_client):
    """A client of a local-mode app."""
    return create_app(app_config).test_client()


def page_token(response) -> str:
    """The CSRF token a page carries, in a form field or in the htmx headers."""
    html = response.get_data(as_text=True)
    for pattern in TOKEN_PATTERNS:
        match = pattern.search(html)
        if match:
            return match.group(1)
    raise AssertionError(f"no CSRF token on the page (status {response.status_code})")


def log_in(client, **form) -> object:
    """Log in as ``admin`` (made first), with extra ``form`` fields."""
    create_user(client.application, ADMIN, PASSWORD, role="admin")
    return client.post("/login", data={"username": ADMIN, "password": PASSWORD, **form})


def csrf_log_in(client) -> None:
    """Log in as ``admin`` with the login page's CSRF token."""
    token = page_token(client.get("/login"))
    response = log_in(client, csrf_token=token)
    assert response.status_code == 302


def _example_arguments(rule) -> dict[str, object]:
    """A value for each of a rule's arguments: 1 for a number (an id), else "AAPL"."""
    return {
        name: 1 if isinstance(converter, IntegerConverter) else "AAPL"
        for name, converter in rule._converters.items()
    }


def protected_requests(app) -> list[tuple[str, str]]:
    """(method, url) of every non-public route, with "AAPL" (or 1 for an id) for any URL
    argument."""
    requests = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.endswith(".static"):
                continue
            url = url_for(rule.endpoint, **_example_arguments(rule))
            requests += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return requests


def is_api(url: str) -> bool:
    return url.startswith("/api/") or url == "/options.csv"


# -- login required in production ----------------------------------------------------------


def test_every_route_needs_a_login_in_production(app, client):
    requests = protected_requests(app)
    urls = {url for _method, url in requests}
    assert {"/", "/scan", "/api/scan", "/api/options", "/options.csv", "/logout"} <= urls

    for method, url in requests:
        response = client.open(url, method=method)
        if is_api(url):
            assert response.status_code == 401, (method, url)
            assert response.is_json and response.get_json()["error"], (method, url)
        else:
            assert response.status_code == 302, (method, url)
            location = urlsplit(response.headers["Location"])
            assert location.path == "/login", (method, url)
            assert parse_qs(location.query)["next"] == [url], (method, url)


def test_htmx_requests_without_a_session_get_401_and_hx_redirect(app, client):
    for method, url in protected_requests(app):
        if is_api(url):
            continue
        response = client.open(url, method=method, headers={"HX-Request": "true"})
        assert response.status_code == 401, (method, url)
        assert urlsplit(response.headers["HX-Redirect"]).path == "/login", (method, url)


def test_htmx_redirect_returns_to_the_page_the_request_came_from(client):
    response = client.get(
        "/", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/?sort=dte"}
    )

    target = urlsplit(response.headers["HX-Redirect"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == ["/?sort=dte"]


def test_htmx_redirect_ignores_a_page_on_another_host(client):
    response = client.get(
        "/", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
    )

    assert response.headers["HX-Redirect"] == "/login"


def test_redirect_to_login_keeps_the_query_string(client):
    response = client.get("/?sort=dte&dir=desc")

    location = urlsplit(response.headers["Location"])
    assert parse_qs(location.query)["next"] == ["/?sort=dte&dir=desc"]


def test_an_unknown_url_without_a_session_goes_to_login_too(client):
    assert client.get("/no-such-page").status_code == 302
    assert client.get("/api/no-such-thing").status_code == 401


def test_healthz_and_static_files_are_public(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/no-such-file.css").status_code == 404


# -- the login form ------------------------------------------------------------------------


def test_login_page_has_a_password_field_and_a_token(csrf_client):
    response = csrf_client.get("/login?next=/options.csv")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'type="password"' in html and page_token(response)
    assert 'name="next" value="/options.csv"' in html


def test_right_password_logs_in_and_returns_to_next(client):
    response = log_in(client, next="/api/options?sort=dte")

    assert response.status_code == 302
    assert response.headers["Location"] == "/api/options?sort=dte"
    assert client.get("/api/options").status_code == 200
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused_with_a_generic_message(client):
    response = log_in(client, password="guess")

    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert client.get("/api/scan").status_code == 401


def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(client):
    alert = re.compile(r'<p class="error" role="alert">([^<]*)</p>')
    wrong = log_in(client, password="not the password")
    unknown = client.post("/login", data={"username": "nobody", "password": PASSWORD})

    assert wrong.status_code == unknown.status_code == 401
    assert alert.findall(wrong.get_data(as_text=True)) == ["Wrong username or password."]
    assert alert.findall(unknown.get_data(as_text=True)) == ["Wrong username or password."]


def test_passwords_never_reach_the_log(client, caplog):
    caplog.set_level(logging.DEBUG)
    typed_in_the_wrong_field = "my secret password typed as a name"

    log_in(client, password="a wrong password here")
    client.post("/login", data={"username": typed_in_the_wrong_field, "password": "x"})
    log_in(client)

    assert "failed login for user admin" in caplog.text
    assert "failed login for an unknown username" in caplog.text
    assert "user admin logged in" in caplog.text
    for secret in (PASSWORD, "a wrong password here", typed_in_the_wrong_field):
        assert secret not in caplog.text


def test_a_missing_username_and_password_are_wrong_ones(client):
    response = client.post("/login", data={})

    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_login_never_redirects_off_site(client, target):
    response = log_in(client, next=target)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_page_drops_an_off_site_next(client):
    html = client.get("/login?next=//evil.example/").get_data(as_text=True)

    assert "evil.example" not in html


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "/"),
        ("/?sort=dte&dir=desc", "/?sort=dte&dir=desc"),
        ("/api/options/AAPL", "/api/options/AAPL"),
        ("//evil.example", None),
        ("///evil.example", None),
        ("/\\evil.example", None),
        ("/\r\nLocation: x", None),
        ("http://localhost/", None),
        ("relative/path", None),
        (None, None),
        ("/" + "a" * 5000, None),
    ],
)
def test_safe_next_accepts_only_local_paths(target, expected):
    assert safe_next(target) == expected


def test_login_replaces_whatever_the_session_held(app, client):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"

    log_in(client)

    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["user"]
        assert session.permanent


def test_login_when_already_logged_in_goes_to_next(client):
    log_in(client)

    response = client.get("/login?next=/options.csv")

    assert response.status_code == 302 and response.headers["Location"] == "/options.csv"


# -- CSRF ----------------------------------------------------------------------------------


def test_login_and_logout_with_csrf_tokens(csrf_client):
    csrf_log_in(csrf_client)
    dashboard = csrf_client.get("/")
    assert dashboard.status_code == 200

    response = csrf_client.post("/logout", data={"csrf_token": page_token(dashboard)})

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert csrf_client.get("/").status_code == 302
    assert csrf_client.get("/api/scan").status_code == 401


def test_login_without_a_token_is_refused_with_the_message(csrf_client):
    response = log_in(csrf_client)

    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True)
    assert csrf_client.get("/api/scan").status_code == 401


def test_scan_without_a_token_is_refused_with_the_message(csrf_client):
    csrf_log_in(csrf_client)

    page = csrf_client.post("/scan")
    fragment = csrf_client.post("/scan", headers={"HX-Request": "true"})

    assert page.status_code == 400 and CSRF_MESSAGE in page.get_data(as_text=True)
    assert fragment.status_code == 400
    fragment_html = fragment.get_data(as_text=True)
    assert CSRF_MESSAGE in fragment_html and "<html" not in fragment_html.lower()
    assert csrf_client.get("/api/scan").get_json()["progress"] is None


def test_scan_with_a_wrong_token_is_refused(csrf_client):
    csrf_log_in(csrf_client)

    response = csrf_client.post("/scan", headers={"HX-Request": "true", "X-CSRFToken": "forged"})

    assert response.status_code == 400


def test_scan_with_the_token_in_the_htmx_header_runs(csrf_client):
    csrf_log_in(csrf_client)
    token = page_token(csrf_client.get("/"))

    response = csrf_client.post("/scan", headers={"HX-Request": "true", "X-CSRFToken": token})

    assert response.status_code < 400
    progress = csrf_client.get("/api/scan").get_json()["progress"]
    assert progress is not None and progress["done"] == progress["total"]


# -- cookies, secret key, proxies ----------------------------------------------------------


def session_cookie_header(response) -> str:
    cookies = [value for value in response.headers.getlist("Set-Cookie") if "session=" in value]
    assert len(cookies) == 1, cookies
    return cookies[0]


def test_production_session_cookie_is_httponly_lax_secure_and_lasts_12_hours(app, client):
    cookie = session_cookie_header(log_in(client))

    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie
    assert "Expires=" in cookie
    assert app.permanent_session_lifetime == timedelta(hours=12)


def test_an_explicit_insecure_cookie_setting_is_respected(
    production_config, redis_client, monkeypatch
):
    monkeypatch.setenv("FLASK_SESSION_COOKIE_SECURE", "false")
    client = create_app(production_config).test_client()

    cookie = session_cookie_header(log_in(client))

    assert "Secure" not in cookie and "HttpOnly" in cookie


def test_local_mode_cookies_are_httponly_and_lax_but_not_secure(app_config, redis_client):
    local = create_app(app_config)

    assert local.config["SESSION_COOKIE_HTTPONLY"] is True
    assert local.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert local.config["SESSION_COOKIE_SECURE"] is False


def test_local_mode_without_a_secret_key_shares_one_from_the_instance_folder(
    app_config, redis_client, tmp_path, caplog
):
    config = {**app_config, "SECRET_KEY": None, "INSTANCE_PATH": str(tmp_path / "instance")}

    with caplog.at_level(logging.INFO, logger="scanner_app.web.auth"):
        first, second = create_app(config), create_app(config)

    assert re.fullmatch(r"[0-9a-f]{64}", first.secret_key)
    assert first.secret_key == second.secret_key
    assert (tmp_path / "instance" / "secret_key").read_text() == first.secret_key
    assert "shared by every worker" in caplog.text


def seen_client_address(app, headers: dict) -> tuple[str, str]:
    """The scheme and client address ``app`` sees for a request with ``headers``."""
    seen = []

    @app.after_request
    def record(response):
        seen.append((request.scheme, request.remote_addr))
        return response

    app.test_client().get("/healthz", headers=headers)
    return seen[0]


def test_proxy_headers_are_trusted_only_when_configured(app_config, redis_client):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    behind_proxy = create_app({**app_config, "TRUSTED_PROXY_COUNT": 1})
    direct = create_app(app_config)

    assert seen_client_address(behind_proxy, forwarded) == ("https", "203.0.113.9")
    assert seen_client_address(direct, forwarded) == ("http", "127.0.0.1")


# -- local mode ----------------------------------------------------------------------------


def test_local_mode_needs_no_login(local_client):
    assert local_client.get("/").status_code == 200
    assert local_client.get("/api/options").status_code == 200
    assert local_client.post("/scan").status_code < 400


def test_local_mode_login_page_goes_home(local_client):
    response = local_client.get("/login")

    assert response.status_code == 302 and response.headers["Location"] == "/"


# -- flask hash-password -------------------------------------------------------------------


def test_hash_password_prints_a_hash_of_the_password(app):
    result = app.test_cli_runner().invoke(
        args=["hash-password"], input="correct horse battery\ncorrect horse battery\n"
    )

    assert result.exit_code == 0, result.output
    printed = result.output.strip().splitlines()[-1]
    assert check_password_hash(printed, "correct horse battery")
    assert "correct horse" not in result.output


def test_hash_password_asks_again_when_the_two_entries_differ(app):
    result = app.test_cli_runner().invoke(
        args=["hash-password"],
        input="first-try-one\nsecond-try-two\nthird-try-three\nthird-try-three\n",
    )

    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert check_password_hash(result.output.strip().splitlines()[-1], "third-try-three")


def test_hash_password_refuses_a_short_password(app):
    result = app.test_cli_runner().invoke(
        args=["hash-password"], input="short\nlong-enough-now\nlong-enough-now\n"
    )

    assert result.exit_code == 0, result.output
    assert "at least 12 characters" in result.output
    assert check_password_hash(result.output.strip().splitlines()[-1], "long-enough-now")
