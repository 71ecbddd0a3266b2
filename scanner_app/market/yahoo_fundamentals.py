"""A company's trailing figures from Yahoo's quoteSummary answer, as yfinance fetches it.

One request asks for the ``financialData`` module (``freeCashflow``: trailing twelve
months) and ``defaultKeyStatistics`` (``trailingEps``, ``sharesOutstanding``). yfinance
asks for raw numbers (``formatted=false``); a ``{"raw": ..., "fmt": ...}`` pair is read too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..valuation.methods import Fundamentals
from .errors import MarketDataError
from .models import finite

MODULES = ["financialData", "defaultKeyStatistics"]


def _number(module: Any, name: str) -> float | None:
    """A finite number of ``module``, or None."""
    if not isinstance(module, Mapping):
        return None
    value = module.get(name)
    if isinstance(value, Mapping):
        value = value.get("raw")
    return finite(value)


def fundamentals_from_summary(symbol: str, answer: Any) -> Fundamentals:
    """The figures in a quoteSummary ``answer``; ``MarketDataError`` when it has no result
    (yfinance answers None for a 404: Yahoo does not know the symbol)."""
    try:
        result = answer["quoteSummary"]["result"][0]
    except (KeyError, IndexError, TypeError):
        raise MarketDataError(f"Yahoo has no fundamentals for {symbol}") from None
    if not isinstance(result, Mapping):
        raise MarketDataError(f"Yahoo has no fundamentals for {symbol}")
    statistics = result.get("defaultKeyStatistics")
    return Fundamentals(
        eps=_number(statistics, "trailingEps"),
        free_cash_flow=_number(result.get("financialData"), "freeCashflow"),
        shares=_number(statistics, "sharesOutstanding"),
    )
