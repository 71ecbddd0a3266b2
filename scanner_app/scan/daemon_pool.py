"""A pool of daemon threads: a ticker still being fetched never holds up the process's exit."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class DaemonPool:
    """Runs calls on ``size`` daemon threads and returns futures.

    The interpreter joins ThreadPoolExecutor's threads when it exits, so a request that takes
    a while (a market timeout, retries) would keep a stopping process alive. Leaving the
    ``with`` block cancels the calls not started yet and does not wait for the running ones.
    """

    def __init__(self, size: int, name: str) -> None:
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        self._futures: list[Future] = []
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{number}", daemon=True)
            for number in range(max(size, 1))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, call: Callable[..., Any], *args: Any) -> Future:
        """Run ``call(*args)`` on a free thread; its future."""
        future: Future = Future()
        self._futures.append(future)
        self._tasks.put((future, call, args))
        return future

    def __enter__(self) -> DaemonPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for future in self._futures:
            future.cancel()
        for _thread in self._threads:
            self._tasks.put(None)

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            future, call, args = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = call(*args)
            except BaseException as error:  # handed to whoever waits on the future
                future.set_exception(error)
            else:
                future.set_result(result)
