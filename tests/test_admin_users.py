"""``/admin/users`` on SQLite and PostgreSQL: admins manage users, members get 403 on every
route, CSRF on every form, clear messages and never a 500 or a password hash."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from scanner_app.accounts.users import UsersStore
from scanner_app.db.account_tables import User
from scanner_app.scan.parts import APP_EXTENSION
from scanner_app.web.auth.routes import CSRF_MESSAGE
from tests.accounts import PASSWORD, create_user, log_in_as, password_hash
from tests.production import PRODUCTION

NEW = "a new long password"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
#: A time as every page writes one: ``Sun Dec 6, 2026 9:00 AM EST``.
TIME = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2} [AP]M E[SD]T")


@pytest.fixture
def app(make_app, database_url):
    """A production app on an empty database with the admin boss and the member alice."""
    app = make_app(**PRODUCTION, DATABASE_URL=database_url)
    create_user(app, "boss", role="admin")
    create_user(app, "alice")
    return app


def signed_in(app, username: str):
    """A client of ``app`` logged in as ``username``."""
    client = app.test_client()
    assert log_in_as(client, username).status_code == 302
    return client


def store_of(app) -> UsersStore:
    """The users store of ``app``."""
    return UsersStore(app.extensions[APP_EXTENSION].database)


def admin_requests(app) -> list[tuple[str, str]]:
    """(method, url) of every /admin route, with "alice" for the user in the URL."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("admin."):
                url = url_for(rule.endpoint, **dict.fromkeys(rule.arguments, "alice"))
                found += [(method, url) for method in rule.methods - {"HEAD", "OPTIONS"}]
    return sorted(found)


def test_members_get_403_on_every_admin_route(app):
    member = signed_in(app, "alice")
    requests = admin_requests(app)
    assert {method for method, _url in requests} == {"GET", "POST"} and len(requests) == 6

    for method, url in requests:
        response = member.open(url, method=method, data={"username": "x", "password": NEW})
        assert response.status_code == 403, (method, url)
    assert not store_of(app).find("alice").disabled
    assert [account.username for account in store_of(app).all()] == ["admin", "alice", "boss"]


def test_without_a_session_every_admin_route_goes_to_login(app):
    for method, url in admin_requests(app):
        response = app.test_client().open(url, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_local_mode_has_no_admin_page(make_app):
    assert make_app().test_client().get("/admin/users").status_code == 403


def test_the_list_shows_every_user_and_never_a_hash(app):
    html = signed_in(app, "boss").get("/admin/users").get_data(as_text=True)

    for name in ("admin", "alice", "boss (you)"):
        assert name in html
    assert "scrypt" not in html and password_hash(PASSWORD) not in html


def test_the_list_writes_times_as_every_page_does(app):
    """New York time with the zone named (``eastern_time``), not UTC."""
    with Session(app.extensions[APP_EXTENSION].database) as session, session.begin():
        alice = session.scalar(select(User).where(User.username == "alice"))
        alice.created_at = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)
        alice.last_login_at = datetime(2026, 7, 1, 13, 5, tzinfo=UTC)
    html = signed_in(app, "boss").get("/admin/users").get_data(as_text=True)

    row = re.search(r'<th scope="row">alice</th>(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells == [
        "member",
        "enabled",
        "Sun Dec 6, 2026 9:00 AM EST",
        "Wed Jul 1, 2026 9:05 AM EDT",
    ]
    # boss has just logged in; nobody has ever logged in as admin
    for name, last_login in (("boss (you)", TIME), ("admin", re.compile("never"))):
        row = re.search(rf'<th scope="row">{re.escape(name)}</th>(.*?)</tr>', html, re.S).group(1)
        created, last = re.findall(r"<td>([^<]*)</td>", row)[2:4]
        assert TIME.fullmatch(created) and last_login.fullmatch(last), (name, created, last)
    assert "UTC" not in html
    assert "Delete boss" not in html and "Delete alice" in html


@pytest.mark.parametrize("username", ["alice", "boss"])
def test_members_and_admins_alike_start_scans(app, username):
    client = signed_in(app, username)

    response = client.post("/scan")

    assert response.status_code == 303
    assert client.get("/api/scan").get_json()["outcome"] == "completed"


def test_only_admins_see_the_link_to_it(app):
    assert 'href="/admin/users"' in signed_in(app, "boss").get("/").get_data(as_text=True)
    assert 'href="/admin/users"' not in signed_in(app, "alice").get("/").get_data(as_text=True)


def test_an_admin_creates_a_member_who_can_log_in(app):
    admin = signed_in(app, "boss")

    response = admin.post(
        "/admin/users", data={"username": "Carol", "password": NEW, "role": "member"}
    )

    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    assert "Created carol." in admin.get("/admin/users").get_data(as_text=True)
    assert store_of(app).find("carol").role == "member"
    assert log_in_as(app.test_client(), "carol", NEW).status_code == 302


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"username": "alice", "password": NEW, "role": "member"}, "A user named alice exists"),
        ({"username": "dave", "password": "too short", "role": "member"}, "at least 12 characters"),
        ({"username": "dave", "password": "", "role": "member"}, "The password is empty."),
        ({"username": "no spaces", "password": NEW, "role": "member"}, "A username has 1 to 64"),
        (
            {"username": "dave", "password": NEW, "role": "owner"},
            "The role must be admin or member.",
        ),
        ({}, "A username has 1 to 64"),
    ],
)
def test_a_refused_creation_says_why_and_keeps_the_name(app, form, message):
    response = signed_in(app, "boss").post("/admin/users", data=form)

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html and 'role="alert"' in html
    assert "dave" not in [account.username for account in store_of(app).all()]


def test_disable_enable_reset_and_delete(app):
    admin = signed_in(app, "boss")

    assert admin.post("/admin/users/alice/disable").status_code == 303
    assert store_of(app).find("alice").disabled
    assert "Disabled alice; their sessions ended." in admin.get("/admin/users").get_data(
        as_text=True
    )
    assert admin.post("/admin/users/alice/enable").status_code == 303
    assert not store_of(app).find("alice").disabled
    assert admin.post("/admin/users/alice/password", data={"password": NEW}).status_code == 303
    assert store_of(app).authenticate("alice", NEW) is not None
    assert admin.post("/admin/users/alice/delete").status_code == 303
    assert "alice" not in [account.username for account in store_of(app).all()]


@pytest.mark.parametrize("action", ["disable", "delete"])
def test_an_admin_cannot_disable_or_delete_themselves(app, action):
    response = signed_in(app, "boss").post(f"/admin/users/boss/{action}")

    assert response.status_code == 400
    assert "You cannot" in response.get_data(as_text=True)
    assert not store_of(app).find("boss").disabled


@pytest.mark.parametrize(
    ("url", "form", "message"),
    [
        ("/admin/users/nobody/disable", {}, "No user is named &#39;nobody&#39;."),
        ("/admin/users/nobody/password", {"password": NEW}, "No user is named"),
        ("/admin/users/alice/password", {"password": "short"}, "at least 12 characters"),
    ],
)
def test_a_refused_change_says_why(app, url, form, message):
    response = signed_in(app, "boss").post(url, data=form)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert store_of(app).authenticate("alice", PASSWORD) is not None


def test_every_form_needs_its_csrf_token(make_app, database_url):
    app = make_app(**PRODUCTION, DATABASE_URL=database_url, WTF_CSRF_ENABLED=True)
    create_user(app, "boss", role="admin")
    create_user(app, "alice")
    admin = app.test_client()
    token = TOKEN.search(admin.get("/login").get_data(as_text=True)).group(1)
    form = {"username": "boss", "password": PASSWORD, "csrf_token": token}
    assert admin.post("/login", data=form).status_code == 302
    page = admin.get("/admin/users").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 5  # create, and each row's forms, and logout

    for url in ("/admin/users", "/admin/users/alice/disable", "/admin/users/alice/delete"):
        refused = admin.post(url, data={"username": "eve", "password": NEW, "role": "member"})
        assert refused.status_code == 400 and CSRF_MESSAGE in refused.get_data(as_text=True)
    assert [account.username for account in store_of(app).all()] == ["admin", "alice", "boss"]
    token = TOKEN.search(page).group(1)
    accepted = admin.post("/admin/users/alice/disable", data={"csrf_token": token})
    assert accepted.status_code == 303


def test_a_database_down_is_a_503_never_a_500(app, make_app):
    cookie = signed_in(app, "boss").get_cookie("session").value
    down = make_app(**PRODUCTION, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    client = down.test_client()
    client.set_cookie("session", cookie)

    for method, url in (("GET", "/admin/users"), ("POST", "/admin/users/alice/disable")):
        response = client.open(url, method=method)
        assert response.status_code == 503
        assert "the database did not answer" in response.get_data(as_text=True)
