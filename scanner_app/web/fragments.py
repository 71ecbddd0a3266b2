"""How a request came: from htmx (and wanting a fragment) or from a plain browser."""

from __future__ import annotations

from flask import request


def is_htmx_request() -> bool:
    """Whether htmx sent the current request."""
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """Whether htmx asked for a fragment (a history restore wants the whole page)."""
    return is_htmx_request() and not request.headers.get("HX-History-Restore-Request")
