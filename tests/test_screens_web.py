"""Saved screens in the browser and the API: saving the dashboard's view with its
messages, applying, the page's actions, and one user never reaching another's private
screen."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from scanner_app.accounts.local_user import local_user_id
from scanner_app.alerts.targets import TargetError, check_targets
from scanner_app.alerts.threads import wait_for_deliveries
from scanner_app.db.account_tables import USERS
from scanner_app.screens.definition import check_screen
from scanner_app.screens.query import parse_filters

from .accounts import create_user, log_in_as
from .production import ADMIN, PRODUCTION, log_in
from .screens_data import add_user, forget_screens, no_screens_left  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("no_screens_left")


@pytest.fixture
def web(make_app):
    """A local-mode app with no saved screens, its client, and its scanner."""
    app = make_app()
    scanner = app.extensions["put_scanner"]
    forget_screens(scanner.database)
    return app, app.test_client(), scanner


def test_the_dashboard_saves_its_view_and_lists_it(web):
    _app, client, scanner = web
    page = client.get("/?min_annualized=40").text
    assert "Save screen" in page and 'value="min_annualized=40"' in page
    saved = client.post(
        "/screens", data={"name": "Weekly income", "query": "min_annualized=40&max_dte=21"}
    )
    assert saved.status_code == 303
    [screen] = client.get("/api/screens").get_json()["screens"]
    assert screen["name"] == "Weekly income" and screen["view"] == "puts"
    assert screen["url"] == "/?min_annualized=40&max_dte=21" and screen["mine"]
    assert "Weekly income" in client.get("/").text and "Weekly income" in client.get("/calls").text
    applied = client.get(f"/screens/{screen['id']}/apply")
    assert applied.status_code == 303 and applied.location == "/?min_annualized=40&max_dte=21"


def test_a_calls_view_is_saved_as_calls(web):
    _app, client, _scanner = web
    client.post("/screens", data={"name": "Calls", "query": "min_annualized=20", "view": "calls"})
    [screen] = client.get("/api/screens").get_json()["screens"]
    assert screen["view"] == "calls" and screen["url"] == "/calls?min_annualized=20"


def test_a_bad_query_is_refused_with_the_dashboards_messages(web):
    _app, client, _scanner = web
    response = client.post("/screens", data={"name": "Bad", "query": "min_annualized=lots"})
    assert response.status_code == 400
    [message] = parse_filters({"min_annualized": "lots"})[1]
    assert message in response.text
    assert client.get("/api/screens").get_json()["screens"] == []
    assert "Name the screen." in client.post("/screens", data={"name": " "}).text


def test_the_page_renames_shares_sets_targets_and_deletes(web):
    _app, client, scanner = web
    client.post("/screens", data={"name": "Old", "query": ""})
    [screen] = scanner.screens.visible(local_user_id(scanner.database))
    client.post(f"/screens/{screen.id}/rename", data={"name": "New"})
    client.post(f"/screens/{screen.id}/share", data={"shared": "1"})
    client.post(f"/screens/{screen.id}/targets", data={"targets": "json://127.0.0.1:9/hook\n\n"})
    changed = scanner.screens.find(screen.user_id, screen.id)
    assert (changed.name, changed.shared, len(changed.targets)) == ("New", True, 1)
    bad = client.post(f"/screens/{screen.id}/targets", data={"targets": "nonsense"})
    assert bad.status_code == 400 and "Target 1 is not an alert URL" in bad.text
    client.post(f"/screens/{screen.id}/delete")
    assert scanner.screens.find(screen.user_id, screen.id) is None


def test_another_users_private_screen_is_not_found_anywhere(web):
    _app, client, scanner = web
    bob = add_user(scanner.database)
    name, query = check_screen("Bob's secret", "min_annualized=99")
    private = scanner.screens.create(bob, name, query, targets=["json://127.0.0.1:9/x"])
    shared = scanner.screens.create(bob, "Bob's shared", query, shared=True)
    for path in ("rename", "share", "targets", "resume", "test", "delete"):
        response = client.post(f"/screens/{private.id}/{path}", data={"name": "x", "targets": ""})
        assert response.status_code == 404, path
        assert client.post(f"/screens/{shared.id}/{path}", data={"name": "x"}).status_code == 404
    assert client.get(f"/screens/{private.id}/apply").status_code == 404
    assert client.get(f"/screens/{shared.id}/apply").status_code == 303
    names = [s["name"] for s in client.get("/api/screens").get_json()["screens"]]
    assert names == ["Bob's shared"]
    assert "Bob's secret" not in client.get("/screens").text
    assert "Bob's secret" not in client.get("/").text
    kept = scanner.screens.find(bob, private.id)
    assert kept.name == "Bob's secret" and len(kept.targets) == 1


def test_a_member_sees_their_own_deliveries_an_admin_everyones(web):
    _app, client, scanner = web
    me = local_user_id(scanner.database)
    bob = add_user(scanner.database)
    mine = scanner.screens.create(me, "Mine", check_screen("x", "")[1])
    theirs = scanner.screens.create(bob, "Theirs", check_screen("x", "")[1])
    scanner.alerts.ledger.record(mine.id, None, 1, "sent")
    scanner.alerts.ledger.record(theirs.id, None, 2, "failed", "no")
    everyone = client.get("/api/alerts").get_json()["deliveries"]
    assert {d["screen"] for d in everyone} == {"Mine", "Theirs"}  # local mode's user: admin
    with scanner.database.begin() as connection:
        connection.execute(update(USERS).where(USERS.c.id == me).values(role="member"))
    [own] = client.get("/api/alerts").get_json()["deliveries"]
    assert own["screen"] == "Mine" and set(own) >= {"created_at", "contracts", "outcome", "error"}


def test_the_last_alert_is_timed_as_every_page_writes_a_time(web):
    _app, client, scanner = web
    mine = scanner.screens.create(local_user_id(scanner.database), "Mine", check_screen("x", "")[1])
    scanner.alerts.ledger.record(mine.id, None, 3, "sent")  # at the frozen clock's time
    page = " ".join(client.get("/screens").text.split())
    assert "Last alert: sent, 3 contract(s), Wed Nov 18, 2026 11:00 AM EST" in page


def test_a_member_in_production_may_not_alert_a_private_address(make_app):
    app = make_app(**PRODUCTION)
    scanner = app.extensions["put_scanner"]
    forget_screens(scanner.database)
    member = create_user(app, "bob")
    client = app.test_client()
    log_in_as(client, "bob")
    screen = scanner.screens.create(member, "S", check_screen("x", "")[1])
    refused = client.post(f"/screens/{screen.id}/targets", data={"targets": "json://127.0.0.1/x"})
    assert refused.status_code == 400 and "a loopback or private address" in refused.text
    assert scanner.screens.find(member, screen.id).targets == ()

    admin = app.test_client()
    log_in(admin)
    admin_id = create_user(app, ADMIN, role="admin")
    own = scanner.screens.create(admin_id, "S", check_screen("x", "")[1])
    admin.post(f"/screens/{own.id}/targets", data={"targets": "json://127.0.0.1/x"})
    assert len(scanner.screens.find(admin_id, own.id).targets) == 1


def test_host_names_are_resolved_before_a_member_may_use_them():
    inside = {"hooks.internal": ["10.1.2.3"], "hooks.example.com": ["93.184.216.34"]}
    resolver = lambda host: inside.get(host, [])  # noqa: E731
    ok = check_targets(
        ["json://hooks.example.com/x", "discord://1234/abcd"],
        may_reach_inside=False,
        resolver=resolver,
    )
    assert len(ok) == 2
    for url in (
        "json://hooks.internal/x",
        "json://[::1]:8080/x",
        "mailtos://u:p@example.com?smtp=hooks.internal",
        "json://nowhere.invalid/x",
    ):
        with pytest.raises(TargetError, match="only an admin may add it"):
            check_targets([url], may_reach_inside=False, resolver=resolver)
    assert check_targets(["json://hooks.internal/x"], may_reach_inside=True, resolver=resolver)


def test_a_database_that_does_not_answer_is_said_and_loses_no_scan(make_app):
    app = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:9/nowhere")
    client = app.test_client()
    answer = client.get("/api/screens")
    assert answer.status_code == 503
    assert "the database did not answer" in answer.get_json()["error"]
    assert client.get("/screens").status_code == 503
    dashboard = client.get("/")
    assert dashboard.status_code == 200 and "Saved screens are unavailable" in dashboard.text
    assert client.post("/scan").status_code in (200, 302, 303)
    facts = app.extensions["put_scanner"].store.read_status().facts
    assert facts.outcome == "completed"  # its alerts were skipped, the scan was not
    assert wait_for_deliveries(facts.scan_id)
