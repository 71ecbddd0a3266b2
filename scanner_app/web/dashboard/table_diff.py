"""What a poll must send so the browser's results table becomes the page it should show.

The browser says which tickers its table shows, in order; the server knows the page it
should show now and which of its tickers changed since the browser's version. The plan
keeps the longest run of rows already in the right relative order where they are (those
that changed are replaced in place), deletes the rows that left the page, and moves or
inserts every other row after the row that now comes before it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TablePlan:
    """The swaps that turn the shown table into the page: applied in this order."""

    delete: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)
    #: (symbol, the symbol whose row it goes after, or None for the top of the table)
    insert: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether the table is already right."""
        return not (self.delete or self.replace or self.insert)


def _longest_increasing(positions: Sequence[int]) -> set[int]:
    """The indices of one longest strictly increasing subsequence of ``positions``."""
    tails: list[int] = []  # tails[k]: index of the smallest tail of a run of length k + 1
    tail_positions: list[int] = []
    previous = [-1] * len(positions)
    for index, position in enumerate(positions):
        k = bisect_left(tail_positions, position)
        if k:
            previous[index] = tails[k - 1]
        if k == len(tails):
            tails.append(index)
            tail_positions.append(position)
        else:
            tails[k] = index
            tail_positions[k] = position
    kept, index = set(), tails[-1] if tails else -1
    while index >= 0:
        kept.add(index)
        index = previous[index]
    return kept


def plan_table(shown: Sequence[str], page: Sequence[str], changed: Collection[str]) -> TablePlan:
    """The swaps from ``shown`` (the browser's rows) to ``page``, given what ``changed``."""
    place = {symbol: index for index, symbol in enumerate(shown)}
    common = [symbol for symbol in page if symbol in place]
    staying = {common[index] for index in _longest_increasing([place[symbol] for symbol in common])}
    plan = TablePlan(delete=[symbol for symbol in shown if symbol not in staying])
    before = None
    for symbol in page:
        if symbol in staying:
            if symbol in changed:
                plan.replace.append(symbol)
        else:
            plan.insert.append((symbol, before))
        before = symbol
    return plan
