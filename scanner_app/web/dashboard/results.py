"""The results table's context: one page of tickers for the view in the URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...services import current_scanner
from ..criteria_text import criteria_sentence
from ..display import data_banners
from ..fair_value_book import FairValueBook
from ..query import parse_filters
from .listing import ResultsPage, read_results_page


def results_page(args: Mapping[str, str]) -> ResultsPage:
    """The page of tickers that the query ``args`` asks for."""
    scanner = current_scanner()
    filters, messages = parse_filters(args)
    book = FairValueBook(scanner.watchlist, scanner.reader)
    page = read_results_page(scanner.reader, filters, messages, book)
    return replace(page, fair_values={symbol: book.describe(symbol) for symbol in page.symbols})


def results_context(page: ResultsPage) -> dict[str, Any]:
    """What ``partials/results.html`` and the banners show for ``page``."""
    scanner = current_scanner()
    return {
        "results": page,
        "filters": page.filters,
        "criteria_text": criteria_sentence(scanner.criteria, page.filters),
        "settings_cash": scanner.settings["CASH_AVAILABLE"],
        "cache_banners": data_banners(page.available, page.failed, page.failed_sample),
    }
