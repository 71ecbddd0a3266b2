"""Lua scripts with their flags declared, where the server understands them.

Redis 7 reads flags from a ``#!lua`` first line. A script that declares them, without
``allow-oom``, is refused whole while Redis is over ``maxmemory``; one without the line
(Redis 6's kind) is refused only if its first write needs memory, and once it has written
anything (an EXPIRE) every later write goes through. Redis 6 and the in-process fakeredis
of ``make run`` reject the line as a syntax error: the script then runs without it, and
its own memory check (``scan/scripts.py``) does the refusing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis import exceptions

#: Flags of a script that writes: none, so it is refused whole while Redis is full.
WRITES = ""
#: Flags of a script that only deletes (freeing the lock): it must run on a full Redis.
FREES_MEMORY = "allow-oom"
#: What Redis 6 and fakeredis say about a ``#!`` line they do not understand.
_SHEBANG_REJECTED = "unexpected symbol near '#'"


def with_flags(source: str, flags: str) -> str:
    """``source`` under a ``#!lua`` line declaring ``flags``."""
    line = f"#!lua flags={flags}" if flags else "#!lua"
    return f"{line}\n{source}"


class FlaggedScript:
    """A script run with its flags declared, or without them on a server that cannot read
    them (found out on the first call, then remembered)."""

    def __init__(self, client: Any, source: str, flags: str = WRITES) -> None:
        self._flagged = client.register_script(with_flags(source, flags))
        self._plain = client.register_script(source)
        self._declare = True

    def __call__(self, keys: Sequence[Any] = (), args: Sequence[Any] = ()) -> Any:
        """Run the script on ``keys`` and ``args``."""
        if self._declare:
            try:
                return self._flagged(keys=keys, args=args)
            except exceptions.ResponseError as error:
                if _SHEBANG_REJECTED not in str(error):
                    raise
                self._declare = False
        return self._plain(keys=keys, args=args)
