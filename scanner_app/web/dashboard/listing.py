"""One page of the dashboard's tickers, read at the cost of what it shows.

Three ways to the same page, all ordered as ``ticker_summaries.order_symbols`` orders:
- unfiltered, by a stored order (symbol, spot, annualized, puts, delta, IV rank): Redis
  keeps a sorted set per order, so the page reads only its own tickers: O(page);
- unfiltered, by fair value: the badge is judged now, from every ticker's lowest strike
  and today's fair values: O(tickers), a number per ticker;
- filtered: every row is read and filtered: O(rows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ...scan.reads import FAILED_SHOWN, Listing, ResultReader
from ...scan.summary import sort_scores, summarize_rows
from ...screens.query import ResultFilters
from ...screens.row_filters import filter_rows
from .ticker_summaries import TickerSummary, badge_scores, order_symbols

FairValue = Callable[[str], float | None]


@dataclass(frozen=True)
class Among:
    """One user's tickers: the Redis sorted set of their symbols (a page is cut from it at
    its own cost), and how to read them all (from the database, rewriting that set)."""

    key: str
    symbols: Callable[[], list[str]]


def _prime(fair_value: FairValue, symbols: Iterable[str]) -> None:
    """Let a lookup that reads Redis (``FairValueBook``) read ``symbols`` in one round trip."""
    prime = getattr(fair_value, "prime", None)
    if prime is not None:
        prime(symbols)


PAST_LAST_PAGE = "page {page} is past the last page; showing page {last}."


@dataclass(frozen=True)
class ResultsPage:
    """What the results table shows: one page of ticker summaries and the counts around it."""

    filters: ResultFilters
    summaries: list[TickerSummary] = field(default_factory=list)
    listed: int = 0
    changed_at: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    failed_sample: dict[str, str] = field(default_factory=dict)
    #: How many tickers have no qualifying put, and the first of them (to link to).
    unlisted_count: int = 0
    unlisted: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    has_results: bool = False
    available: bool = False
    #: The shown tickers' fair values and where they come from (``FairValue``).
    fair_values: dict[str, Any] = field(default_factory=dict)
    #: The user's tickers that no scan has reached yet.
    waiting: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """How many pages the view has (at least 1)."""
        return max(1, -(-self.listed // self.filters.per_page))

    @property
    def first_shown(self) -> int:
        """The position of the page's first ticker, from 1 (0 on an empty page)."""
        return self.filters.offset + 1 if self.summaries else 0

    @property
    def last_shown(self) -> int:
        """The position of the page's last ticker."""
        return self.filters.offset + len(self.summaries)

    @property
    def symbols(self) -> list[str]:
        """The page's tickers, in order."""
        return [summary.symbol for summary in self.summaries]


def _from_listing(listing: Listing, filters: ResultFilters, fair_value: FairValue) -> ResultsPage:
    _prime(fair_value, listing.symbols)
    summaries = [
        TickerSummary.of(
            symbol,
            listing.summaries.get(symbol, {}),
            listing.errors.get(symbol),
            fair_value(symbol),
            listing.partial.get(symbol, ()),
        )
        for symbol in listing.symbols
    ]
    return ResultsPage(
        filters=filters,
        summaries=summaries,
        listed=listing.listed,
        changed_at=listing.changed_at,
        failed=listing.failed,
        failed_sample=listing.failed_sample,
        unlisted_count=listing.no_puts,
        unlisted=listing.no_puts_sample,
        has_results=listing.listed > 0,
        available=listing.available,
        waiting=listing.waiting,
    )


def _own_tallies(page: ResultsPage, reader: ResultReader, among: Among | None) -> ResultsPage:
    """``page`` with its failed and no-put tallies counted among the user's tickers."""
    tallies = None if among is None else reader.own_tallies(among.key)
    if tallies is None:
        return page
    failed, failed_sample, no_puts, no_puts_sample = tallies
    return replace(
        page,
        failed=failed,
        failed_sample=failed_sample,
        unlisted_count=no_puts,
        unlisted=no_puts_sample,
    )


def _stored_order(
    reader: ResultReader, filters: ResultFilters, fair_value: FairValue, among: Among | None
):
    """The page in a stored order: Redis cuts it (among the user's tickers: from their
    set, rewritten from the database when it is missing)."""
    order = None if filters.sort == "ticker" else filters.sort
    cut = (order, filters.offset, filters.per_page, filters.direction == "desc")
    if among is None:
        return _from_listing(reader.read_page(*cut), filters, fair_value)
    listing = reader.read_own_page(among.key, *cut)
    if listing is None and among.symbols():  # the set was missing: rewritten, read again
        listing = reader.read_own_page(among.key, *cut)
    return _from_listing(listing or Listing(available=True), filters, fair_value)


def _fair_value_order(
    reader: ResultReader, filters: ResultFilters, fair_value: FairValue, among: Among | None
):
    """The page in fair-value order: every listed ticker's (or the user's) badge judged now."""
    strikes = reader.lowest_strikes()
    if strikes is None:
        return ResultsPage(filters)
    listed, lowest = strikes
    if among is not None:
        mine = set(among.symbols())
        listed = [symbol for symbol in listed if symbol in mine]
    _prime(fair_value, listed)
    ordered = order_symbols(
        badge_scores(listed, lowest, fair_value), descending=filters.direction == "desc"
    )
    page = ordered[filters.offset : filters.offset + filters.per_page]
    found = replace(
        _from_listing(reader.read_symbols(page), filters, fair_value), listed=len(listed)
    )
    return _own_tallies(found, reader, among)


def _filtered(
    reader: ResultReader, filters: ResultFilters, fair_value: FairValue, among: Among | None
):
    """The filtered page: every row (of the user's tickers) read and filtered."""
    everything = reader.read_everything()
    if everything is None:
        return ResultsPage(filters)
    puts, scan_times, errors, partial = everything
    if among is not None:
        mine = set(among.symbols())
        puts = {symbol: rows for symbol, rows in puts.items() if symbol in mine}
        errors = {symbol: error for symbol, error in errors.items() if symbol in mine}
    _prime(fair_value, puts)
    facts = {}
    for symbol, rows in puts.items():
        kept = filter_rows(rows, filters, fair_value(symbol))
        if kept:
            facts[symbol] = summarize_rows(kept, scan_times.get(symbol))
    for symbol in errors:
        facts.setdefault(symbol, {"puts": 0, "scanned_at": scan_times.get(symbol)})
    ordered = order_symbols(_scores(facts, filters, fair_value), filters.direction == "desc")
    page = ordered[filters.offset : filters.offset + filters.per_page]
    failed = sorted(errors)
    no_puts, no_puts_sample = reader.no_put_tickers()
    found = ResultsPage(
        filters=filters,
        summaries=[
            TickerSummary.of(
                symbol,
                facts[symbol],
                errors.get(symbol),
                fair_value(symbol),
                partial.get(symbol, ()),
            )
            for symbol in page
        ],
        listed=len(ordered),
        changed_at=reader.change_versions(page),
        failed=len(failed),
        failed_sample={symbol: errors[symbol] for symbol in failed[:FAILED_SHOWN]},
        unlisted_count=no_puts,
        unlisted=no_puts_sample,
        has_results=bool(puts) or bool(errors),
        available=True,
    )
    return _own_tallies(found, reader, among)


def _scores(
    facts: Mapping[str, Mapping], filters: ResultFilters, fair_value: FairValue
) -> dict[str, float | None]:
    if filters.sort == "ticker":
        return dict.fromkeys(facts, 0.0)
    if filters.sort == "value":
        lowest = {symbol: fact.get("lowest_strike") for symbol, fact in facts.items()}
        return badge_scores(facts, lowest, fair_value)
    return {symbol: sort_scores(fact)[filters.sort] for symbol, fact in facts.items()}


def read_results_page(
    reader: ResultReader,
    filters: ResultFilters,
    messages: list[str],
    fair_value: FairValue,
    among: Among | None = None,
) -> ResultsPage:
    """The page of tickers that ``filters`` asks for, among one user's (``among``) or
    everyone's; past the last page, the last page."""
    if filters.active:
        strategy = _filtered
    elif filters.sort == "value":
        strategy = _fair_value_order
    else:
        strategy = _stored_order
    page = strategy(reader, filters, fair_value, among)
    if page.available and filters.page > page.pages:
        messages = [*messages, PAST_LAST_PAGE.format(page=filters.page, last=page.pages)]
        page = strategy(reader, filters.on_page(page.pages), fair_value, among)
    return replace(page, messages=messages)
