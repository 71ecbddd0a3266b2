"""Each table's columns, declared once: the templates, the sort keys, the CSV and the JSON
all read them.

A ``Table`` is its columns in the order of its stored rows (the order of the CSV and of
each row's JSON), then the columns only the page works out, and the names of the columns
the page shows, in the page's order. A column says which row field it shows, its header
on the page, how the page shows it, whether the page sorts by it, and whether the CSV and
the JSON carry it. Adding a column is one ``Column`` here (and its name in ``page`` when
the page shows it) plus its computation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from functools import cache, partial
from typing import Any

from ..market.models import ScreenedCall, ScreenedPut
from ..numbers import finite_number
from .display import eastern_time, expiration_label, fraction_percent, money, number, percent


def plain(value: Any) -> Any:
    """``value`` as it is (Jinja shows it as text)."""
    return value


@dataclass(frozen=True)
class Column:
    """One column of a table: what it shows, how, and where.

    ``cell`` names the macro of ``partials/cells.html`` that draws it on the page: ``value``
    (``format`` applied to the row's ``field``) unless the column needs a cell of its own.
    ``shown_with`` names what the view must have for the page to show it (``cash`` for
    the sizing columns, ``ticker`` for the Calls tab's ticker column).
    """

    name: str
    label: str = ""
    format: Callable[[Any], Any] = plain
    field: str = ""
    cell: str = "value"
    sortable: bool = False
    numeric: bool = True
    csv: bool = True
    json: bool = True
    shown_with: str | None = None

    @property
    def source(self) -> str:
        """The row field (or summary attribute) the column shows."""
        return self.field or self.name


@dataclass(frozen=True)
class Table:
    """A table's columns (stored fields first, in the stored rows' order) and the names of
    those its page shows, in the page's order."""

    columns: tuple[Column, ...]
    page: tuple[str, ...]

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        return next(column for column in self.columns if column.name == name)

    @property
    def csv_header(self) -> tuple[str, ...]:
        """The CSV's columns, in order: each is also the row field it reads."""
        return tuple(column.name for column in self.columns if column.csv)

    @property
    def json_fields(self) -> tuple[str, ...]:
        """The fields of each row of the JSON, in order."""
        return tuple(column.name for column in self.columns if column.json)

    @property
    def sort_keys(self) -> tuple[str, ...]:
        """The columns the page can sort by, in the page's order."""
        return tuple(column.name for column in self.page_columns() if column.sortable)

    def labels(self) -> dict[str, str]:
        """Each shown column's header, by name (captions say what a table is sorted by)."""
        return {column.name: column.label for column in self.page_columns()}

    def page_columns(self, present: Iterable[str] | None = None) -> list[Column]:
        """The columns the page shows, in order, for a view that has ``present`` (the
        names ``shown_with`` asks for; None: every column, whatever the view has)."""
        shown = [self.column(name) for name in self.page]
        if present is None:
            return shown
        has = set(present)
        return [column for column in shown if column.shown_with in (None, *has)]

    def json_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """``row`` as the JSON carries it: its declared fields, in order."""
        return {name: row[name] for name in self.json_fields if name in row}

    def without(self, names: Iterable[str]) -> Table:
        """The table without the columns called ``names``."""
        gone = set(names)
        return Table(
            tuple(column for column in self.columns if column.name not in gone),
            tuple(name for name in self.page if name not in gone),
        )


def _data_columns(model: type, overrides: Mapping[str, Column]) -> tuple[Column, ...]:
    """A column per field of ``model`` (a stored row's dataclass), in its order: the
    declared one, else a column that only the CSV and the JSON carry."""
    return tuple(overrides.get(field.name, Column(field.name)) for field in fields(model))


_number3 = partial(number, digits=3)
_number0 = partial(number, digits=0)

#: The stored fields a put's page shows, and how (the rest only the CSV and JSON carry).
_PUT_FIELDS = {
    column.name: column
    for column in (
        Column("strike", "Strike", money, cell="row_header", sortable=True),
        Column("bid", "Bid", money, sortable=True),
        Column("ask", "Ask", money, sortable=True),
        Column("last", "Last", money, sortable=True),
        Column("spread_pct", "Spread", percent, sortable=True),
        Column("annualized", "Annualized", percent, sortable=True),
        Column("pct_otm", "OTM", percent, sortable=True),
        Column("delta", "Delta", _number3, sortable=True),
        Column("prob_otm", "Prob. OTM", fraction_percent, sortable=True),
        Column("breakeven", "Breakeven", money, sortable=True),
        Column("premium", "Premium", money, sortable=True),
        Column("collateral", "Collateral", money, sortable=True),
        Column("iv", "IV", fraction_percent, sortable=True),
        Column("dte", "DTE", sortable=True),
        Column("volume", "Volume", _number0, sortable=True),
        Column("open_interest", "Open int.", _number0, sortable=True),
    )
}


def _page_only(name: str, label: str, cell: str, **options: Any) -> Column:
    """A column the page works out from the row: neither the CSV nor the JSON has it."""
    return Column(name, label, cell=cell, csv=False, json=False, **options)


#: ``stale``: whether the row is from an earlier scan (its ticker's latest fetch failed).
_STALE = Column("stale", json=False)
_number1 = partial(number, digits=1)
_number2 = partial(number, digits=2)
#: What the history adds to every row (``HISTORY=on``): the ticker's figures (the same on
#: each of its rows, so the page shows them once per ticker), the row's expected move and
#: its distance in expected moves, and whether it first qualified today.
VOLATILITY = (
    Column("iv30", "IV30", fraction_percent),
    Column("hv20", "HV20", fraction_percent),
    Column("iv_rank", "IV rank", _number1),
    Column("iv_percentile", "IV pctl", _number1),
    Column("iv_history_days", "IV days"),
    Column("iv_as_of", "IV as of", numeric=False),
    Column("expected_move", "Exp. move", money),
    Column(
        "strike_in_expected_moves",
        "Exp. moves",
        _number2,
        sortable=True,
    ),
    Column("new", "New", numeric=False),
)
#: The names of the history's columns, left out of the CSV when the history is off.
VOLATILITY_NAMES = frozenset(column.name for column in VOLATILITY)
_EARNINGS = _page_only("earnings", "Earnings", "earnings", numeric=False)

#: A ticker's puts (the drilldown, ``/api/options``, ``/options.csv``).
PUTS = Table(
    columns=(
        *_data_columns(ScreenedPut, _PUT_FIELDS),
        _STALE,
        *VOLATILITY,
        _page_only("fair_value", "Fair value", "strike_badge", numeric=False),
        _page_only("contracts", "Contracts", "contracts", shown_with="cash"),
        _page_only("total_premium", "Total premium", "position_premium", shown_with="cash"),
        _EARNINGS,
    ),
    page=(
        "strike",
        "fair_value",
        "bid",
        "ask",
        "last",
        "spread_pct",
        "annualized",
        "pct_otm",
        "strike_in_expected_moves",
        "delta",
        "prob_otm",
        "breakeven",
        "premium",
        "collateral",
        "contracts",
        "total_premium",
        "iv",
        "dte",
        "volume",
        "open_interest",
        "earnings",
    ),
)

_CALL_FIELDS = {
    column.name: column
    for column in (
        Column("ticker", "Ticker", cell="ticker_link", numeric=False, shown_with="ticker"),
        Column("expiration", "Expiration", expiration_label, numeric=False),
        Column("strike", "Strike", money, cell="strike_new"),
        Column("bid", "Bid", money),
        Column("annualized", "Annualized", percent),
        Column("pct_otm", "OTM", percent),
        Column("delta", "Delta", _number3),
        Column("prob_otm", "Prob. OTM", fraction_percent),
        Column("contracts", "Contracts"),
        Column("cost_basis", "Cost basis", money),
        Column("spot", "Spot", money),
        Column("dte", "DTE"),
        Column("open_interest", "Open int.", _number0),
    )
}

#: The covered calls of the shares held (the Calls tab, the drilldown, ``side=call``).
CALLS = Table(
    columns=(
        *_data_columns(ScreenedCall, _CALL_FIELDS),
        _STALE,
        *VOLATILITY,
        _page_only("delta_target", "Delta target", "delta_target"),
        _page_only("premium_all", "Premium, all contracts", "premium_all"),
        _EARNINGS,
    ),
    page=(
        "ticker",
        "expiration",
        "strike",
        "bid",
        "annualized",
        "pct_otm",
        "delta",
        "delta_target",
        "prob_otm",
        "contracts",
        "premium_all",
        "cost_basis",
        "spot",
        "dte",
        "open_interest",
        "earnings",
    ),
)


def _summary(name: str, label: str, format: Callable[[Any], Any] = plain, **options: Any) -> Column:
    """A column of the dashboard's table: on the page only, sortable by ``name``."""
    return Column(name, label, format, sortable=True, csv=False, json=False, **options)


#: The dashboard's table: one summary per ticker. ``ticker`` and ``value`` are ordered
#: here; the others by the scan's stored sort scores (``scan.summary.SCORED_SORTS``).
SUMMARY = Table(
    columns=(
        _summary("value", "Fair value", cell="summary_badge", numeric=False),
        _summary("ticker", "Ticker", cell="ticker_header", numeric=False),
        _summary("spot", "Spot", money),
        _summary("annualized", "Best annualized", percent, field="best_annualized"),
        _summary("puts", "Puts"),
        _summary("delta", "Lowest |delta|", _number3, field="lowest_abs_delta"),
        _summary("scanned", "Last scanned", eastern_time, field="scanned_at", numeric=False),
        _summary("iv_rank", "IV rank", _number1, cell="iv_rank"),
    ),
    page=("value", "ticker", "spot", "annualized", "puts", "delta", "iv_rank", "scanned"),
)


@cache
def shown_tables(history: bool) -> dict[str, Table]:
    """The tables as the app shows them: ``summary``, ``put`` and ``call``, without the
    history's columns when ``HISTORY=off``."""
    if history:
        return {"summary": SUMMARY, "put": PUTS, "call": CALLS}
    return {
        "summary": SUMMARY.without({"iv_rank"}),
        "put": PUTS.without(VOLATILITY_NAMES),
        "call": CALLS.without(VOLATILITY_NAMES),
    }


def sort_rows_by(
    rows: Iterable[Mapping[str, Any]], column: str, direction: str
) -> list[Mapping[str, Any]]:
    """``rows`` by ``column`` (``asc`` or ``desc``); rows missing it come last either way,
    and ties keep their order."""
    rows = list(rows)
    known = [row for row in rows if finite_number(row.get(column)) is not None]
    missing = [row for row in rows if finite_number(row.get(column)) is None]
    known.sort(key=lambda row: row[column], reverse=direction == "desc")
    return known + missing
