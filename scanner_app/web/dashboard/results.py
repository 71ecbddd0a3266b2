"""The results table's context: one page of tickers for the view in the URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flask import request

from ...screens.query import parse_filters
from ...services import current_scanner
from ..criteria_text import criteria_sentence
from ..display import data_banners, market_opens
from ..fair_value_book import FairValueBook
from ..own_watchlist import own_symbols_key, own_watchlist
from ..scope import scope_args, wants_everyone
from .listing import Among, ResultsPage, read_results_page


def _among(everyone: bool) -> Among | None:
    """The current user's tickers, None for everyone's (``scope=all``)."""
    own = own_watchlist()
    if everyone or own.user_id is None:
        return None
    user_id = own.user_id
    return Among(
        own_symbols_key(user_id), lambda: current_scanner().watchlists.own_symbols(user_id)
    )


def results_page(args: Mapping[str, str]) -> ResultsPage:
    """The page of tickers that the query ``args`` asks for: the user's own, or with
    ``scope=all`` everyone's; fair values are the user's own where they set one."""
    scanner = current_scanner()
    filters, messages = parse_filters(args)
    book = FairValueBook(own_watchlist().watchlist, scanner.reader)
    page = read_results_page(scanner.reader, filters, messages, book, _among(wants_everyone(args)))
    return replace(page, fair_values={symbol: book.describe(symbol) for symbol in page.symbols})


def results_context(page: ResultsPage) -> dict[str, Any]:
    """What ``partials/results.html``, the filter form and the banners show for ``page``."""
    scanner = current_scanner()
    own = own_watchlist()
    settings_cash = own.cash(scanner.settings["CASH_AVAILABLE"])
    cash = page.filters.cash
    return {
        "results": page,
        "filters": page.filters,
        "criteria_text": criteria_sentence(
            scanner.criteria,
            page.filters,
            today=scanner.clock(),
            cash=cash if cash is not None else settings_cash,
        ),
        "settings_cash": settings_cash,
        "everyone": wants_everyone(request.args),
        "scope": scope_args(request.args).get("scope"),
        "watchlist_unavailable": own.unavailable,
        "market_opens": market_opens(scanner),
        "cache_banners": data_banners(page.available, page.failed, page.failed_sample),
    }
