"""The app as gunicorn serves it, plus the poll bench's floor route.

``gunicorn 'bench.poll_app:create_bench_app()'``: the app built from the environment, as
``wsgi:app`` is, with ``GET /bench/floor`` added. The floor goes through the same hooks and
settings as every route, makes one Redis GET and answers 204: the least a poll can cost.
"""

from __future__ import annotations

from flask import Flask, Response

from scanner_app import create_app
from scanner_app.redis_door import RedisDoor

FLOOR_PATH = "/bench/floor"


def create_bench_app() -> Flask:
    """The app of ``wsgi.py`` with the floor route."""
    app = create_app()
    door = RedisDoor.of(app)
    version_key = door.keys("version")

    @app.get(FLOOR_PATH)
    def floor() -> Response:
        """One Redis GET, then 204."""
        door.read_client.get(version_key)
        return Response(status=204)

    return app
