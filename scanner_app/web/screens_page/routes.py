"""Saved screens in the browser: save the dashboard's view, the /screens page (rename,
delete, share, targets, Send test), applying a screen, and ``/api/screens`` and
``/api/alerts``.

Every route that takes a screen id answers 404 unless the user may see it: their own
screen, or one shared with the team (applied only, never changed). Targets are shown
masked and never leave in an answer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, flash, jsonify, redirect, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from ...alerts.message import VIEW_PATHS
from ...alerts.targets import TargetError, check_targets, masked, split_lines
from ...db import describe_database_error
from ...screens.definition import ScreenError, applied_args, check_screen
from ...screens.saved_screens import SavedScreen
from ...services import Scanner, current_scanner
from ..auth.identity import current_user_id
from ..error_pages import error_response
from ..fragments import html_response
from ..json_errors import is_api_request, json_error

bp = Blueprint("screens", __name__)


@bp.app_context_processor
def screens_panel() -> dict[str, Any]:
    """``saved_screens()`` for the dashboard's list: the screens the user may apply, or
    the database's failure in words."""

    def saved_screens() -> tuple[list[SavedScreen], str | None]:
        try:
            return current_scanner().screens.visible(current_user_id()), None
        except SQLAlchemyError as error:
            return [], describe_database_error(error)

    return {"saved_screens": saved_screens}


@bp.errorhandler(SQLAlchemyError)
def database_down(error: SQLAlchemyError) -> Response:
    """The database did not answer: said plainly, in JSON under /api/."""
    message = f"Saved screens are unavailable: {describe_database_error(error)}."
    if is_api_request():
        return json_error(message, 503)
    return error_response(503, "Saved screens unavailable", message)


def screen_url(screen: SavedScreen) -> str:
    """The dashboard's URL with the screen applied."""
    args = urlencode(dict(applied_args(screen.query)))
    return VIEW_PATHS[screen.view] + (f"?{args}" if args else "")


def _own(screen_id: int) -> tuple[Scanner, int, SavedScreen]:
    """The scanner, the user and their own screen ``screen_id`` (404 otherwise)."""
    scanner = current_scanner()
    user_id = current_user_id()
    screen = scanner.screens.find_own(user_id, screen_id)
    if screen is None:
        abort(404)
    return scanner, user_id, screen


def _may_reach_inside(scanner: Scanner, user_id: int) -> bool:
    """Whether the user may add targets on loopback or private addresses."""
    return scanner.local_mode or scanner.screens.is_admin(user_id)


def _page(messages: list[str] | None = None, status: int = 200, **form: Any) -> Response:
    """The screens page: the user's screens, those shared with them, and messages."""
    scanner = current_scanner()
    user_id = current_user_id()
    screens = scanner.screens.visible(user_id)
    alerts = scanner.alerts
    outcomes = alerts.ledger.last_outcomes(s.id for s in screens) if alerts else {}
    return html_response(
        "screens/page.html",
        status,
        own=[screen for screen in screens if screen.mine(user_id)],
        shared=[screen for screen in screens if not screen.mine(user_id)],
        outcomes=outcomes,
        alerts_on=alerts is not None,
        messages=messages or [],
        form=form,
        screen_url=screen_url,
        masked=masked,
    )


@bp.get("/screens")
def page() -> Response:
    """The screens page."""
    return _page()


@bp.post("/screens")
def save() -> Response:
    """Save the view in ``query`` (puts or calls: ``view``) under ``name``, with optional
    ``targets`` (one per line) and ``shared``; the messages on the page when it cannot."""
    scanner = current_scanner()
    user_id = current_user_id()
    name = request.form.get("name", "")
    query = request.form.get("query", "")
    view = request.form.get("view", "puts")
    lines = split_lines(request.form.get("targets", ""))
    try:
        name, parsed = check_screen(name, query, view)
        if lines and scanner.alerts is None:
            raise TargetError(["Alerts are off (ALERTS=off): targets are not saved."])
        targets = check_targets(lines, may_reach_inside=_may_reach_inside(scanner, user_id))
        screen = scanner.screens.create(
            user_id, name, parsed, bool(request.form.get("shared")), targets
        )
    except (ScreenError, TargetError) as error:
        return _page(error.messages, 400, name=name, query=query, view=view)
    flash(f"Saved screen “{screen.name}”.")
    return redirect(url_for(".page", _anchor=f"screen-{screen.id}"), 303)


@bp.get("/screens/<int:screen_id>/apply")
def apply(screen_id: int) -> Response:
    """The dashboard with the screen applied (the user's, or a shared one)."""
    screen = current_scanner().screens.find(current_user_id(), screen_id)
    if screen is None:
        abort(404)
    return redirect(screen_url(screen), 303)


@bp.post("/screens/<int:screen_id>/rename")
def rename(screen_id: int) -> Response:
    """Rename the user's screen (``name``)."""
    scanner, user_id, screen = _own(screen_id)
    try:
        name, _query = check_screen(request.form.get("name", ""), screen.query, screen.view)
        scanner.screens.update(user_id, screen.id, name=name)
    except ScreenError as error:
        return _page(error.messages, 400)
    flash(f"Renamed to “{name}”.")
    return _back(screen)


@bp.post("/screens/<int:screen_id>/share")
def share(screen_id: int) -> Response:
    """Share the user's screen with the team (``shared=1``) or keep it private."""
    scanner, user_id, screen = _own(screen_id)
    shared = request.form.get("shared") == "1"
    scanner.screens.update(user_id, screen.id, shared=shared)
    flash(f"“{screen.name}” is {'shared with the team' if shared else 'private'}.")
    return _back(screen)


@bp.post("/screens/<int:screen_id>/targets")
def targets(screen_id: int) -> Response:
    """Replace the screen's targets with ``targets`` (one per line; none removes them).
    An edit re-enables a paused target."""
    scanner, user_id, screen = _own(screen_id)
    if scanner.alerts is None:
        abort(404)
    try:
        urls = check_targets(
            split_lines(request.form.get("targets", "")),
            may_reach_inside=_may_reach_inside(scanner, user_id),
        )
    except TargetError as error:
        return _page(error.messages, 400)
    scanner.screens.replace_targets(user_id, screen.id, urls)
    flash(f"“{screen.name}” alerts {len(urls)} target(s).")
    return _back(screen)


@bp.post("/screens/<int:screen_id>/resume")
def resume(screen_id: int) -> Response:
    """Re-enable the screen's paused targets."""
    scanner, user_id, screen = _own(screen_id)
    scanner.screens.resume_targets(user_id, screen.id)
    flash(f"“{screen.name}”'s targets are enabled again.")
    return _back(screen)


@bp.post("/screens/<int:screen_id>/test")
def send_test(screen_id: int) -> Response:
    """Send the test message to each of the screen's targets now, retried like a delivery
    (within a minute); say how each went."""
    scanner, _user_id, screen = _own(screen_id)
    if scanner.alerts is None:
        abort(404)
    outcomes = scanner.alerts.send_trial(screen)
    for target, outcome in zip(screen.targets, outcomes, strict=True):
        flash(f"{masked(target.url)}: {outcome.said()}")
    if not screen.targets:
        flash(f"“{screen.name}” has no targets to test.")
    return _back(screen)


@bp.post("/screens/<int:screen_id>/delete")
def delete(screen_id: int) -> Response:
    """Delete the user's screen."""
    scanner, user_id, screen = _own(screen_id)
    scanner.screens.delete(user_id, screen.id)
    flash(f"Deleted “{screen.name}”.")
    return redirect(url_for(".page"), 303)


def _back(screen: SavedScreen) -> Response:
    return redirect(url_for(".page", _anchor=f"screen-{screen.id}"), 303)


def _screen_json(screen: SavedScreen, user_id: int, outcome: str | None) -> dict[str, Any]:
    """A screen for ``/api/screens``: never its targets, only how many."""
    answer = {
        "id": screen.id,
        "name": screen.name,
        "owner": screen.owner,
        "mine": screen.mine(user_id),
        "view": screen.view,
        "query": screen.query,
        "shared": screen.shared,
        "url": screen_url(screen),
        "updated_at": screen.updated_at.isoformat(timespec="seconds"),
    }
    if current_scanner().alerts is not None and screen.mine(user_id):
        answer |= {"targets": len(screen.targets), "paused": screen.paused, "last": outcome}
    return answer


@bp.get("/api/screens")
def api_screens() -> Response:
    """``{"screens": [...]}``: the user's screens and those shared with them."""
    scanner = current_scanner()
    user_id = current_user_id()
    screens = scanner.screens.visible(user_id)
    alerts = scanner.alerts
    outcomes = alerts.ledger.last_outcomes(s.id for s in screens) if alerts else {}
    return jsonify(
        screens=[
            _screen_json(screen, user_id, getattr(outcomes.get(screen.id), "outcome", None))
            for screen in screens
        ]
    )


@bp.get("/api/alerts")
def api_alerts() -> Response:
    """``{"deliveries": [...]}``: the recent deliveries of the user's screens (an admin's:
    everyone's), newest first."""
    scanner = current_scanner()
    if scanner.alerts is None:
        return jsonify(deliveries=[], alerts="off")
    user_id = current_user_id()
    mine = None if scanner.screens.is_admin(user_id) else user_id
    return jsonify(deliveries=[d.to_dict() for d in scanner.alerts.ledger.recent(mine)])
