"""What the user asked to see, from the query string: filters, sort order, page and side.

Parsing filters never fails: a bad value falls back to its default with a message that says
so. An unknown side is a 400 (``parse_side``). The dashboard, the saved screens and the
after-scan matcher share this parser, so a screen's query means what the page shows.

The sort keys are the sortable columns of ``web/columns.py``'s tables, in page order,
named here because the parser sits below the web layer; ``tests/test_columns.py`` ties
them to the declaration.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from werkzeug.exceptions import BadRequest

MAX_PARAM_LENGTH = 100
#: side (the ``side`` query value) -> the working-set hash that holds its rows
ROW_HASHES = {"put": "puts", "call": "calls"}
MAX_SHOWN_SIDE = 20

#: Summary columns the dashboard can sort by (the ``sort`` query value).
SORT_KEYS = ("ticker", "annualized", "delta", "spot", "value", "iv_rank", "puts")
DEFAULT_PER_PAGE = 50
#: The page sizes the form offers (any from 1 to ``MAX_PER_PAGE`` works in the URL).
PER_PAGE_CHOICES = (10, 25, 50, 100)
MAX_PER_PAGE = 500
MAX_PAGE = 100_000
DIRECTIONS = ("asc", "desc")
#: Columns of a ticker's puts table it can sort by (the ``put_sort`` query value).
PUT_SORT_KEYS = (
    "strike",
    "expiration",
    "bid",
    "spread_pct",
    "annualized",
    "pct_otm",
    "strike_in_expected_moves",
    "delta",
    "prob_otm",
    "premium",
    "collateral",
    "iv",
    "dte",
    "volume",
    "open_interest",
)
#: Columns of the Calls tab it can sort by (the ``call_sort`` query value).
CALL_SORT_KEYS = (
    "ticker",
    "expiration",
    "strike",
    "bid",
    "spread_pct",
    "annualized",
    "called_away_annualized",
    "pct_otm",
    "delta",
    "prob_otm",
    "contracts",
    "cost_basis",
    "iv",
    "dte",
    "open_interest",
)
#: How the drilldown lays its puts out (``layout``): a table per expiration, or one table.
LAYOUTS = ("grouped", "table")
#: The direction a column sorts in when first chosen: the interesting end first.
FIRST_DIRECTION = {"annualized": "desc", "puts": "desc", "iv_rank": "desc"}
#: Columns of the contract tables whose first click sorts ascending (the rest: descending).
ASCENDING_FIRST = ("ticker", "expiration", "dte")

_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_WHOLE = re.compile(r"\+?\d+", re.ASCII)


@dataclass(frozen=True)
class _NumberParam:
    """One numeric query parameter: its name, the filter field it sets and its range."""

    name: str
    field: str
    low: float
    high: float
    whole: bool
    label: str

    @property
    def expected(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        return f"{kind} from {self.low:.15g} to {self.high:.15g}"

    def parse(self, raw: str) -> float | int | None:
        """The value of ``raw``, or None when it is not acceptable."""
        text = raw.strip()
        if len(raw) > MAX_PARAM_LENGTH or not (_WHOLE if self.whole else _DECIMAL).fullmatch(text):
            return None
        value = int(text) if self.whole else float(text)
        if not math.isfinite(value) or not self.low <= value <= self.high:
            return None
        return value


_NUMBER_PARAMS = (
    _NumberParam("min_annualized", "min_annualized", 0, 10_000, False, "Min annualized %"),
    _NumberParam("min_delta", "min_delta", -1, 0, False, "Min delta"),
    _NumberParam("min_dte", "min_dte", 0, 1_000, True, "Min days to expiry"),
    _NumberParam("max_dte", "max_dte", 0, 1_000, True, "Max days to expiry"),
    _NumberParam("min_oi", "min_open_interest", 0, 10_000_000, True, "Min open interest"),
    _NumberParam("min_volume", "min_volume", 0, 10_000_000, True, "Min volume"),
    _NumberParam("min_vol_oi", "min_vol_oi", 0, 1_000, False, "Min volume / open interest"),
    _NumberParam("max_spread", "max_spread", 0, 1_000, False, "Max spread %"),
    _NumberParam("min_iv_rank", "min_iv_rank", 0, 100, False, "Min IV rank"),
)
#: Which page of tickers: not filters, but part of the view's URL all the same.
_PAGE_PARAMS = (
    _NumberParam("page", "page", 1, MAX_PAGE, True, "Page"),
    _NumberParam("per_page", "per_page", 1, MAX_PER_PAGE, True, "Tickers per page"),
)
#: How a ticker's puts are shown, not which: the cash to size positions with.
_VIEW_PARAMS = (_NumberParam("cash", "cash", 0, 1_000_000_000, False, "Cash to size with, $"),)

#: (query name, filter field, allowed values, label) of the parameters that pick from a list
_CHOICE_PARAMS = (
    ("sort", "sort", SORT_KEYS, "Sort"),
    ("dir", "direction", DIRECTIONS, "Sort direction"),
    ("put_sort", "put_sort", PUT_SORT_KEYS, "Puts sort"),
    ("put_dir", "put_direction", DIRECTIONS, "Puts sort direction"),
    ("call_sort", "call_sort", CALL_SORT_KEYS, "Calls sort"),
    ("call_dir", "call_direction", DIRECTIONS, "Calls sort direction"),
    ("layout", "layout", LAYOUTS, "Layout"),
)
#: Filters that are on or off: query name -> filter field (on: ``1``, off: ``0``).
_FLAG_PARAMS = {
    "exclude_earnings": "exclude_earnings",
    "at_or_below_fair_value": "at_or_below_fair_value",
}
#: Every parameter's label, as the filter form shows it (messages name fields by it).
LABELS = {
    **{param.name: param.label for param in (*_NUMBER_PARAMS, *_PAGE_PARAMS, *_VIEW_PARAMS)},
    **{name: label for name, _field, _allowed, label in _CHOICE_PARAMS},
    "exclude_earnings": "Exclude puts expiring on or after earnings",
    "at_or_below_fair_value": "Only strikes at or below fair value",
}
_FLAG_VALUES = {"1": True, "true": True, "on": True, "0": False, "false": False, "off": False}


def _format_number(value: float | int) -> str:
    """``value`` as it round-trips through the query string, without a needless ".0"."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class ResultFilters:
    """The dashboard's filters (None: not filtered), sort order and page, and how a ticker's
    puts are shown: the cash to size them with and their order."""

    min_annualized: float | None = None
    min_delta: float | None = None
    min_dte: int | None = None
    max_dte: int | None = None
    min_open_interest: int | None = None
    min_volume: int | None = None
    min_vol_oi: float | None = None
    max_spread: float | None = None
    min_iv_rank: float | None = None
    exclude_earnings: bool = False
    at_or_below_fair_value: bool = False
    sort: str = "ticker"
    direction: str = "asc"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    cash: float | None = None
    put_sort: str = "strike"
    put_direction: str = "desc"
    layout: str = "grouped"
    call_sort: str = "ticker"
    call_direction: str = "asc"

    @property
    def active(self) -> bool:
        """Whether any filter (not just the sort) is set."""
        return bool(self.filter_args())

    def query_args(self) -> dict[str, str]:
        """The non-default values under their query names, for URLs."""
        args = self.filter_args()
        defaults = ResultFilters()
        if self.sort != defaults.sort:
            args["sort"] = self.sort
        if self.direction != defaults.direction:
            args["dir"] = self.direction
        for param in _PAGE_PARAMS:
            if getattr(self, param.field) != getattr(defaults, param.field):
                args[param.name] = str(getattr(self, param.field))
        return args | self.puts_args()

    def puts_args(self) -> dict[str, str]:
        """The filters and how a ticker's puts are shown (cash, sort, layout), for its
        puts' URLs."""
        args = self.filter_args()
        if self.cash is not None:
            args["cash"] = _format_number(self.cash)
        defaults = ResultFilters()
        if (self.put_sort, self.put_direction) != (defaults.put_sort, defaults.put_direction):
            args |= {"put_sort": self.put_sort, "put_dir": self.put_direction}
        if self.layout != defaults.layout:
            args["layout"] = self.layout
        return args

    def calls_args(self) -> dict[str, str]:
        """The filters and the calls' order, for the Calls tab's URLs."""
        args = self.filter_args()
        defaults = ResultFilters()
        if (self.call_sort, self.call_direction) != (defaults.call_sort, defaults.call_direction):
            args |= {"call_sort": self.call_sort, "call_dir": self.call_direction}
        return args

    def filter_args(self) -> dict[str, str]:
        """The filters alone, under their query names: what narrows the rows of one ticker."""
        args = {
            param.name: _format_number(getattr(self, param.field))
            for param in _NUMBER_PARAMS
            if getattr(self, param.field) is not None
        }
        args |= {
            name: "1" for name, field_name in _FLAG_PARAMS.items() if getattr(self, field_name)
        }
        return args

    @property
    def offset(self) -> int:
        """How many tickers come before this page."""
        return (self.page - 1) * self.per_page

    def on_page(self, page: int) -> ResultFilters:
        """This view on ``page``."""
        return replace(self, page=page)

    def sorted_by(self, column: str) -> ResultFilters:
        """This view sorted by ``column`` (the other way if it already is), from page 1."""
        if column == self.sort:
            direction = "asc" if self.direction == "desc" else "desc"
            return replace(self, direction=direction, page=1)
        return replace(self, sort=column, direction=FIRST_DIRECTION.get(column, "asc"), page=1)

    def puts_sorted_by(self, column: str) -> ResultFilters:
        """This view with a ticker's puts sorted by ``column`` (the other way if they are)."""
        direction = _next_direction(column, self.put_sort, self.put_direction)
        return replace(self, put_sort=column, put_direction=direction)

    def calls_sorted_by(self, column: str) -> ResultFilters:
        """This view with the calls sorted by ``column`` (the other way if they are)."""
        direction = _next_direction(column, self.call_sort, self.call_direction)
        return replace(self, call_sort=column, call_direction=direction)

    def laid_out(self, layout: str) -> ResultFilters:
        """This view with a ticker's puts laid out as ``layout``."""
        return replace(self, layout=layout)


def _next_direction(column: str, current: str, direction: str) -> str:
    """The direction a click on ``column`` sorts a contract table in: the other way when
    it is the ``current`` column, else its interesting end first."""
    if column == current:
        return "asc" if direction == "desc" else "desc"
    return "asc" if column in ASCENDING_FIRST else "desc"


def _choice(raw: str, allowed: tuple[str, ...]) -> str | None:
    """``raw`` normalized if it is one of ``allowed``, else None."""
    value = raw.strip().lower() if len(raw) <= MAX_PARAM_LENGTH else ""
    return value if value in allowed else None


def parse_filters(args: Mapping[str, str]) -> tuple[ResultFilters, list[str]]:
    """The view from query ``args``, and a message for each value that was ignored.

    Never raises: a bad value (not a number, NaN, infinite, out of range, too long,
    unknown sort key, a flag other than 1 or 0) falls back to the default and adds a
    message.
    """
    values: dict[str, Any] = {}
    messages: list[str] = []
    for param in (*_NUMBER_PARAMS, *_PAGE_PARAMS, *_VIEW_PARAMS):
        raw = args.get(param.name)
        if raw is None or not raw.strip():
            continue
        value = param.parse(raw)
        if value is None:
            messages.append(f"{param.label} must be {param.expected}; ignored.")
        else:
            values[param.field] = value
    for name, field_name, allowed, label in _CHOICE_PARAMS:
        raw = args.get(name)
        if raw is None or not raw.strip():
            continue
        choice = _choice(raw, allowed)
        if choice is None:
            messages.append(f"{label} must be one of {', '.join(allowed)}; ignored.")
        else:
            values[field_name] = choice
    for name, field_name in _FLAG_PARAMS.items():
        raw = args.get(name)
        if raw is None or not raw.strip():
            continue
        flag = _FLAG_VALUES.get(raw.strip().lower())
        if flag is None:
            messages.append(f"{LABELS[name]} must be 1 or 0; ignored.")
        else:
            values[field_name] = flag
    return ResultFilters(**values), messages


def parse_side(args: Mapping[str, str]) -> str:
    """The ``side`` asked for in ``args`` (``put`` when absent); a 400 for any other."""
    raw = args.get("side", "")
    side = raw.strip().lower() or "put"
    if side not in ROW_HASHES:
        shown = raw if len(raw) <= MAX_SHOWN_SIDE else raw[:MAX_SHOWN_SIDE] + "…"
        raise BadRequest(f"Unknown side “{shown}”: use side=put (the default) or side=call.")
    return side
