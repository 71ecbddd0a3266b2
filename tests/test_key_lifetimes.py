"""Every key the app writes has a TTL, or a pruning rule written down here and in the README:
a scan, a login and its session, a revoked user, wrong passwords, the market's rate limit."""

from __future__ import annotations

import pytest

from tests.accounts import create_user, log_in_as
from tests.production import PRODUCTION, log_in

#: Keys without a TTL, each with the rule that keeps it from growing (README, Redis settings).
PRUNED: dict[str, str] = {}


@pytest.fixture
def busy_app(make_app):
    """A production app that has logged in (after a wrong password), scanned with the
    market's rate limit on, fair values and earnings dates, and given a signed-in user a new
    password."""
    app = make_app(
        **PRODUCTION, MARKET_PROVIDER=None, DEMO_LATENCY_MS=0, MARKET_REQUESTS_PER_SECOND=50.0
    )
    client = app.test_client()
    assert log_in(client, "wrong").status_code == 401
    assert log_in(client).status_code == 302
    assert client.post("/scan").status_code in (200, 303)
    assert client.get("/api/scan").get_json()["outcome"] == "completed"
    create_user(app, "alice")
    assert log_in_as(app.test_client(), "alice").status_code == 302
    runner = app.test_cli_runner()
    new_password = runner.invoke(
        args=["users", "set-password", "alice", "--password-stdin"], input="a brand new password"
    )
    assert new_password.exit_code == 0
    return app


def test_every_key_the_app_writes_expires_or_is_pruned(busy_app, redis_client, key_prefix):
    keys = sorted(key.decode() for key in redis_client.scan_iter(match=f"{key_prefix}*"))
    names = {key.removeprefix(key_prefix) for key in keys}
    # what the writers above wrote, as a check that they ran
    for expected in (
        "scan_times",
        "fair_values",
        "last_run",
        "scan_heartbeat",
        "session_epoch:alice",
    ):
        assert expected in names
    assert any(name.startswith("session:") for name in names)
    assert any(name.startswith("limits") for name in names)
    assert any(name.startswith("ratelimit") for name in names)
    assert any(name.startswith(("fundamentals:", "earnings:")) for name in names)
    forever = [
        key
        for key in keys
        if redis_client.ttl(key) < 0 and key.removeprefix(key_prefix) not in PRUNED
    ]
    assert forever == []
