"""Errors of the JSON API and the CSV download, answered in JSON, never as an HTML page."""

from __future__ import annotations

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed


def is_api_request() -> bool:
    """Whether the current request is for the API (answered in JSON, never HTML)."""
    return request.path.startswith("/api/") or request.path == "/options.csv"


def json_error(message: str, status: int) -> Response:
    """``{"error": message}`` with ``status``."""
    response = jsonify(error=message)
    response.status_code = status
    return response


def json_http_error(error: HTTPException) -> Response:
    """Any HTTP error inside an API view (a 500 included) as JSON."""
    response = json_error(error.description or error.name, error.code or 500)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def json_routing_error() -> Response | None:
    """A ``before_request`` hook: an unknown API URL or method gets a JSON 404/405.

    Routing errors never reach blueprint error handlers, so they are caught here.
    """
    error = request.routing_exception
    if isinstance(error, HTTPException) and (error.code or 0) >= 400 and is_api_request():
        return json_http_error(error)
    return None
