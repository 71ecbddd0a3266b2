"""Each table's columns, declared once: the templates, the sort keys, the CSV and the JSON
all read them.

A ``Table`` is its columns in the order of its stored rows (the order of the CSV and of
each row's JSON), then the columns only the page works out, and the names of the columns
the page shows, in the page's order. A column says which row field it shows, its short
header on the page and the full one on hover, how the page and the CSV show it, whether
the page sorts by it, and whether the CSV and the JSON carry it. Adding a column is one
``Column`` here (and its name in ``page`` when the page shows it) plus its computation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from functools import cache, partial
from typing import Any

from ..market.models import ScreenedCall, ScreenedPut
from ..numbers import finite_number
from .display import (
    fraction_percent,
    money,
    number,
    percent,
    short_date,
    whole_money,
)


def plain(value: Any) -> Any:
    """``value`` as it is (Jinja shows it as text)."""
    return value


def csv_value(value: Any) -> Any:
    """A CSV cell of a column without a format of its own: booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _fixed(value: Any, digits: int = 2, scale: float = 1.0) -> str:
    """``value`` x ``scale`` with ``digits`` decimals, no separators (empty when missing)."""
    number_value = finite_number(value)
    return "" if number_value is None else f"{number_value * scale:.{digits}f}"


_csv_price = partial(_fixed, digits=2)
_csv_percent = partial(_fixed, digits=2)
_csv_fraction_percent = partial(_fixed, digits=2, scale=100.0)
_csv_greek = partial(_fixed, digits=4)


@dataclass(frozen=True)
class Column:
    """One column of a table: what it shows, how, and where.

    ``label`` is the page's (short) header, ``title`` the full one shown on hover (and
    read by screen readers) when it says more. ``cell`` names the macro of
    ``partials/cells.html`` that draws it on the page: ``value`` (``format`` applied to
    the row's ``field``) unless the column needs a cell of its own. ``csv_format`` writes
    its CSV cell as the page shows the value, without units or separators.
    ``shown_with`` names what the view must have for the page to show it (``cash`` for
    the sizing columns, ``ticker`` for the Calls tab's ticker column, ``flat`` for the
    drilldown's one table across expirations).
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
    title: str = ""
    csv_format: Callable[[Any], Any] = csv_value
    #: What a caption says the table is sorted by, when the full header does not say it.
    sorted_as: str = ""

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

    def csv_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """``row``'s CSV cells, each written by its column's ``csv_format``."""
        return {
            column.name: column.csv_format(row.get(column.name))
            for column in self.columns
            if column.csv
        }

    @property
    def json_fields(self) -> tuple[str, ...]:
        """The fields of each row of the JSON, in order."""
        return tuple(column.name for column in self.columns if column.json)

    @property
    def sort_keys(self) -> tuple[str, ...]:
        """The columns the page can sort by, in the page's order."""
        return tuple(column.name for column in self.page_columns() if column.sortable)

    def labels(self) -> dict[str, str]:
        """What each shown column sorts by, in words, by name (captions say what a table is
        sorted by): its ``sorted_as``, else its full header."""
        return {
            column.name: column.sorted_as or column.title or column.label
            for column in self.page_columns()
        }

    def sort_rows(
        self, rows: Iterable[Mapping[str, Any]], name: str, direction: str
    ) -> list[Mapping[str, Any]]:
        """``rows`` sorted by the column ``name`` (see ``sort_rows_by``)."""
        return sort_rows_by(rows, name, direction, text=not self.column(name).numeric)

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


_number1 = partial(number, digits=1)
_number2 = partial(number, digits=2)
_number0 = partial(number, digits=0)
_percent0 = partial(fraction_percent, digits=0)

#: How every contract table declares the stored fields they share (a call's ``pct_otm``
#: and ``delta`` read as a call's). The CSV writes each as the page shows it.
_CONTRACT_FIELDS = (
    Column("ticker", "Ticker", cell="ticker_link", numeric=False, shown_with="ticker"),
    Column("expiration", "Exp.", short_date, sortable=True, numeric=False, title="Expiration"),
    Column("strike", "Strike", money, cell="row_header", sortable=True, csv_format=_csv_price),
    Column(
        "bid",
        "Bid × Ask",
        cell="bid_ask",
        sortable=True,
        title="Bid × ask (sorts by the bid)",
        csv_format=_csv_price,
    ),
    Column("ask", "Ask", money, csv_format=_csv_price),
    Column("last", "Last", money, csv_format=_csv_price),
    Column("volume", "Vol.", _number0, sortable=True, title="Volume of the day"),
    Column("open_interest", "OI", _number0, sortable=True, title="Open interest"),
    Column(
        "iv",
        "IV",
        fraction_percent,
        sortable=True,
        title="Implied volatility",
        csv_format=_csv_fraction_percent,
    ),
    Column("spot", "Spot", money, csv_format=_csv_price),
    Column("dte", "DTE", sortable=True, title="Days to expiration"),
    Column(
        "annualized",
        "Ann.",
        percent,
        sortable=True,
        title="Annualized return on the collateral",
        csv_format=_csv_percent,
    ),
    Column(
        "pct_otm",
        "OTM",
        percent,
        sortable=True,
        title="How far out of the money, %",
        csv_format=_csv_percent,
    ),
    Column("delta", "Delta", _number2, sortable=True, csv_format=_csv_greek),
    Column(
        "prob_otm",
        "P(OTM)",
        _percent0,
        sortable=True,
        title="Probability of expiring out of the money",
        csv_format=_csv_fraction_percent,
    ),
    Column("breakeven", "B/E", money, sortable=True, title="Breakeven", csv_format=_csv_price),
    Column(
        "premium",
        "Prem.",
        whole_money,
        sortable=True,
        title="Premium per contract (bid × 100)",
        csv_format=_csv_price,
    ),
    Column(
        "collateral",
        "Coll.",
        whole_money,
        sortable=True,
        title="Collateral per contract (strike × 100)",
        csv_format=_csv_price,
    ),
    Column(
        "spread_pct",
        "Sprd",
        percent,
        sortable=True,
        title="Bid-ask spread, % of the mid price",
        csv_format=_csv_percent,
    ),
)


def _declared(*overrides: Column) -> dict[str, Column]:
    """The shared contract columns by name, with ``overrides`` in their place."""
    return {column.name: column for column in (*_CONTRACT_FIELDS, *overrides)}


def _page_only(name: str, label: str, cell: str, **options: Any) -> Column:
    """A column the page works out from the row: neither the CSV nor the JSON has it."""
    return Column(name, label, cell=cell, csv=False, json=False, **options)


#: ``stale``: whether the row is from an earlier scan (its ticker's latest fetch failed).
_STALE = Column("stale", json=False)
#: What the history adds to every row (``HISTORY=on``): the ticker's figures (the same on
#: each of its rows, so the page shows them once per ticker), the row's expected move and
#: its distance in expected moves, and whether it first qualified today.
VOLATILITY = (
    Column("iv30", "IV30", fraction_percent, csv_format=_csv_fraction_percent),
    Column("hv20", "HV20", fraction_percent, csv_format=_csv_fraction_percent),
    Column("iv_rank", "IV rank", _number1, csv_format=_fixed),
    Column("iv_percentile", "IV pctl", _number1, csv_format=_fixed),
    Column("iv_history_days", "IV days"),
    Column("iv_as_of", "IV as of", numeric=False),
    Column("expected_move", "Exp. move", money, csv_format=_csv_price),
    Column(
        "strike_in_expected_moves",
        "Exp. moves",
        _number2,
        sortable=True,
        title="How far the strike is from the spot, in expected moves",
        csv_format=_fixed,
    ),
    Column("new", "New", numeric=False),
)
#: The names of the history's columns, left out of the CSV when the history is off.
VOLATILITY_NAMES = frozenset(column.name for column in VOLATILITY)
_EARNINGS = _page_only(
    "earnings",
    "Earn.",
    "earnings",
    numeric=False,
    title="Earnings on or before the expiration",
)

#: A ticker's puts (the drilldown, ``/api/options``, ``/options.csv``). The expiration
#: is a column of the drilldown's one table across expirations (``flat``); grouped by
#: expiration, each table's caption names it.
PUTS = Table(
    columns=(
        *_data_columns(
            ScreenedPut,
            _declared(
                Column(
                    "expiration",
                    "Exp.",
                    short_date,
                    sortable=True,
                    numeric=False,
                    title="Expiration",
                    shown_with="flat",
                ),
            ),
        ),
        _STALE,
        *VOLATILITY,
        _page_only(
            "fair_value",
            "vs FV",
            "strike_badge",
            numeric=False,
            title="The strike against the fair value",
        ),
        _page_only(
            "contracts", "Ctr.", "contracts", shown_with="cash", title="Contracts the cash secures"
        ),
        _page_only(
            "total_premium",
            "Tot. prem.",
            "position_premium",
            shown_with="cash",
            title="Premium of those contracts, at the bid",
        ),
        _EARNINGS,
    ),
    page=(
        "strike",
        "expiration",
        "fair_value",
        "bid",
        "spread_pct",
        "annualized",
        "pct_otm",
        "strike_in_expected_moves",
        "delta",
        "prob_otm",
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

#: The covered calls of the shares held (the Calls tab, the drilldown, ``side=call``).
CALLS = Table(
    columns=(
        *_data_columns(
            ScreenedCall,
            _declared(
                Column(
                    "ticker",
                    "Ticker",
                    cell="ticker_link",
                    numeric=False,
                    sortable=True,
                    shown_with="ticker",
                ),
                Column(
                    "strike",
                    "Strike",
                    money,
                    cell="strike_new",
                    sortable=True,
                    csv_format=_csv_price,
                ),
                Column("contracts", "Ctr.", sortable=True, title="Contracts the shares cover"),
                Column(
                    "cost_basis",
                    "Basis",
                    money,
                    sortable=True,
                    title="Cost basis",
                    csv_format=_csv_price,
                ),
                Column(
                    "called_away_annualized",
                    "If called",
                    percent,
                    sortable=True,
                    title="Annualized return if called away: premium plus strike minus "
                    "the cost basis (else the spot), over that basis",
                    csv_format=_csv_percent,
                ),
            ),
        ),
        _STALE,
        *VOLATILITY,
        _page_only(
            "delta_target",
            "Δ target",
            "delta_target",
            title="Highest call delta sold at this many days",
        ),
        _page_only(
            "premium_all",
            "Prem. all",
            "premium_all",
            title="Premium of every contract the shares cover",
        ),
        _EARNINGS,
    ),
    page=(
        "ticker",
        "expiration",
        "strike",
        "bid",
        "spread_pct",
        "annualized",
        "called_away_annualized",
        "pct_otm",
        "delta",
        "delta_target",
        "prob_otm",
        "contracts",
        "premium_all",
        "cost_basis",
        "spot",
        "iv",
        "dte",
        "open_interest",
        "earnings",
    ),
)


def _summary(name: str, label: str, format: Callable[[Any], Any] = plain, **options: Any) -> Column:
    """A column of the dashboard's table, on the page only: sortable by ``name`` unless
    told otherwise."""
    return Column(name, label, format, csv=False, json=False, **({"sortable": True} | options))


def _best(name: str, label: str, format: Callable[[Any], Any], **options: Any) -> Column:
    """A figure of the put a dashboard line names (``TickerSummary.best_put``)."""
    return _summary(name, label, format, cell="best_put", **({"sortable": False} | options))


#: The dashboard's table: one line per ticker, naming its best put (the first under a
#: contract-figure sort, else the best annualized). ``ticker`` and ``value`` are ordered
#: here; the other sortable ones by the scan's stored sort scores
#: (``scan.summary.SCORED_SORTS``). A per-ticker figure added here shows in each line.
SUMMARY = Table(
    columns=(
        _summary("ticker", "Ticker", cell="ticker_header", numeric=False),
        _best(
            "annualized", "Ann.", percent, sortable=True, title="Annualized return of the best put"
        ),
        _best("strike", "Strike", money, title="Strike of the best put"),
        _best(
            "delta",
            "Delta",
            _number2,
            sortable=True,
            title="Delta of the put of the lowest |delta| when sorted by it, else of the best put",
            sorted_as="lowest |delta|",
        ),
        _best("expiration", "Exp.", short_date, numeric=False, title="Expiration of the best put"),
        _best("dte", "DTE", plain, title="Days to expiration of the best put"),
        _best("bid", "Bid", money, title="Bid of the best put"),
        _summary("spot", "Spot", money),
        _summary(
            "value",
            "Fair value",
            cell="summary_badge",
            numeric=False,
            title="Fair value: whether a qualifying strike is at or below it, and the "
            "spot against it",
            sorted_as="the fair-value badge",
        ),
        _summary(
            "iv_rank",
            "IV rank",
            _number1,
            cell="iv_rank",
            title="IV rank = (IV30 - lowest IV30) / (highest - lowest) x 100; IV percentile = "
            "share of earlier days with a lower IV30. Series: constant-maturity 30-day "
            "at-the-money IV, last 252 stored days",
            sorted_as="IV rank",
        ),
        _summary("puts", "Puts", cell="puts_toggle", title="Qualifying puts"),
    ),
    page=(
        "ticker",
        "annualized",
        "strike",
        "delta",
        "expiration",
        "dte",
        "bid",
        "spot",
        "value",
        "iv_rank",
        "puts",
    ),
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


def _text_value(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def sort_rows_by(
    rows: Iterable[Mapping[str, Any]], column: str, direction: str, text: bool = False
) -> list[Mapping[str, Any]]:
    """``rows`` by ``column`` (``asc`` or ``desc``): by number, or by ``text`` (a ticker,
    an ISO date); rows missing it (or holding the other kind) come last either way, and
    ties keep their order."""
    value = _text_value if text else finite_number
    rows = list(rows)
    known = [row for row in rows if value(row.get(column)) is not None]
    missing = [row for row in rows if value(row.get(column)) is None]
    known.sort(key=lambda row: value(row[column]), reverse=direction == "desc")
    return known + missing
