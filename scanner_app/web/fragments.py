"""Pages and fragments: whether htmx sent a request (and wants a fragment), and HTML responses
that may be either, so they say so to caches."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request


def is_htmx_request() -> bool:
    """Whether htmx sent the current request."""
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """Whether htmx asked for a fragment (a history restore wants the whole page)."""
    return is_htmx_request() and not request.headers.get("HX-History-Restore-Request")


def html_response(template: str, http_status: int = 200, **context: Any) -> Response:
    """``template`` rendered, varying with the htmx headers (it may be a page or a fragment)."""
    response = make_response(render_template(template, **context), http_status)
    response.vary.update(("HX-Request", "HX-History-Restore-Request"))
    return response
