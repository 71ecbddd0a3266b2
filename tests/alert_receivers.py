"""Real receivers for alert tests, on loopback only: an SMTP server (aiosmtpd) that takes
a login, and an HTTP server that records each JSON POST and answers a chosen status (or
500 to its first few POSTs)."""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER, SMTP_PASSWORD = "alerts", "s3cret-smtp-pass"


class HttpReceiver:
    """Records the JSON bodies POSTed to it; answers 500 to the first ``fail_first`` POSTs,
    then ``status`` (200 by default)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.status = 200
        self.fail_first = 0
        self.hits = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                receiver.hits += 1
                status = 500 if receiver.hits <= receiver.fail_first else receiver.status
                if status == 200:
                    receiver.bodies.append(json.loads(raw))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The Apprise URL of this receiver."""
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook/t0ken-abcdef"


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    """An HTTP receiver on loopback for the block."""
    receiver = HttpReceiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


class _Inbox:
    """aiosmtpd's handler: keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    """Accept only the test's user and password."""
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (SMTP_USER, SMTP_PASSWORD)
    return AuthResult(success=ok)


def _free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server() -> Iterator[tuple[_Inbox, str]]:
    """An SMTP server on loopback (plain, login required) and the mailto:// URL that
    reaches it."""
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        url = (
            f"mailto://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}"
            "?mode=insecure&from=scanner@example.com&to=trader@example.com"
        )
        yield inbox, url
    finally:
        controller.stop()


def wait_for(predicate, seconds: float = 20) -> None:
    """Wait until ``predicate()`` is true (fail after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)
