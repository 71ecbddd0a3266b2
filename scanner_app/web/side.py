"""Which side of the chain a view shows: cash-secured puts (the default) or covered calls."""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.exceptions import BadRequest

#: side (the ``side`` query value) -> the working-set hash that holds its rows
ROW_HASHES = {"put": "puts", "call": "calls"}
MAX_SHOWN = 20


def parse_side(args: Mapping[str, str]) -> str:
    """The ``side`` asked for in ``args`` (``put`` when absent); a 400 for any other."""
    raw = args.get("side", "")
    side = raw.strip().lower() or "put"
    if side not in ROW_HASHES:
        shown = raw if len(raw) <= MAX_SHOWN else raw[:MAX_SHOWN] + "…"
        raise BadRequest(f"Unknown side “{shown}”: use side=put (the default) or side=call.")
    return side
