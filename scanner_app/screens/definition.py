"""What a saved screen is: a name, a view (puts or calls) and its query, checked when saved
with the dashboard's own parser and messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from werkzeug.exceptions import BadRequest

from .query import ROW_HASHES, ResultFilters, parse_filters, parse_side

MAX_NAME_LENGTH = 80
MAX_QUERY_LENGTH = 2000
#: A screen's view -> the side its rows come from, and back.
VIEW_SIDES = {"puts": "put", "calls": "call"}
SIDE_VIEWS = {side: view for view, side in VIEW_SIDES.items()}
#: The owner's view widened to the whole universe (issue 18's ``scope=all``).
SCOPE_ALL = "all"


class ScreenError(ValueError):
    """A screen that cannot be saved (each message says why)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class ScreenQuery:
    """A screen's checked query: its filters, its side and whether it spans the universe."""

    filters: ResultFilters
    side: str
    whole_universe: bool

    @property
    def view(self) -> str:
        """``puts`` or ``calls``."""
        return SIDE_VIEWS[self.side]

    def text(self) -> str:
        """The query string as stored and applied: the non-default values, without a page."""
        args = self.filters.calls_args() if self.side == "call" else self.filters.query_args()
        args.pop("page", None)
        if self.whole_universe:
            args["scope"] = SCOPE_ALL
        return urlencode(args)


def _query_args(query: str) -> dict[str, str]:
    """The arguments of a query string (a leading ``?`` allowed; the last value wins)."""
    return dict(parse_qsl(query.strip().removeprefix("?"), keep_blank_values=True))


def read_query(query: str, view: str | None = None) -> tuple[ScreenQuery, list[str]]:
    """The screen query in ``query`` (``view`` or its ``side=`` picks puts or calls), and
    the dashboard's message for each value it ignores."""
    args = _query_args(query[:MAX_QUERY_LENGTH])
    messages: list[str] = []
    side = VIEW_SIDES.get(view or "", "put")
    if view is None:
        try:
            side = parse_side(args)
        except BadRequest as error:
            messages.append(str(error.description))
    filters, filter_messages = parse_filters(args)
    return ScreenQuery(filters, side, args.get("scope") == SCOPE_ALL), messages + filter_messages


def check_screen(name: str, query: str, view: str | None = None) -> tuple[str, ScreenQuery]:
    """The screen's trimmed name and its query, or ScreenError with every message (the
    dashboard's for a bad filter, sort or side)."""
    messages: list[str] = []
    name = " ".join(name.split())
    if not name:
        messages.append("Name the screen.")
    elif len(name) > MAX_NAME_LENGTH:
        messages.append(f"A screen's name is at most {MAX_NAME_LENGTH} characters.")
    if view is not None and view not in VIEW_SIDES:
        messages.append("A screen shows puts or calls.")
    if len(query) > MAX_QUERY_LENGTH:
        messages.append(f"A screen's query is at most {MAX_QUERY_LENGTH} characters.")
    parsed, query_messages = read_query(query, view if view in VIEW_SIDES else None)
    messages += query_messages
    if messages:
        raise ScreenError(messages)
    return name, parsed


def row_hash(side: str) -> str:
    """The working-set hash holding ``side``'s rows."""
    return ROW_HASHES[side]


def applied_args(query: str) -> Mapping[str, str]:
    """A stored query's arguments, to build the URL that applies it."""
    return _query_args(query)
