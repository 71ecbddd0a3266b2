"""The watchlists' copies in Redis: the last known universe (``<prefix>universe``, JSON),
which a scan reads when the database is down, and each user's symbols
(``<prefix>user:<id>:symbols``, a sorted set), which their dashboard pages are cut from
without walking the universe. The database stays the source: both are rewritten from it
whenever a watchlist changes and whenever a scan starts."""

from __future__ import annotations

import json
from collections.abc import Iterable

import redis

from ..redis_door import Keys
from ..stored_json import load_json
from .universe import Universe

#: How long the copies live after their last write (every change and every scan start
#: rewrites them): a month, so an idle team's copy is still there for a scan that starts
#: while the database is down, and a forgotten prefix goes away by itself.
COPY_TTL = 30 * 24 * 3600


def _write_symbols(pipe: redis.client.Pipeline, key: str, symbols: Iterable[str]) -> None:
    """Queue the rewrite of the sorted set ``key`` as ``symbols`` (gone when none)."""
    pipe.delete(key)
    members = dict.fromkeys(symbols, 0)
    if members:
        pipe.zadd(key, members)
        pipe.expire(key, COPY_TTL)


def save_universe(
    client: redis.Redis, keys: Keys, universe: Universe, users: Iterable[int] = ()
) -> None:
    """Store ``universe`` and its users' symbol sets (and empty ones for ``users`` who have
    none left) in one transaction; raises a Redis error when Redis fails."""
    by_user = universe.by_user()
    with client.pipeline() as pipe:
        pipe.set(keys.universe, json.dumps(universe.to_list()), ex=COPY_TTL)
        for user_id in {*by_user, *users}:
            _write_symbols(pipe, keys.user_symbols(user_id), by_user.get(user_id, ()))
        pipe.execute()


def load_universe(client: redis.Redis, keys: Keys) -> Universe | None:
    """The last universe stored; None when there is none (or it is garbage); raises a
    Redis error when Redis fails."""
    return Universe.from_list(load_json(client.get(keys.universe)))


def save_user_symbols(client: redis.Redis, keys: Keys, user_id: int, symbols: list[str]) -> None:
    """Store one user's symbol set; raises a Redis error when Redis fails."""
    with client.pipeline() as pipe:
        _write_symbols(pipe, keys.user_symbols(user_id), symbols)
        pipe.execute()
