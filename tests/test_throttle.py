"""The rate limiter and concurrency bound, on a fake clock where timing matters."""

from __future__ import annotations

import threading

import pytest

from scanner_app.market.throttle import RateLimiter, Throttle


class FakeClock:
    """A clock that only moves when someone sleeps on it (or the test advances it)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_callers_are_spaced_one_interval_apart() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4.0, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        limiter.wait()
    # 4 per second: the first goes at once, each later one a quarter second after the last.
    assert clock.sleeps == [0.25, 0.25, 0.25]


def test_waiting_callers_reserve_successive_slots() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleeps.append)  # the clock stands still
    for _ in range(3):
        limiter.wait()
    assert clock.sleeps == [0.5, 1.0]


def test_idle_time_does_not_build_up_a_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)
    limiter.wait()
    clock.now += 60
    limiter.wait()
    limiter.wait()
    assert clock.sleeps == [0.5]


@pytest.mark.parametrize("per_second", [0, -1.0])
def test_rate_must_be_positive(per_second: float) -> None:
    with pytest.raises(ValueError, match="above 0"):
        RateLimiter(per_second)


def test_concurrency_bound_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="1 or more"):
        Throttle(0, 1.0)


def test_no_more_than_max_concurrent_slots_are_held_at_once() -> None:
    throttle = Throttle(2, 1000.0)
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
