"""HTML responses that may be a page or a fragment, and say so to caches."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template


def html_response(template: str, http_status: int = 200, **context: Any) -> Response:
    """``template`` rendered, varying with the htmx headers (it may be a page or a fragment)."""
    response = make_response(render_template(template, **context), http_status)
    response.vary.update(("HX-Request", "HX-History-Restore-Request"))
    return response
