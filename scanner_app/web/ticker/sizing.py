"""Position sizing: how many puts some cash secures, and the premium they bring."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...numbers import finite_number

SHARES_PER_CONTRACT = 100


@dataclass(frozen=True)
class Position:
    """``contracts`` puts the cash secures, and the ``premium`` selling them at the bid brings."""

    contracts: int
    premium: float


def position(row: Mapping[str, Any], cash: float) -> Position | None:
    """floor(cash / (strike x 100)) contracts and contracts x bid x 100 of premium; None
    when the row has no usable strike or bid."""
    strike = finite_number(row.get("strike"))
    bid = finite_number(row.get("bid"))
    if strike is None or strike <= 0 or bid is None:
        return None
    # in whole cents, so that $3,330 secures one $33.30 put despite binary fractions
    collateral_cents = round(strike * SHARES_PER_CONTRACT * 100)
    contracts = round(cash * 100) // collateral_cents if collateral_cents else 0
    return Position(contracts, contracts * bid * SHARES_PER_CONTRACT)


def sizing_cash(filters_cash: float | None, own_cash: float | None) -> float | None:
    """The cash to size with: typed into the form, else the user's own (their setting,
    else ``CASH_AVAILABLE``), else none."""
    return filters_cash if filters_cash is not None else own_cash
