"""An answer from Redis that a process reuses for a while, so that a page or a health check
stays one round trip most of the time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Remembered(Generic[T]):
    """``ask()``'s answer, asked again once it is ``seconds`` old."""

    def __init__(
        self, ask: Callable[[], T], seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ask = ask
        self.seconds = seconds
        self.clock = clock
        self._answer: tuple[float, T] | None = None

    def read(self) -> T:
        """The answer, at most ``seconds`` old."""
        now = self.clock()
        answer = self._answer
        if answer is not None and 0 <= now - answer[0] < self.seconds:
            return answer[1]
        value = self.ask()
        self._answer = (now, value)
        return value
