"""Security headers on every response: a strict CSP, no framing, no sniffing, no caching of data."""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

#: Response types that carry scan results or session data, so no cache may keep them.
PRIVATE_MIMETYPES = frozenset({"text/html", "application/json", "text/csv"})


def add_security_headers(response: Response) -> Response:
    """Set the security headers, and ``Cache-Control: no-store`` on pages, JSON and CSV.

    A response that chose its own Cache-Control keeps it; static files keep theirs.
    """
    response.headers.update(SECURITY_HEADERS)
    if response.mimetype in PRIVATE_MIMETYPES and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def init_security_headers(app: Flask) -> None:
    """Add the headers to every response of ``app``, error pages included."""
    app.after_request(add_security_headers)
