"""One holder's covered calls, cut from the calls the scan screened for every holder.

The scan screens a symbol's calls down to the lowest cost basis among its holders; each
holder then sees the calls at or above their own cost basis, sized to their own shares
(contracts = shares // 100), with the breakeven and called-away return of their own basis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..market import pricing
from ..numbers import finite_number
from ..watchlist import Position


def own_calls(rows: Iterable[Mapping[str, Any]], position: Position) -> list[dict[str, Any]]:
    """The stored call ``rows`` of one symbol as the holder of ``position`` sees them; none
    when the position covers no contract."""
    if position.contracts < 1:
        return []
    basis = position.cost_basis
    mine = []
    for row in rows:
        strike, bid = finite_number(row.get("strike")), finite_number(row.get("bid"))
        if strike is None or bid is None or (basis is not None and strike < basis):
            continue
        owned_at = basis if basis is not None else finite_number(row.get("spot"))
        dte = row.get("dte")
        own = {**row, "contracts": position.contracts, "cost_basis": basis}
        if owned_at is not None and owned_at > 0:
            own["breakeven"] = owned_at - bid
            if isinstance(dte, int) and dte >= 1:
                own["called_away_annualized"] = pricing.called_away_return(
                    bid, strike, owned_at, dte
                )
        mine.append(own)
    return mine
