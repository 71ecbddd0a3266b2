"""The Host header, checked before Flask sees the request.

A malformed Host (``a..b``) would make routing fail and every URL built from the request
(the login redirect) raise; a Host naming another site is how DNS rebinding lets a page
elsewhere read a local-mode app. Both get a short 400 and one INFO line in the log.

Local mode accepts the loopback names (``localhost``, ``127.0.0.1``, ``[::1]``, any port);
``TRUSTED_HOSTS`` (Flask's setting, comma-separated in the environment) adds names in both
modes. Production without ``TRUSTED_HOSTS`` accepts any well-formed name. The check is done
here rather than by Flask's own, because Werkzeug's cannot match an IPv6 address.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
MALFORMED = "malformed Host header"
NOT_ALLOWED = "Host not allowed here (add it to TRUSTED_HOSTS)"

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_IPV6 = re.compile(r"\[([0-9a-f:.]+)\](?::(\d{1,5}))?")
_NAME = re.compile(r"([^:]+)(?::(\d{1,5}))?")


def host_name(header: str) -> str | None:
    """The name in a ``Host`` header without its port, lower-cased (an IPv6 address
    compressed, without brackets); None when the header is malformed."""
    value = header.strip().lower()
    ipv6 = _IPV6.fullmatch(value)
    match = ipv6 or _NAME.fullmatch(value)
    if match is None:
        return None
    name, port = match.groups()
    if port is not None and not 1 <= int(port) <= 65535:
        return None
    if ipv6:
        try:
            return str(ipaddress.IPv6Address(name))
        except ValueError:
            return None
    name = name.removesuffix(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        return None
    return name


def _normalized(entry: str) -> str:
    """A trusted name as ``host_name`` gives it (``[::1]`` -> ``::1``)."""
    entry = entry.strip().lower()
    try:
        return str(ipaddress.ip_address(entry.strip("[]")))
    except ValueError:
        return entry.removesuffix(".")


class HostCheck:
    """WSGI middleware: answer 400 to a malformed or, when ``allowed`` names any, unlisted
    Host. A name in ``allowed`` that starts with a dot takes every subdomain."""

    def __init__(self, app: Callable[..., Any], allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(_normalized(name) for name in allowed)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        header = environ.get("HTTP_HOST")
        if header is not None:
            refusal = self._refusal(header)
            if refusal is not None:
                log.info("400 for Host %r from %s: %s", header, environ.get("REMOTE_ADDR"), refusal)
                body = f"Bad request: {refusal}.\n".encode()
                start_response(
                    "400 Bad Request",
                    [
                        ("Content-Type", "text/plain; charset=utf-8"),
                        ("Content-Length", str(len(body))),
                        ("X-Content-Type-Options", "nosniff"),
                    ],
                )
                return [body]
        return self.app(environ, start_response)

    def _refusal(self, header: str) -> str | None:
        name = host_name(header)
        if name is None:
            return MALFORMED
        if not self.allowed or self._listed(name):
            return None
        return NOT_ALLOWED

    def _listed(self, name: str) -> bool:
        if name in self.allowed:
            return True
        return any(entry.startswith(".") and name.endswith(entry) for entry in self.allowed)


def init_host_check(app: Any) -> None:
    """Check every request's Host: the loopback names in local mode, plus ``TRUSTED_HOSTS``.

    This check replaces Flask's own (whose refusal would reach the views as a routing error,
    and which refuses ``[::1]``), so Flask's is turned off.
    """
    trusted = list(app.config.get("TRUSTED_HOSTS") or ())
    if app.config["SCANNER_ENV"] != "production":
        trusted += LOOPBACK_NAMES
    app.config["TRUSTED_HOSTS"] = None
    app.wsgi_app = HostCheck(app.wsgi_app, trusted)
