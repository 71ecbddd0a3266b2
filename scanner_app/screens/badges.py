"""The fair-value badge: facts (a strike, a fair value) judged at render time, never stored."""

from __future__ import annotations

from typing import Any

from ..numbers import finite_number

GOOD, HIGH, NO_FAIR_VALUE = "good", "high", "n/a"

#: Rank of a badge in the "value" sort; n/a has none, so it sorts last.
BADGE_RANK = {GOOD: 0, HIGH: 1}


def strike_badge(strike: Any, fair_value: float | None) -> str:
    """``good`` when the strike is at or below the fair value, ``high`` above, else ``n/a``.

    For a ticker, pass its lowest strike: some strike is good exactly when that one is.
    """
    strike = finite_number(strike)
    if fair_value is None or strike is None:
        return NO_FAIR_VALUE
    return GOOD if strike <= fair_value else HIGH
