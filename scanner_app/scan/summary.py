"""A ticker's compact summary: the facts its dashboard row shows and sorts by.

The engine stores one per ticker when it publishes, so the dashboard's unfiltered pages
never parse a put; a filtered view builds the same summary from the rows that pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..numbers import finite_number

#: Dashboard sort keys whose order Redis keeps in a sorted set (``idx:<key>``), and the
#: summary fact each one is scored by. ``ticker`` is ordered by the symbol itself.
SCORED_SORTS = {
    "spot": "spot",
    "annualized": "best_annualized",
    "puts": "puts",
    "delta": "lowest_abs_delta",
    "strike": "lowest_strike",
    "iv_rank": "iv_rank",
}
#: The ticker's own figures, the same on each of its rows (see ``scan.history``).
TICKER_FIGURES = ("iv30", "hv20", "iv_rank", "iv_percentile", "iv_history_days", "iv_as_of")


def _values(rows: Iterable[Mapping[str, Any]], key: str) -> list[float]:
    found = (finite_number(row.get(key)) for row in rows)
    return [value for value in found if value is not None]


#: The fields of a put that a dashboard line names for its best put, in the order the
#: summary stores them (a list, to keep summaries small).
BEST_PUT_FIELDS = ("strike", "expiration", "dte", "bid", "delta", "annualized")
#: Dashboard sorts by a contract figure -> the put that ranks first under it: the highest
#: annualized, or the lowest |delta|. Any other sort names the best annualized put.
BEST_PUT_RANKS = {
    "annualized": lambda row: finite_number(row.get("annualized")),
    "delta": lambda row: _negated(_absolute(row.get("delta"))),
}


def _absolute(value: Any) -> float | None:
    number = finite_number(value)
    return None if number is None else abs(number)


def _negated(value: float | None) -> float | None:
    return None if value is None else -value


def _best_put(rows: list[Mapping[str, Any]], rank) -> list[Any] | None:
    """The ``BEST_PUT_FIELDS`` of the first row that ranks highest under ``rank`` (None
    when no row has a rank)."""
    ranked = [(score, index) for index, row in enumerate(rows) if (score := rank(row)) is not None]
    if not ranked:
        return None
    _score, index = max(ranked, key=lambda pair: (pair[0], -pair[1]))
    return [rows[index].get(name) for name in BEST_PUT_FIELDS]


def summarize_rows(rows: list[Mapping[str, Any]], scanned_at: str | None) -> dict[str, Any]:
    """The summary of one ticker's (qualifying or filtered) put rows, with the ticker's own
    figures when its rows carry them, and the put each contract-figure sort ranks first
    (``best``: sort -> the put's ``BEST_PUT_FIELDS``)."""
    first = rows[0] if rows else {}
    return {
        **{name: first[name] for name in TICKER_FIGURES if name in first},
        "puts": len(rows),
        "spot": max(_values(rows, "spot"), default=None),
        "best_annualized": max(_values(rows, "annualized"), default=None),
        "lowest_abs_delta": min(map(abs, _values(rows, "delta")), default=None),
        "lowest_strike": min(_values(rows, "strike"), default=None),
        "scanned_at": scanned_at,
        "best": {sort: _best_put(rows, rank) for sort, rank in BEST_PUT_RANKS.items()},
    }


def sort_scores(summary: Mapping[str, Any]) -> dict[str, float | None]:
    """The score of ``summary`` under each scored sort key (None: no value, sorts last)."""
    return {sort: finite_number(summary.get(fact)) for sort, fact in SCORED_SORTS.items()}
