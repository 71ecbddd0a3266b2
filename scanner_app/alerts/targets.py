"""Alert targets: Apprise URLs, one per line, checked when saved and shown back masked.

A target is a secret (a webhook's token, a mail password): it is shown masked, never
logged, never in an API answer. In production only admins may add a target that reaches a
loopback or private address (the host names are resolved): a member's webhook must not
become a way into the server's own network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urlsplit

import apprise

MAX_TARGETS = 10
MAX_URL_LENGTH = 2000
#: Schemes whose URL names the server that is reached (the rest reach a service's API).
HOST_SCHEMES = frozenset(
    {
        "json",
        "jsons",
        "xml",
        "xmls",
        "form",
        "forms",
        "mailto",
        "mailtos",
        "ntfy",
        "ntfys",
        "gotify",
        "gotifys",
        "mmost",
        "mmosts",
        "rocket",
        "rockets",
        "matrix",
        "matrixs",
        "apprise",
        "apprises",
    }
)
#: Query arguments that name another server to reach (an email's SMTP host).
HOST_ARGUMENTS = ("smtp",)

Resolver = Callable[[str], list[str]]


class TargetError(ValueError):
    """Targets that cannot be saved (each message says which line and why)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


def resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to ([] when it does not resolve)."""
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (OSError, UnicodeError):
        return []


def masked(url: str) -> str:
    """``url`` with everything after its scheme's first characters hidden: enough to tell
    targets apart, nothing to use."""
    scheme, _, rest = url.partition("://")
    if not rest:
        return "•••"
    shown = urlsplit(url).hostname or ""
    if shown and urlsplit(url).scheme in HOST_SCHEMES:
        return f"{scheme}://…@{shown}/…" if "@" in rest else f"{scheme}://{shown}/…"
    return f"{scheme}://{rest[:3]}…"


def split_lines(text: str) -> list[str]:
    """The URLs in ``text``: one a line, blank lines skipped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _private(address: str) -> bool:
    """Whether ``address`` is loopback, private, link-local or otherwise not public."""
    return not ipaddress.ip_address(address.split("%")[0]).is_global


def _hosts(url: str) -> list[str]:
    """The servers a target URL reaches by name (its host, an email's SMTP server)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in HOST_SCHEMES:
        return []
    hosts = [parts.hostname] if parts.hostname else []
    arguments = dict(parse_qsl(parts.query))
    return hosts + [arguments[name] for name in HOST_ARGUMENTS if arguments.get(name)]


def inner_address(url: str, resolver: Resolver = resolve) -> str | None:
    """The host of ``url`` that is (or resolves to) a loopback or private address; None
    when every host it reaches is public."""
    for host in _hosts(url):
        try:
            addresses = [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            addresses = resolver(host)
            if not addresses:
                return host  # unresolvable now: it may resolve inward later
        if any(_private(address) for address in addresses):
            return host
    return None


def check_targets(
    lines: Iterable[str], *, may_reach_inside: bool, resolver: Resolver = resolve
) -> list[str]:
    """The target URLs, each one Apprise understands; TargetError naming each bad line.

    ``may_reach_inside`` (local mode, or an admin): a target may reach a loopback or
    private address.
    """
    urls = list(lines)
    messages: list[str] = []
    if len(urls) > MAX_TARGETS:
        messages.append(f"At most {MAX_TARGETS} targets per screen.")
    for number, url in enumerate(urls, start=1):
        if len(url) > MAX_URL_LENGTH or apprise.Apprise.instantiate(url) is None:
            messages.append(
                f"Target {number} is not an alert URL Apprise understands "
                "(such as mailtos://, json://, discord://, ntfy://)."
            )
        elif not may_reach_inside and (host := inner_address(url, resolver)) is not None:
            messages.append(
                f"Target {number} reaches {host}, a loopback or private address (or one "
                "that does not resolve): only an admin may add it."
            )
    if messages:
        raise TargetError(messages)
    return urls
