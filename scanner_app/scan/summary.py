"""A ticker's compact summary: the facts its dashboard row shows and sorts by.

The engine stores one per ticker when it publishes, so the dashboard's unfiltered pages
never parse a put; a filtered view builds the same summary from the rows that pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..numbers import finite_number

#: Dashboard sort keys whose order Redis keeps in a sorted set (``idx:<key>``), and the
#: summary fact each one is scored by. ``ticker`` is ordered by the symbol itself.
SCORED_SORTS = {
    "spot": "spot",
    "annualized": "best_annualized",
    "puts": "puts",
    "delta": "lowest_abs_delta",
    "scanned": "scanned_at",
    "strike": "lowest_strike",
    "iv_rank": "iv_rank",
}
#: The ticker's own figures, the same on each of its rows (see ``scan.history``).
TICKER_FIGURES = ("iv30", "hv20", "iv_rank", "iv_percentile", "iv_history_days", "iv_as_of")


def _values(rows: Iterable[Mapping[str, Any]], key: str) -> list[float]:
    found = (finite_number(row.get(key)) for row in rows)
    return [value for value in found if value is not None]


def summarize_rows(rows: list[Mapping[str, Any]], scanned_at: str | None) -> dict[str, Any]:
    """The summary of one ticker's (qualifying or filtered) put rows, with the ticker's own
    figures when its rows carry them."""
    first = rows[0] if rows else {}
    return {
        **{name: first[name] for name in TICKER_FIGURES if name in first},
        "puts": len(rows),
        "spot": max(_values(rows, "spot"), default=None),
        "best_annualized": max(_values(rows, "annualized"), default=None),
        "lowest_abs_delta": min(map(abs, _values(rows, "delta")), default=None),
        "lowest_strike": min(_values(rows, "strike"), default=None),
        "scanned_at": scanned_at,
    }


def time_score(value: Any) -> float | None:
    """An ISO-8601 time with an offset as epoch seconds, for sorting; None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.timestamp() if moment.utcoffset() is not None else None


def sort_scores(summary: Mapping[str, Any]) -> dict[str, float | None]:
    """The score of ``summary`` under each scored sort key (None: no value, sorts last)."""
    scores = {}
    for sort, fact in SCORED_SORTS.items():
        value = summary.get(fact)
        scores[sort] = time_score(value) if fact == "scanned_at" else finite_number(value)
    return scores
