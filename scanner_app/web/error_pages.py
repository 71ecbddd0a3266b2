"""The error pages: HTTP errors, unhandled exceptions and a lost cache, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, make_response
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from ..redis_door import CacheUnavailable
from ..scan.store import UNAVAILABLE_MESSAGE
from .fragments import html_response, wants_fragment

log = logging.getLogger(__name__)

NOT_FOUND_MESSAGE = "There is no page at this address."
SERVER_ERROR_MESSAGE = "Something went wrong on our side. Please try again in a moment."
MINIMAL_ERROR_PAGE = "<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>"


def error_response(code: int, title: str, message: str) -> Response:
    """The error page (or, for htmx, a short alert fragment) with ``code``.

    Falls back to a minimal page when the templates themselves fail, so an error page
    never turns into a traceback.
    """
    template = "partials/error.html" if wants_fragment() else "error.html"
    try:
        return html_response(template, code, code=code, title=title, message=message)
    except Exception as error:  # the page that reports errors must not raise one itself
        log.error("could not render the %s page: %s", code, error)
        page = MINIMAL_ERROR_PAGE.format(title=escape(title), message=escape(message))
        return make_response(page, code)


def _http_error(error: HTTPException) -> Response:
    """A 4xx/5xx from routing or a view, with its headers (such as Allow on a 405)."""
    code = error.code or 500
    messages = {404: NOT_FOUND_MESSAGE, 500: SERVER_ERROR_MESSAGE}
    response = error_response(code, error.name, messages.get(code, error.description or ""))
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _server_error(error: InternalServerError) -> Response:
    """An unhandled exception: logged by Flask, shown as a plain apology."""
    return error_response(500, "Server error", SERVER_ERROR_MESSAGE)


def _cache_unavailable(error: CacheUnavailable) -> Response:
    """Redis failed where a view did not expect it: 503 with the standard message."""
    log.warning("cache unavailable: %s", error)
    return error_response(503, "Service unavailable", UNAVAILABLE_MESSAGE)


def register_error_pages(app: Flask) -> None:
    """Render HTTP errors, unhandled exceptions and a lost cache as the app's error page."""
    for code in (400, 404, 405):
        app.register_error_handler(code, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(CacheUnavailable, _cache_unavailable)
