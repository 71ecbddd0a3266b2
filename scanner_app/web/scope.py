"""Whose tickers a view shows: the signed-in user's own (the default), or with
``scope=all`` every ticker anyone watches (market data is shared; positions and cash are
not)."""

from __future__ import annotations

from collections.abc import Mapping

SCOPE_ALL = "all"


def wants_everyone(args: Mapping[str, str]) -> bool:
    """Whether the query ``args`` ask for every user's tickers (``scope=all``)."""
    return args.get("scope") == SCOPE_ALL


def scope_args(args: Mapping[str, str]) -> dict[str, str]:
    """The query arguments that keep the scope of ``args`` in a link (none for one's own)."""
    return {"scope": SCOPE_ALL} if wants_everyone(args) else {}
