"""Sending one message to one target through Apprise, retried with backoff.

A failed send is tried again 3 times, waiting ``base``, 2x and 4x ``base`` seconds between
tries (2 s by default: within a minute in all, with Apprise's own timeouts). The error kept
is Apprise's own words for the last failure with the target's secrets scrubbed out: a target
never reaches a log or a stored error. Apprise's log stays inside the app (its records are
read per call, never passed on to the process's handlers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import apprise
from tenacity import RetryError, Retrying, retry_if_result, stop_after_attempt, wait_exponential

from .message import AlertMessage

#: Tries of one send: the first and 3 retries.
ATTEMPTS = 4
#: Waits shorter than this are never scrubbed (a secret is longer).
SHORTEST_SECRET = 4
MAX_ERROR_LENGTH = 300


@dataclass(frozen=True)
class Sent:
    """How one send went: the last error (None: it went) and the tries made (0: none)."""

    error: str | None
    tries: int

    def said(self) -> str:
        """The outcome in words: "sent.", "sent after 2 retries.", "failed after 4 tries: …"."""
        if self.error is None:
            retries = self.tries - 1
            return (
                f"sent after {retries} retr{'y' if retries == 1 else 'ies'}."
                if retries
                else "sent."
            )
        tried = f" after {self.tries} tr{'y' if self.tries == 1 else 'ies'}" if self.tries else ""
        return f"failed{tried}: {self.error}"


def keep_apprise_quiet() -> None:
    """Keep Apprise's records out of the process's log handlers: its messages may name a
    target, and each send reads its own records instead."""
    logging.getLogger("apprise").propagate = False


def _secrets(url: str) -> list[str]:
    """The parts of ``url`` that may be secret: itself, its user, password, path segments
    and query values, longest first."""
    parts = urlsplit(url)
    pieces = [url, parts.username or "", parts.password or "", parts.netloc]
    pieces += parts.path.split("/") + [value for _key, value in parse_qsl(parts.query)]
    return sorted({piece for piece in pieces if len(piece) >= SHORTEST_SECRET}, key=len)[::-1]


def scrub(text: str, url: str) -> str:
    """``text`` without any secret part of ``url``, shortened."""
    for secret in _secrets(url):
        text = text.replace(secret, "•••")
    return text[:MAX_ERROR_LENGTH]


def send_once(url: str, message: AlertMessage) -> str | None:
    """Send ``message`` to ``url`` once; None when it went, else what went wrong."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return "the target is not an alert URL Apprise understands"
    try:
        result = notifier.notify(
            body=message.body,
            title=message.title,
            body_format=apprise.NotifyFormat.TEXT,
            log_level=logging.WARNING,
        )
    except Exception as error:  # a plugin's own failure: the delivery failed, nothing more
        return scrub(f"{type(error).__name__}: {error}", url)
    if result:
        return None
    said = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR")]
    return scrub("; ".join(said[-2:]) or "the target did not accept the message", url)


def send(
    url: str,
    message: AlertMessage,
    base: float,
    nap: Callable[[float], None],
    give_up: Callable[[], bool],
) -> Sent:
    """Send ``message`` to ``url``, retried with backoff; the last error (None: it went)
    and the tries made. ``nap`` waits between tries (a shutdown cuts it short) and
    ``give_up`` says to stop retrying."""
    retrying = Retrying(
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_exponential(multiplier=base, min=base, max=4 * base),
        retry=retry_if_result(lambda error: error is not None and not give_up()),
        sleep=nap,
    )
    try:
        error = retrying(send_once, url, message)
    except RetryError as failed:
        error = failed.last_attempt.result()
    return Sent(error, retrying.statistics["attempt_number"])
