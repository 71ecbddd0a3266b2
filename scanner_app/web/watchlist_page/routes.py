"""``/watchlist``: the user's tickers, added many at once ("Add tickers"), edited in place
(htmx swaps one row), removed, imported from a TOML or CSV file, exported at
``GET /watchlist.toml``; their cash for sizing; and ``GET /api/watchlist``.

Every route acts on the current user's own list: an entry id of anyone else's answers 404.
Bad input gets the watchlist file's own message; a database that does not answer gets
503 and a message, with nothing changed.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, redirect, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from ...db import describe_database_error
from ...services import current_scanner
from ...user_watchlists.imports import export_toml, parse_import
from ...user_watchlists.seeding import record_import
from ...user_watchlists.text_entries import entry_from_fields, split_symbols
from ...user_watchlists.watchlists import Watchlists
from ...watchlist import WatchlistEntry, WatchlistError, load_watchlist
from ..auth.identity import current_user_id
from ..error_pages import error_response
from ..fragments import html_response, wants_fragment
from ..json_errors import json_error
from .page import entry_json, page_context, row_context

log = logging.getLogger(__name__)

bp = Blueprint("watchlist_page", __name__)

DATABASE_DOWN = "The watchlist is unavailable: {reason}. Nothing was changed; try again shortly."
#: The largest cash figure the page takes, as the cash filter does.
MAX_CASH = 1_000_000_000


@bp.errorhandler(SQLAlchemyError)
def _database_down(error: SQLAlchemyError) -> Response:
    """The database did not answer: 503 and what happened (JSON for the API)."""
    message = DATABASE_DOWN.format(reason=describe_database_error(error))
    log.warning("watchlist request failed: %s", message)
    if request.path.startswith("/api/"):
        return json_error(message, 503)
    return error_response(503, "Watchlist unavailable", message)


def _watchlists() -> Watchlists:
    """The app's watchlists."""
    return current_scanner().watchlists


def _body(messages: list[str], errors: list[str], status: int = 200, **extra) -> Response:
    """The page (for htmx, its body alone) with ``messages`` and ``errors``; a refused
    plain form post gets ``status``, htmx 200 so the body is swapped in."""
    context = page_context(current_user_id(), messages, errors, **extra)
    if wants_fragment():
        return html_response("partials/watchlist_body.html", **context)
    return html_response("watchlist.html", status, **context)


def _done(message: str) -> Response:
    """After a change: for htmx, the body with ``message``; else back to the page (303)."""
    if wants_fragment():
        return _body([message], [])
    return redirect(url_for("watchlist_page.page", done=message), 303)


@bp.get("/watchlist")
def page() -> Response:
    """The user's watchlist page."""
    done = request.args.get("done", "")[:200]
    return _body([done] if done else [], [])


@bp.post("/watchlist/add")
def add() -> Response:
    """Add the symbols typed into "Add tickers" (spaces, commas or new lines)."""
    text = request.form.get("tickers", "")
    try:
        symbols = split_symbols(text)
    except WatchlistError as error:
        return _body([], [str(error)], 422, typed=text)
    added = _watchlists().add_symbols(current_user_id(), symbols)
    known = len(symbols) - len(added)
    message = f"Added {', '.join(added)}." if added else "Nothing added."
    if known:
        message += f" {known} already on the watchlist."
    if added:
        message += " They show “waiting for the next scan” until a scan reaches them."
    return _done(message)


def _own_entry(entry_id: int) -> WatchlistEntry:
    """The current user's entry ``entry_id``; 404 when it is not theirs (or gone)."""
    entry = _watchlists().store.entry(current_user_id(), entry_id)
    if entry is None:
        abort(404)
    return entry


@bp.get("/watchlist/<int:entry_id>")
def row(entry_id: int) -> Response:
    """One entry's row (after an edit is cancelled)."""
    entry = _own_entry(entry_id)
    return html_response("partials/watchlist_row.html", row=row_context(entry_id, entry))


@bp.get("/watchlist/<int:entry_id>/edit")
def edit(entry_id: int) -> Response:
    """One entry's row as a form."""
    entry = _own_entry(entry_id)
    return html_response(
        "partials/watchlist_row.html", row=row_context(entry_id, entry, editing=True)
    )


@bp.post("/watchlist/<int:entry_id>")
def update(entry_id: int) -> Response:
    """Save an entry's fields; a bad one keeps the form open with the file's message."""
    entry = _own_entry(entry_id)
    try:
        changed = entry_from_fields(entry.symbol, request.form, "Watchlist entry")
    except WatchlistError as error:
        if not wants_fragment():
            return _body([], [str(error)], 422)
        context = row_context(entry_id, entry, editing=True, error=str(error), typed=request.form)
        return html_response("partials/watchlist_row.html", row=context)
    if not _watchlists().update(current_user_id(), entry_id, changed):
        abort(404)
    if not wants_fragment():
        return _done(f"Saved {entry.symbol}.")
    return html_response(
        "partials/watchlist_row.html",
        row=row_context(entry_id, changed, message=f"Saved {entry.symbol}."),
    )


@bp.post("/watchlist/<int:entry_id>/delete")
def remove(entry_id: int) -> Response:
    """Remove an entry (htmx: the row goes)."""
    symbol = _watchlists().remove(current_user_id(), entry_id)
    if symbol is None:
        abort(404)
    if wants_fragment():
        return Response("", 200)
    return _done(f"Removed {symbol}.")


@bp.post("/watchlist/import")
def import_file() -> Response:
    """Import an uploaded TOML or CSV file (adds and updates; ``replace``: the list
    becomes exactly the file); a bad file changes nothing and names its line."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _body([], ["Import: choose a TOML or CSV file."], 422)
    name = Path(upload.filename).name
    try:
        entries = parse_import(name, upload.read())
    except WatchlistError as error:
        return _body([], [f"Nothing imported: {error}"], 422)
    replace = request.form.get("replace") == "on"
    outcome = _watchlists().import_entries(current_user_id(), entries, replace)
    return _done(f"Imported {name}: {outcome.summary()}.")


@bp.post("/watchlist/import-file")
def import_watchlist_file() -> Response:
    """Import ``WATCHLIST_FILE`` again (the "changed since it was imported" notice)."""
    path = Path(current_scanner().settings["WATCHLIST_FILE"])
    try:
        entries = list(load_watchlist(path).entries)
    except WatchlistError as error:
        return _body([], [f"Nothing imported: {error}"], 422)
    user_id = current_user_id()
    outcome = _watchlists().import_entries(user_id, entries)
    record_import(current_scanner().database, path, user_id)
    return _done(f"Imported {path.name}: {outcome.summary()}.")


@bp.post("/watchlist/cash")
def cash() -> Response:
    """Set the user's cash for sizing; empty: back to ``CASH_AVAILABLE``."""
    raw = request.form.get("cash", "").strip().replace(",", "")
    try:
        value = float(raw) if raw else None
    except ValueError:
        value = math.nan
    if value is not None and not (math.isfinite(value) and 0 <= value <= MAX_CASH):
        message = f"Cash must be a number from 0 to {MAX_CASH:,}, got {raw!r}."
        return _body([], [message], 422)
    _watchlists().store.set_cash(current_user_id(), value)
    return _done("Cash saved." if value is not None else "Cash reset to the default.")


@bp.get("/watchlist.toml")
def export() -> Response:
    """The user's watchlist as TOML, in the ``WATCHLIST_FILE`` format."""
    entries = _watchlists().read(current_user_id()).entries
    return Response(
        export_toml(entries),
        mimetype="application/toml",
        headers={"Content-Disposition": "attachment; filename=watchlist.toml"},
    )


@bp.get("/api/watchlist")
def api_watchlist() -> Response:
    """``{"tickers": [{"symbol", "fair_value", "shares", "cost_basis", ...}]}``: the
    user's entries with their assumptions, in their order."""
    mine = _watchlists().read(current_user_id())
    return jsonify(tickers=[entry_json(entry) for entry in mine.entries])
