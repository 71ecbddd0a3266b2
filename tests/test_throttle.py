"""The shared rate limiter on a real Redis, its conversion of rates, and the concurrency bound.

Timing is checked as a property of the recorded timestamps (no window holds more than the
limit), never as elapsed time.
"""

from __future__ import annotations

import bisect
import multiprocessing
import threading
import time
from typing import Any

import pytest
from limits import RateLimitItemPerSecond

from scanner_app.market.errors import MarketDataError
from scanner_app.market.limiter_settings import limits_storage, market_rate_limiter
from scanner_app.market.throttle import RateLimiter, Throttle, window_limit

PROCESSES = 3


def most_in_any_window(stamps: list[float], seconds: float = 1.0) -> int:
    """The most timestamps that fall in one window ``[t, t + seconds)``."""
    ordered = sorted(stamps)
    return max(
        (bisect.bisect_left(ordered, start + seconds) - i for i, start in enumerate(ordered)),
        default=0,
    )


@pytest.fixture
def settings(redis_url: str, key_prefix: str, redis_client: Any) -> dict[str, Any]:
    """Settings on the test Redis, under this test's key prefix (cleaned up afterwards)."""
    return {
        "CACHE_BACKEND": "redis",
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": key_prefix,
        "MARKET_REQUESTS_PER_SECOND": None,
    }


def limiter(settings: dict[str, Any], per_second: float, **options: Any) -> RateLimiter:
    return RateLimiter(per_second, limits_storage(settings), "test", **options)


def take_slots(settings: dict[str, Any], count: int, ready: Any, go: Any, stamps: Any) -> None:
    """In a process of its own: take ``count`` slots once ``go`` is set; report their times."""
    shared = market_rate_limiter(settings, "shared")
    ready.put(True)
    go.wait(30)
    taken = []
    for _ in range(count):
        shared.acquire()
        taken.append(time.time())
    stamps.put(taken)


@pytest.mark.parametrize(
    ("per_second", "amount", "seconds"),
    [(40, 40, 1), (2.5, 2, 1), (1, 1, 1), (0.5, 1, 2), (0.3, 1, 4), (0.1, 1, 10)],
)
def test_a_rate_becomes_whole_requests_per_whole_seconds(per_second, amount, seconds):
    limit = window_limit(per_second, "yahoo")
    assert limit == RateLimitItemPerSecond(amount, seconds)
    assert limit.amount / seconds <= per_second


@pytest.mark.parametrize("per_second", [0, -1.0])
def test_rate_must_be_positive(per_second: float) -> None:
    with pytest.raises(ValueError, match="above 0"):
        window_limit(per_second, "yahoo")


def test_processes_sharing_a_redis_never_pass_the_limit_in_any_second(settings):
    """Three processes, one limit of 20 a second: 60 slots, never 21 in one second."""
    settings["MARKET_REQUESTS_PER_SECOND"] = 20.0
    context = multiprocessing.get_context("spawn")
    ready, go, stamps = context.Queue(), context.Event(), context.Queue()
    workers = [
        context.Process(target=take_slots, args=(settings, 20, ready, go, stamps))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            ready.get(timeout=30)
        go.set()
        taken = [stamp for _ in workers for stamp in stamps.get(timeout=30)]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            worker.kill()

    assert len(taken) == 60
    assert most_in_any_window(taken) <= 20


@pytest.mark.parametrize(
    ("per_second", "slots", "seconds", "most"),
    [(2.5, 5, 1.0, 2), (0.5, 2, 2.0, 1)],
)
def test_a_fractional_rate_is_never_passed(settings, per_second, slots, seconds, most):
    """2.5 a second is at most 2 in any second; 0.5 a second at most 1 in any 2 seconds."""
    slow = limiter(settings, per_second)
    taken = []
    for _ in range(slots):
        slow.acquire()
        taken.append(time.time())
    assert most_in_any_window(taken, seconds) == most


def test_a_refused_caller_sleeps_until_the_window_frees(settings):
    """No busy loop: the five callers past the first second sleep once each, at most."""
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    paced = limiter(settings, 5, sleep=sleep)
    for _ in range(10):
        paced.acquire()
    assert 1 <= len(sleeps) <= 5
    assert min(sleeps) > 0


def test_the_window_is_kept_under_the_key_prefix_and_the_name(settings, key_prefix, redis_client):
    limiter(settings, 3).acquire()
    assert redis_client.keys(f"{key_prefix}*") == [
        f"{key_prefix}ratelimit:test/3/1/second".encode()
    ]


def test_an_unreachable_redis_is_a_market_data_error(settings, dead_redis_url):
    settings["REDIS_URL"] = dead_redis_url
    with pytest.raises(MarketDataError, match="test rate limit could not be checked"):
        limiter(settings, 2).acquire()


def test_concurrency_bound_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="1 or more"):
        Throttle(0, None)


def test_a_slot_takes_a_place_in_the_window(settings, key_prefix, redis_client):
    with Throttle(1, limiter(settings, 3)).slot():
        pass
    assert redis_client.llen(f"{key_prefix}ratelimit:test/3/1/second") == 1


def test_no_more_than_max_concurrent_slots_are_held_at_once() -> None:
    throttle = Throttle(2, None)
    third_entered = threading.Event()

    def third_caller() -> None:
        with throttle.slot():
            third_entered.set()

    with throttle.slot(), throttle.slot():
        caller = threading.Thread(target=third_caller)
        caller.start()
        # A broken bound would let the third caller in well within this window.
        blocked_while_full = not third_entered.wait(timeout=0.1)
    caller.join(timeout=5)
    assert blocked_while_full
    assert third_entered.is_set()


def test_without_a_concurrency_bound_every_caller_gets_a_slot_at_once() -> None:
    throttle = Throttle(None, None)
    callers = 8
    all_inside = threading.Barrier(callers + 1)

    def caller() -> None:
        with throttle.slot():
            all_inside.wait(timeout=5)

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    for thread in threads:
        thread.start()
    all_inside.wait(timeout=5)  # a bound would keep some callers out: BrokenBarrierError
    for thread in threads:
        thread.join(timeout=5)
    assert not all_inside.broken
