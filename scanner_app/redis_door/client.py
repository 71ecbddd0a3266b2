"""The app's Redis clients, taken once from its Flask-Caching backend.

Flask-Caching keeps its redis-py clients in private attributes; this is the one place that
reads them, so a change in Flask-Caching touches one function.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import Flask, current_app

from ..extensions import cache
from .keys import Keys

EXTENSION = "redis_door"


@dataclass(frozen=True)
class RedisDoor:
    """The app's Redis: the client for reads (a replica's where the backend has one), the
    client for writes (the primary's, so a write reads back at once) and the key names."""

    read_client: redis.Redis
    write_client: redis.Redis
    keys: Keys

    @classmethod
    def of(cls, app: Flask) -> RedisDoor:
        """``app``'s door, built on first use from its cache (``cache.init_app`` first)."""
        door = app.extensions.get(EXTENSION)
        if door is None:
            backend = app.extensions["cache"][cache]
            door = cls(
                read_client=backend._read_client,
                write_client=backend._write_client,
                keys=Keys.from_settings(app.config),
            )
            app.extensions[EXTENSION] = door
        return door


def current_door() -> RedisDoor:
    """The door of the app handling the current request or command."""
    return RedisDoor.of(current_app)
