"""Alerts after a completed scan, end to end: a real SMTP server and a real HTTP receiver
on loopback get the message; what was alerted is not sent twice; failures are retried,
recorded and never change the scan; targets stay secret."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time

import pytest

from scanner_app.alerts.ledger import FAILED, PAUSE_AFTER, SENT
from scanner_app.alerts.message import MAX_ROWS, AlertMessage
from scanner_app.alerts.service import Pending
from scanner_app.alerts.threads import wait_for_deliveries
from scanner_app.scan.stopping import ScanInterrupted, stop_scans
from scanner_app.screens.definition import check_screen

from .accounts import create_user, log_in_as
from .alert_receivers import SMTP_PASSWORD, http_receiver, smtp_server, wait_for
from .production import PRODUCTION, log_in
from .screens_data import add_user, forget_screens, no_screens_left  # noqa: F401 (a fixture)
from .test_stopping import GatedMarket

PUBLIC = "https://scanner.example.com"

pytestmark = pytest.mark.usefixtures("no_screens_left")


@pytest.fixture
def alerts_app(make_app):
    """An app whose retries wait 10 ms (unless told), with no saved screens yet."""

    def build(keep_screens: bool = False, **overrides):
        app = make_app(**{"ALERT_RETRY_SECONDS": 0.01, "PUBLIC_URL": PUBLIC} | overrides)
        if not keep_screens:
            forget_screens(app.extensions["put_scanner"].database)
        return app

    return build


def scanner_of(app):
    return app.extensions["put_scanner"]


def local_user(app) -> int:
    from scanner_app.accounts.local_user import local_user_id

    return local_user_id(scanner_of(app).database)


def save(app, name: str, query: str, targets=(), user: int | None = None, shared=False):
    """Save a screen straight into the store."""
    owner = local_user(app) if user is None else user
    screen_name, parsed = check_screen(name, query)
    return scanner_of(app).screens.create(owner, screen_name, parsed, shared, targets)


def scan(app, scan_id: str) -> str:
    """Run a whole scan here and wait for its alerts; its outcome."""
    scanner = scanner_of(app)
    assert scanner.store.acquire_lock(scan_id)
    scanner.engine().run(scan_id)
    assert wait_for_deliveries(scan_id)
    return scanner.store.read_status().facts.outcome


def test_the_owner_gets_an_email_with_the_new_puts(alerts_app):
    app = alerts_app()
    with smtp_server() as (inbox, url):
        save(app, "Weekly income", "max_dte=60", [url])
        assert scan(app, "scan-1") == "completed"
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    body = mail.get_payload(decode=True).decode()
    count = int(mail["Subject"].split()[0])
    assert mail["Subject"] == f"{count} new puts for Weekly income" and count > 1
    assert body.splitlines()[0].split() == [
        "Ticker", "Expiration", "Strike", "Bid", "Annualized", "Delta", "IV", "rank"
    ]  # fmt: skip
    assert "AAPL" in body and f"Open the screen: {PUBLIC}/?max_dte=60" in body
    listed = body.replace("\r\n", "\n").split("\n\nOpen the screen")[0].splitlines()[1:]
    assert count > MAX_ROWS and len(listed) == MAX_ROWS + 1  # 25 rows, then the rest counted
    assert listed[-1] == f"and {count - MAX_ROWS} more"
    [delivery] = scanner_of(app).alerts.ledger.recent(None)
    assert (delivery.outcome, delivery.contracts) == (SENT, count)


def test_a_webhook_gets_each_new_contract_once_across_scans_and_restarts(alerts_app):
    with http_receiver() as receiver:
        app = alerts_app()
        save(app, "Everything", "", [receiver.url])
        scan(app, "scan-1")
        assert len(receiver.bodies) == 1
        assert "new puts for Everything" in receiver.bodies[0]["title"]
        scan(app, "scan-2")
        scan(alerts_app(keep_screens=True), "scan-3")  # a restart: a new app, same database
    assert len(receiver.bodies) == 1


def test_a_receiver_answering_500_is_retried_recorded_and_the_scan_unaffected(alerts_app):
    app = alerts_app()
    with http_receiver() as receiver:
        receiver.status = 500
        save(app, "Everything", "", [receiver.url])
        assert scan(app, "scan-1") == "completed"
        assert receiver.hits == 4  # the first try and 3 retries
    [delivery] = scanner_of(app).alerts.ledger.recent(None)
    assert delivery.outcome == FAILED and "error=500" in delivery.error
    assert "t0ken-abcdef" not in delivery.error


def test_a_failed_scan_alerts_nothing(alerts_app, demo_provider):
    app = alerts_app()
    with http_receiver() as receiver:
        save(app, "Everything", "", [receiver.url])
        scanner = scanner_of(app)
        engine = scanner.engine()
        engine.symbols = [*engine.symbols, "MISSING"]  # one ticker never scanned: not completed
        assert scanner.store.acquire_lock("partial")
        engine.begin("partial")
        engine.scan_batch("partial", engine.symbols[:-1])
        engine.finish("partial")
        wait_for_deliveries("partial")
        assert scanner.store.read_status().facts.outcome == "failed"
    assert receiver.hits == 0


def test_an_interrupted_scan_alerts_nothing(alerts_app, demo_provider):
    """A shutdown stops the scan after AAPL (published, matching the screen) while KO waits
    at its gate: it ends interrupted, sends nothing and records nothing; the next scan that
    completes alerts as usual."""
    market = GatedMarket(demo_provider, gated={"KO"})
    app = alerts_app(MARKET_PROVIDER=market, SCAN_CONCURRENCY=1)
    scanner = scanner_of(app)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            scanner.engine().run("stopped")
        except BaseException as error:
            raised.append(error)

    with http_receiver() as receiver:
        screen = save(app, "Everything", "", [receiver.url])
        assert scanner.store.acquire_lock("stopped")
        thread = threading.Thread(target=run)
        thread.start()
        try:
            wait_for(lambda: market.opened == ["AAPL", "KO"])
            stop_scans()
            thread.join(10)
        finally:
            market.gate.set()
        assert not thread.is_alive() and isinstance(raised[0], ScanInterrupted)
        assert wait_for_deliveries("stopped")
        facts = scanner.store.read_status().facts
        assert (facts.outcome, facts.done) == ("interrupted", 1)
        assert receiver.hits == 0
        assert scanner.alerts.ledger.recent(None) == []
        assert scanner.alerts.ledger.digests()[screen.id] is None  # nothing claimed either
        assert scan(app, "after") == "completed"
        assert len(receiver.bodies) == 1 and "AAPL" in receiver.bodies[0]["message"]


def test_a_target_is_paused_after_ten_failed_deliveries_until_re_enabled(alerts_app):
    app = alerts_app()
    scanner = scanner_of(app)
    with http_receiver() as receiver:
        receiver.status = 500
        screen = save(app, "Flaky", "", [receiver.url])
        pending = Pending(screen, 2, AlertMessage("2 new puts for Flaky", "table"))
        for _ in range(PAUSE_AFTER):
            scanner.alerts.deliver(pending, lambda _seconds: None)
        hits = receiver.hits
        paused = scanner.screens.find_own(screen.user_id, screen.id)
        assert paused.paused
        scanner.alerts.deliver(Pending(paused, 2, pending.message), lambda _seconds: None)
        assert receiver.hits == hits  # nothing sent to a paused target
    assert scanner.alerts.ledger.recent(None)[0].outcome == "paused"
    page = app.test_client().get("/screens").text
    assert "Paused: the last 10 deliveries to a target failed" in page
    app.test_client().post(f"/screens/{screen.id}/resume")
    assert not scanner.screens.find_own(screen.user_id, screen.id).paused


def test_targets_are_masked_and_never_logged(alerts_app, caplog):
    app = alerts_app()
    caplog.set_level(logging.INFO)  # the log level the app runs at
    with smtp_server() as (_inbox, url), http_receiver() as receiver:
        receiver.status = 500
        screen = save(app, "Secret", "", [url, receiver.url])
        scan(app, "scan-1")
        client = app.test_client()
        page = client.get("/screens").text
        answer = client.get("/api/screens").get_data(as_text=True)
        alerts = client.get("/api/alerts").get_data(as_text=True)
    for secret in (SMTP_PASSWORD, "t0ken-abcdef"):
        assert secret not in caplog.text and secret not in page
        assert secret not in answer and secret not in alerts
    assert "mailto://…@127.0.0.1/…" in page
    [listed] = client.get("/api/screens").get_json()["screens"]
    assert listed["id"] == screen.id and listed["targets"] == 2


def test_alerts_off_sends_nothing_and_hides_the_fields(alerts_app):
    app = alerts_app(ALERTS=False)
    with http_receiver() as receiver:
        screen = save(app, "Quiet", "", [receiver.url])
        scan(app, "scan-1")
        assert receiver.hits == 0
    client = app.test_client()
    page = client.get("/screens").text
    assert "Alert targets" not in page and "Send test" not in page
    assert client.post(f"/screens/{screen.id}/targets", data={"targets": ""}).status_code == 404
    assert "targets" not in client.get("/api/screens").get_json()["screens"][0]


def test_send_test_retries_like_a_delivery_and_says_how_each_target_went(alerts_app):
    app = alerts_app()
    with http_receiver() as steady, http_receiver() as flaky, http_receiver() as down:
        flaky.fail_first = 2
        down.status = 500
        urls = [steady.url, flaky.url, down.url]
        screen = save(app, "Weekly income", "max_dte=21", urls)
        response = app.test_client().post(f"/screens/{screen.id}/test", follow_redirects=True)
        hits = [receiver.hits for receiver in (steady, flaky, down)]
        titles = [body["title"] for body in steady.bodies + flaky.bodies]
    assert hits == [1, 3, 4]  # the first try and up to 3 retries, as a delivery gets
    assert titles == ["Test alert for Weekly income"] * 2
    said = re.findall(r"<li>json://127\.0\.0\.1/…: (.*?)</li>", response.text)
    assert said[:2] == ["sent.", "sent after 2 retries."]
    assert said[2].startswith("failed after 4 tries: ") and "error=500" in said[2]
    assert scanner_of(app).alerts.ledger.recent(None) == []  # a test is not a delivery


def test_a_shutdown_cuts_the_send_tests_retries_short(alerts_app):
    app = alerts_app(ALERT_RETRY_SECONDS=5)  # all the retries: 5 + 10 + 20 s of waits
    with http_receiver() as down:
        down.status = 500
        screen = save(app, "Down", "", [down.url])
        stopper = threading.Thread(target=lambda: (wait_for(lambda: down.hits), stop_scans()))
        stopper.start()
        started = time.monotonic()
        [outcome] = scanner_of(app).alerts.send_trial(screen)
        stopper.join()
    assert time.monotonic() - started < 4
    assert outcome.tries <= 2 and "error=500" in outcome.error


def test_flask_scan_waits_for_its_deliveries(alerts_app):
    app = alerts_app()
    with http_receiver() as receiver:
        save(app, "Everything", "", [receiver.url])
        result = app.test_cli_runner().invoke(args=["scan", "--force"])
        assert result.exit_code == 0, result.output
        assert len(receiver.bodies) == 1  # delivered before the command returned


def test_a_shared_screens_alerts_follow_its_owners_view(alerts_app):
    """Alerts belong to the owner: their watchlist narrows them unless scope=all."""
    app = alerts_app()
    scanner = scanner_of(app)
    bob = add_user(scanner.database)
    from sqlalchemy import insert

    from scanner_app.db.account_tables import WATCHLIST_ENTRIES

    with scanner.database.begin() as connection:
        connection.execute(insert(WATCHLIST_ENTRIES).values(user_id=bob, symbol="KO"))
    with http_receiver() as receiver:
        save(app, "Bob's", "", [receiver.url], user=bob, shared=True)
        save(app, "Bob's all", "scope=all", [receiver.url], user=bob)
        scan(app, "scan-1")
    titles = {body["title"].split(" for ")[1]: body["message"] for body in receiver.bodies}
    tickers = {line.split()[0] for line in titles["Bob's"].splitlines()[1:] if line.strip()}
    assert tickers - {"Open"} == {"KO"}
    assert "AAPL" in titles["Bob's all"]


def test_a_members_target_that_now_resolves_inward_is_refused_when_sent(alerts_app, monkeypatch):
    """DNS rebinding: ``localhost`` answered a public address when bob saved his target
    (the one DNS answer the test makes up); at delivery it resolves to loopback again."""
    app = alerts_app(**PRODUCTION)
    scanner = scanner_of(app)
    real_getaddrinfo = socket.getaddrinfo

    def public_localhost(host, *args, **kwargs):
        return real_getaddrinfo("93.184.216.34" if host == "localhost" else host, *args, **kwargs)

    create_user(app, "bob")
    bob, admin = app.test_client(), app.test_client()
    log_in_as(bob, "bob")
    log_in(admin)
    with http_receiver() as receiver:
        target = receiver.url.replace("127.0.0.1", "localhost")
        form = {"name": "Bob's", "query": "scope=all", "view": "puts", "targets": target}
        with monkeypatch.context() as dns:
            dns.setattr(socket, "getaddrinfo", public_localhost)
            assert bob.post("/screens", data=form).status_code == 303
        assert admin.post("/screens", data=form | {"name": "Admin's"}).status_code == 303
        scan(app, "scan-1")
        [screen] = [s for s in scanner.screens.everyone_alerting() if s.name == "Bob's"]
        tested = bob.post(f"/screens/{screen.id}/test", follow_redirects=True).text
        assert [body["title"].split(" for ")[1] for body in receiver.bodies] == ["Admin's"]
    refused = "refused: localhost now resolves to a loopback or private address"
    assert refused in tested
    outcomes = {d.screen: (d.outcome, d.error or "") for d in scanner.alerts.ledger.recent(None)}
    assert outcomes["Admin's"] == (SENT, "")
    assert outcomes["Bob's"][0] == FAILED and outcomes["Bob's"][1].startswith(refused)
