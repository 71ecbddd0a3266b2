"""Server-side sessions: logout ends them, replayed cookies included; the record names its
user and their revocation count (the revocations themselves: tests/test_revocation.py)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from scanner_app.web.auth.sessions import check_session, session_keys
from tests.production import ADMIN, PASSWORD, PRODUCTION, log_in

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/"}
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def app(make_app):
    """A production app on the test Redis."""
    return make_app(**PRODUCTION)


def logged_in_cookie(app) -> str:
    """The session cookie of a fresh login to ``app``."""
    client = app.test_client()
    assert log_in(client).status_code == 302
    return client.get_cookie("session").value


def replaying(app, cookie: str):
    """A new client of ``app`` that sends a saved session ``cookie``."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def record_keys(redis_client, key_prefix: str) -> list[bytes]:
    """The session records stored under ``key_prefix``."""
    return list(redis_client.scan_iter(match=f"{key_prefix}session:*"))


def test_a_login_stores_a_record_that_expires_with_the_session(app, redis_client, key_prefix):
    logged_in_cookie(app)

    [key] = record_keys(redis_client, key_prefix)
    assert 12 * 3600 - 60 < redis_client.ttl(key) <= 12 * 3600
    record = json.loads(redis_client.get(key))
    assert set(record) == {"user", "epoch"} and record["epoch"] == 0


def test_a_cookie_replayed_after_logout_is_refused(app, redis_client, key_prefix):
    cookie = logged_in_cookie(app)
    assert replaying(app, cookie).get("/api/scan").status_code == 200

    assert replaying(app, cookie).post("/logout").status_code == 302

    assert record_keys(redis_client, key_prefix) == []
    replay = replaying(app, cookie)
    assert replay.get("/api/scan").status_code == 401
    assert urlsplit(replay.get("/").headers["Location"]).path == "/login"
    poll = replay.get("/scan/status", headers=HTMX)
    assert poll.status_code == 401 and poll.headers["HX-Redirect"] == "/login?next=/"
    assert replay.post("/scan").status_code == 302
    assert replaying(app, cookie).get("/login").status_code == 200


def test_being_sent_to_the_login_page_keeps_its_form_token(make_app):
    client = make_app(**PRODUCTION, WTF_CSRF_ENABLED=True).test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)

    assert client.get("/").status_code == 302
    response = client.post(
        "/login", data={"username": ADMIN, "password": PASSWORD, "csrf_token": token}
    )

    assert response.status_code == 302


def test_a_record_of_another_user_is_refused(app, redis_client, key_prefix):
    cookie = logged_in_cookie(app)
    [key] = record_keys(redis_client, key_prefix)
    record = json.loads(redis_client.get(key))
    redis_client.set(key, json.dumps({**record, "user": record["user"] + 1}))

    assert replaying(app, cookie).get("/api/scan").status_code == 401


def test_a_garbled_record_is_refused(app, redis_client, key_prefix):
    cookie = logged_in_cookie(app)
    [key] = record_keys(redis_client, key_prefix)
    redis_client.set(key, b'{"not": "a fingerprint"}')

    assert replaying(app, cookie).get("/api/scan").status_code == 401


def test_the_two_step_check_names_the_record_and_judges_its_value(app, redis_client, key_prefix):
    cookie = logged_in_cookie(app)
    [key] = record_keys(redis_client, key_prefix)

    with app.test_request_context("/scan/status", headers={**HTMX, "Cookie": f"session={cookie}"}):
        keys = session_keys()
        assert keys == [key.decode(), f"{key_prefix}session_epoch:{ADMIN}"]
        assert check_session(redis_client.mget(keys)) is None
        refused = check_session([None, None])
    assert refused.status_code == 401 and "HX-Redirect" in refused.headers


def test_local_mode_reads_no_record(make_app):
    with make_app().test_request_context("/scan/status"):
        assert session_keys() == []
        assert check_session([]) is None


def test_redis_down_pages_still_render_but_data_and_actions_are_refused(app, make_app):
    cookie = logged_in_cookie(app)
    down = make_app(**PRODUCTION, REDIS_URL=DEAD_REDIS)

    api = replaying(down, cookie).get("/api/scan")
    assert api.status_code == 503 and "Redis is unavailable" in api.get_json()["error"]
    scan = replaying(down, cookie).post("/scan")
    assert scan.status_code == 503 and "Redis is unavailable" in scan.get_data(as_text=True)
    assert replaying(down, cookie).get("/").status_code == 200
    assert replaying(down, cookie).post("/logout").status_code == 302


def test_redis_down_without_a_session_still_goes_to_login(make_app):
    down = make_app(**PRODUCTION, REDIS_URL=DEAD_REDIS).test_client()

    assert down.get("/api/scan").status_code == 401
    assert urlsplit(down.get("/").headers["Location"]).path == "/login"
