"""The base class of every market provider: what the providers share (the throttle, the
retries, the request count) and what each declares about itself (its capabilities, its
rate setting, its settings check). The registry (``registry``) names the subclasses."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, Self

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ..config import ConfigError
from .limiter_settings import market_rate_limiter
from .provider import TickerFeed
from .throttle import RateLimiter, Throttle


class BaseProvider(ABC):
    """A market provider: ``open(ticker)`` gives a ``TickerFeed``; every request goes
    through ``request_slot`` (at most ``max_concurrent`` at once, None for no bound, each
    started when ``rate_limiter`` lets it, None for no rate limit, and counted), and through
    ``retrying`` when the provider retries: up to ``retries`` more attempts on its
    ``transient`` errors, waiting by ``wait`` (a tenacity wait strategy; by default an
    exponential backoff with jitter).

    Subclasses declare ``name`` (the value of ``MARKET_DATA``) and their capabilities.
    """

    #: The provider's name: the value of ``MARKET_DATA`` that picks it, and its rate limit's.
    name: ClassVar[str]
    #: Synthetic data, not real quotes (the pages say so).
    is_demo: ClassVar[bool] = False
    #: The provider answers ``fundamentals(symbol)`` itself.
    has_fundamentals: ClassVar[bool] = False
    #: Without fundamentals of its own: the registry name of the provider that serves them.
    fundamentals_from: ClassVar[str | None] = None
    #: Its feeds answer ``next_earnings()``.
    has_earnings: ClassVar[bool] = True
    #: The settings it cannot run without -> what each is, for the error when one is unset.
    required_settings: ClassVar[Mapping[str, str]] = {}
    #: The provider's own alias of ``MARKET_REQUESTS_PER_SECOND`` (with its default rate).
    rate_setting: ClassVar[str | None] = None
    #: The errors worth another attempt.
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(
        self,
        *,
        max_concurrent: int | None,
        rate_limiter: RateLimiter | None,
        retries: int = 0,
        wait: Callable[[RetryCallState], float] | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, not {retries!r}")
        self.retries = retries
        self._throttle = Throttle(max_concurrent, rate_limiter)
        self._wait = wait if wait is not None else wait_exponential_jitter(initial=1.0, max=30.0)
        self._count_lock = threading.Lock()
        self._request_count = 0

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> None:
        """Raise ``ConfigError`` when ``settings`` cannot run this provider: one of its
        ``required_settings`` is unset."""
        for name, meaning in cls.required_settings.items():
            if settings.get(name) is None:
                raise ConfigError(f"MARKET_DATA={cls.name} needs {name}: {meaning}.")

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """The provider configured by ``settings`` (checked by ``check_settings``)."""

    @classmethod
    def rate_limiter(cls, settings: Mapping[str, Any]) -> RateLimiter | None:
        """The rate limit of ``settings`` for this provider: ``MARKET_REQUESTS_PER_SECOND``,
        else its ``rate_setting``; None when neither is set."""
        return market_rate_limiter(settings, cls.name, cls.rate_setting)

    @property
    def request_count(self) -> int:
        """Requests made so far, retries included."""
        with self._count_lock:
            return self._request_count

    @property
    def attempts(self) -> int:
        """How many times a request is tried before its error stands."""
        return self.retries + 1

    @abstractmethod
    def open(self, ticker: str, *, calls: bool = False) -> TickerFeed:
        """A feed for ``ticker``; cheap, makes no request. With ``calls`` its chains carry
        the calls too."""

    @contextmanager
    def request_slot(self) -> Iterator[None]:
        """Hold a place for one request: within the concurrency bound, no sooner than the
        rate allows, and counted."""
        with self._throttle.slot():
            with self._count_lock:
                self._request_count += 1
            yield

    def retrying(self) -> Retrying:
        """A tenacity ``Retrying`` that tries a call up to ``attempts`` times while it raises
        one of the ``transient`` errors, and then re-raises the last."""
        return Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(self.transient),
            reraise=True,
        )
