"""Login timing: a wrong password, an unknown username and a disabled user, side by side.

Run: ``python -m bench.bench_login`` (part of ``make bench``). A production app on a private
Redis (or ``REDIS_URL``) and a SQLite file; interleaved logins, in a new random order each
round, through the real login view
(throttle, database lookup, one scrypt check). Prints the median time of each kind and its
ratio to a wrong password: an unknown name must not be told apart by its time. Asserts nothing.
"""

from __future__ import annotations

import logging
import random
import statistics
import tempfile
import time
from pathlib import Path

from tests.accounts import create_user

from .support import bench_app, clear_prefix, redis_url

ROUNDS = 40
PASSWORD = "the bench's own password"
KINDS = {
    "wrong password": ("alice", "not the password at all"),
    "unknown username": ("nobody", PASSWORD),
    "disabled user": ("bob", PASSWORD),
    "malformed username": ("no such name!", PASSWORD),
}


def timed_login(client, username: str, password: str) -> float:
    """Seconds one refused login takes, as the client sees it."""
    started = time.perf_counter()
    response = client.post("/login", data={"username": username, "password": password})
    elapsed = time.perf_counter() - started
    assert response.status_code == 401, response.status_code
    return elapsed


def main() -> None:
    """Print the median of each kind of refused login and its ratio to a wrong password."""
    logging.getLogger("scanner_app").setLevel(logging.ERROR)  # one failed-login line each
    directory = Path(tempfile.mkdtemp(prefix="put-scanner-bench-login-"))
    with redis_url() as url:
        app = bench_app(
            url,
            3,
            SCANNER_ENV="production",
            SECRET_KEY="bench-login-" + "0" * 32,
            DATABASE_URL=f"sqlite:///{directory / 'users.db'}",
            LOGIN_RATE_LIMIT="100000/minute",
            WTF_CSRF_ENABLED=False,
        )
        create_user(app, "alice", PASSWORD)
        create_user(app, "bob", PASSWORD)
        app.test_cli_runner().invoke(args=["users", "disable", "bob"])
        client = app.test_client()
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for username, password in KINDS.values():
            timed_login(client, username, password)  # warm: caches, the dummy hash
        shuffled = random.Random(18)
        for _ in range(ROUNDS):
            order = list(KINDS)
            shuffled.shuffle(order)
            for kind in order:
                times[kind].append(timed_login(client, *KINDS[kind]))
        clear_prefix(app)
    base = statistics.median(times["wrong password"])
    print(f"Refused logins, median of {ROUNDS} each (interleaved, shuffled):")
    for kind, samples in times.items():
        median = statistics.median(samples)
        print(f"  {kind:<20} {median * 1000:7.1f} ms   x{median / base:.3f} of a wrong password")


if __name__ == "__main__":
    main()
