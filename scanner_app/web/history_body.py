"""The body of ``GET /api/history/<SYMBOL>``: every stored day and the ticker's IV rank."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..db import StoredDay
from ..valuation.volatility import TRADING_DAYS, iv_percentile, iv_rank


def history_body(symbol: str, days: Sequence[StoredDay]) -> dict[str, Any]:
    """``days`` (oldest first) as the API gives them, with the IV rank and percentile of the
    window: the last 252 days with an IV30, up to the latest (``as_of``)."""
    with_iv = [day for day in days if day.iv30 is not None][-TRADING_DAYS:]
    window = [day.iv30 for day in with_iv]
    return {
        "symbol": symbol,
        "days": [
            {"date": day.day.isoformat(), "close": day.close, "iv30": day.iv30, "hv20": day.hv20}
            for day in days
        ],
        "iv_rank": iv_rank(window),
        "iv_percentile": iv_percentile(window),
        "iv_history_days": len(window),
        "as_of": with_iv[-1].day.isoformat() if with_iv else None,
    }
