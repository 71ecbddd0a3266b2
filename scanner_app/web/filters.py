"""What the user asked to see: filters and sort from the query string, and per-ticker summaries.

Everything here works on the cached results; nothing triggers a scan.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

MAX_PARAM_LENGTH = 100

#: Summary columns the dashboard can sort by (the ``sort`` query value).
SORT_KEYS = ("value", "ticker", "spot", "annualized", "puts", "delta", "scanned")
DIRECTIONS = ("asc", "desc")
#: The direction a column sorts in when first chosen: the interesting end first.
FIRST_DIRECTION = {"annualized": "desc", "puts": "desc", "scanned": "desc"}

GOOD, HIGH, NO_FAIR_VALUE = "good", "high", "n/a"

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

    @property
    def expected(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        return f"{kind} from {self.low:g} to {self.high:g}"

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
    _NumberParam("min_annualized", "min_annualized", 0, 10_000, whole=False),
    _NumberParam("min_delta", "min_delta", -1, 0, whole=False),
    _NumberParam("max_dte", "max_dte", 0, 1_000, whole=True),
    _NumberParam("min_oi", "min_open_interest", 0, 10_000_000, whole=True),
)

#: (query name, filter field, allowed values) of the parameters that pick from a list
_CHOICE_PARAMS = (("sort", "sort", SORT_KEYS), ("dir", "direction", DIRECTIONS))


def _format_number(value: float | int) -> str:
    """``value`` as it round-trips through the query string, without a needless ".0"."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class ResultFilters:
    """The dashboard's filters (None: not filtered) and sort order."""

    min_annualized: float | None = None
    min_delta: float | None = None
    max_dte: int | None = None
    min_open_interest: int | None = None
    sort: str = "ticker"
    direction: str = "asc"

    @property
    def active(self) -> bool:
        """Whether any filter (not just the sort) is set."""
        return any(getattr(self, param.field) is not None for param in _NUMBER_PARAMS)

    def query_args(self) -> dict[str, str]:
        """The non-default values under their query names, for URLs."""
        args = {
            param.name: _format_number(getattr(self, param.field))
            for param in _NUMBER_PARAMS
            if getattr(self, param.field) is not None
        }
        defaults = ResultFilters()
        if self.sort != defaults.sort:
            args["sort"] = self.sort
        if self.direction != defaults.direction:
            args["dir"] = self.direction
        return args

    def filter_args(self) -> dict[str, str]:
        """``query_args`` without the sort: what narrows the rows of one ticker."""
        return {k: v for k, v in self.query_args().items() if k not in ("sort", "dir")}

    def sorted_by(self, column: str) -> ResultFilters:
        """These filters sorted by ``column``: the other direction if already sorted by it."""
        if column == self.sort:
            return replace(self, direction="asc" if self.direction == "desc" else "desc")
        return replace(self, sort=column, direction=FIRST_DIRECTION.get(column, "asc"))


def _choice(raw: str, allowed: tuple[str, ...]) -> str | None:
    """``raw`` normalized if it is one of ``allowed``, else None."""
    value = raw.strip().lower() if len(raw) <= MAX_PARAM_LENGTH else ""
    return value if value in allowed else None


def parse_filters(args: Mapping[str, str]) -> tuple[ResultFilters, list[str]]:
    """Filters from query ``args``, and a message for each value that was ignored.

    Never raises: a bad value (not a number, NaN, infinite, out of range, too long,
    unknown sort key) falls back to the default and adds a message.
    """
    values: dict[str, Any] = {}
    messages: list[str] = []
    for param in _NUMBER_PARAMS:
        raw = args.get(param.name)
        if raw is None or not raw.strip():
            continue
        value = param.parse(raw)
        if value is None:
            messages.append(f"{param.name} must be {param.expected}; ignored.")
        else:
            values[param.field] = value
    for name, field_name, allowed in _CHOICE_PARAMS:
        raw = args.get(name)
        if raw is None or not raw.strip():
            continue
        choice = _choice(raw, allowed)
        if choice is None:
            messages.append(f"{name} must be one of {', '.join(allowed)}; ignored.")
        else:
            values[field_name] = choice
    return ResultFilters(**values), messages


def _number(row: Mapping[str, Any], key: str) -> float | None:
    """``row[key]`` when it is a finite number, else None."""
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def _at_least(value: float | None, limit: float | None) -> bool:
    return limit is None or (value is not None and value >= limit)


def _passes(row: Any, filters: ResultFilters) -> bool:
    """Whether ``row`` meets every set filter; a missing open interest counts as 0."""
    if not isinstance(row, Mapping):
        return False
    dte = _number(row, "dte")
    return (
        _at_least(_number(row, "annualized"), filters.min_annualized)
        and _at_least(_number(row, "delta"), filters.min_delta)
        and _at_least(_number(row, "open_interest") or 0, filters.min_open_interest)
        and (filters.max_dte is None or (dte is not None and dte <= filters.max_dte))
    )


def filter_rows(rows: list[dict], filters: ResultFilters) -> list[dict]:
    """The rows that meet every set filter, in their order (malformed rows are dropped)."""
    return [row for row in rows if _passes(row, filters)]


def apply_filters(options: dict[str, list[dict]], filters: ResultFilters) -> dict[str, list[dict]]:
    """``filter_rows`` per ticker; tickers left with no rows are dropped."""
    filtered = {ticker: filter_rows(rows, filters) for ticker, rows in options.items()}
    return {ticker: rows for ticker, rows in filtered.items() if rows}


def strike_badge(strike: Any, fair_value: float | None) -> str:
    """``good`` when the strike is at or below the fair value, ``high`` above, else ``n/a``."""
    if fair_value is None or isinstance(strike, bool) or not isinstance(strike, int | float):
        return NO_FAIR_VALUE
    return GOOD if strike <= fair_value else HIGH


def summary_badge(rows: Iterable[Mapping[str, Any]], fair_value: float | None) -> str:
    """``good`` if any strike is at or below the fair value, ``high`` if all are above, else n/a."""
    badges = {strike_badge(row.get("strike"), fair_value) for row in rows}
    if GOOD in badges:
        return GOOD
    return HIGH if HIGH in badges else NO_FAIR_VALUE


@dataclass(frozen=True)
class TickerSummary:
    """One dashboard row: a ticker's best numbers among its (filtered) puts."""

    symbol: str
    badge: str
    puts: int
    spot: float | None
    best_annualized: float | None
    lowest_abs_delta: float | None
    scanned_at: str | None
    fair_value: float | None
    error: str | None


def _numbers(rows: list[Mapping[str, Any]], key: str) -> list[float]:
    """The usable numbers under ``key`` in ``rows``."""
    return [value for value in (_number(row, key) for row in rows) if value is not None]


def summarize(
    options: Mapping[str, list[dict]],
    scan_times: Mapping[str, str],
    errors: Mapping[str, str],
    fair_value: Callable[[str], float | None],
) -> list[TickerSummary]:
    """A summary per ticker with rows or an error of the last scan, in symbol order."""
    summaries = []
    for symbol in sorted(set(options) | set(errors)):
        rows = [row for row in options.get(symbol, []) if isinstance(row, Mapping)]
        value = fair_value(symbol)
        summaries.append(
            TickerSummary(
                symbol=symbol,
                badge=summary_badge(rows, value),
                puts=len(rows),
                spot=max(_numbers(rows, "spot"), default=None),
                best_annualized=max(_numbers(rows, "annualized"), default=None),
                lowest_abs_delta=min(map(abs, _numbers(rows, "delta")), default=None),
                scanned_at=scan_times.get(symbol),
                fair_value=value,
                error=errors.get(symbol),
            )
        )
    return summaries


_BADGE_ORDER = {GOOD: 0, HIGH: 1}
_SORT_VALUE: dict[str, Callable[[TickerSummary], Any]] = {
    "value": lambda s: _BADGE_ORDER.get(s.badge),
    "ticker": lambda s: s.symbol,
    "spot": lambda s: s.spot,
    "annualized": lambda s: s.best_annualized,
    "puts": lambda s: s.puts,
    "delta": lambda s: s.lowest_abs_delta,
    "scanned": lambda s: s.scanned_at,
}


def sort_summaries(summaries: list[TickerSummary], filters: ResultFilters) -> list[TickerSummary]:
    """Summaries in the requested order; ties by symbol, missing values always last."""
    value_of = _SORT_VALUE[filters.sort]
    by_symbol = sorted(summaries, key=lambda s: s.symbol)
    known = [s for s in by_symbol if value_of(s) is not None]
    missing = [s for s in by_symbol if value_of(s) is None]
    known.sort(key=value_of, reverse=filters.direction == "desc")
    return known + missing
