"""The watchlist: which tickers to scan, read from a small TOML file and validated on load."""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .valuation.assumptions import RULES

#: A ticker after upper-casing: 1-10 of A-Z, 0-9, "." and "-", starting with a letter.
TICKER_PATTERN = re.compile(r"[A-Z][A-Z0-9.\-]{0,9}")

ENTRY_KEYS = ("symbol", "fair_value", "shares", "cost_basis", *RULES)
#: Shares one option contract covers.
SHARES_PER_CONTRACT = 100


class WatchlistError(ValueError):
    """The watchlist file cannot be used; the message names the file and the offending entry."""


@dataclass(frozen=True)
class Position:
    """Shares held in one ticker, and what they cost per share (None: not given)."""

    shares: int
    cost_basis: float | None = None

    @property
    def contracts(self) -> int:
        """How many call contracts the shares cover."""
        return self.shares // SHARES_PER_CONTRACT


@dataclass(frozen=True)
class WatchlistEntry:
    """One ticker to scan, with the fair value its owner estimates, the shares held, if any,
    and the fair-value assumptions set for it alone."""

    symbol: str
    fair_value: float | None = None
    position: Position | None = None
    assumptions: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Watchlist:
    """The validated tickers to scan, in file order, without duplicates."""

    entries: tuple[WatchlistEntry, ...]

    def symbols(self) -> list[str]:
        """The ticker symbols, in file order."""
        return [entry.symbol for entry in self.entries]

    @cached_property
    def _by_symbol(self) -> dict[str, WatchlistEntry]:
        return {entry.symbol: entry for entry in self.entries}

    def fair_value(self, symbol: str) -> float | None:
        """The fair value set for ``symbol`` (any case), or None if unset or not listed."""
        entry = self._by_symbol.get(symbol.upper())
        return entry.fair_value if entry else None

    def positions(self) -> dict[str, Position]:
        """The positions that cover at least one call contract, by symbol."""
        return {
            entry.symbol: entry.position
            for entry in self.entries
            if entry.position is not None and entry.position.contracts > 0
        }

    def assumptions(self, symbol: str) -> dict[str, Any]:
        """The fair-value assumptions set for ``symbol`` alone (none if not listed)."""
        entry = self._by_symbol.get(symbol.upper())
        return dict(entry.assumptions) if entry else {}

    def __contains__(self, symbol: object) -> bool:
        return isinstance(symbol, str) and symbol.upper() in self._by_symbol

    def __len__(self) -> int:
        return len(self.entries)


def normalize_symbol(raw: object) -> str | None:
    """``raw`` stripped and upper-cased if it is a valid ticker, else None.

    Only ASCII is accepted, so look-alike letters (such as "ß", which upper-cases
    to "SS") can never slip through.
    """
    if not isinstance(raw, str) or not raw.isascii():
        return None
    symbol = raw.strip().upper()
    return symbol if TICKER_PATTERN.fullmatch(symbol) else None


def load_watchlist(path: Path) -> Watchlist:
    """Read and validate the watchlist TOML file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise WatchlistError(f"{path}: cannot read the watchlist: {error}") from None
    return parse_watchlist(text, source=str(path))


def parse_watchlist(text: str, source: str = "<watchlist>") -> Watchlist:
    """Parse and validate watchlist TOML ``text``; ``source`` names it in error messages."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise WatchlistError(f"{source}: not valid TOML: {error}") from None
    unknown = sorted(set(document) - {"tickers"})
    if unknown:
        raise WatchlistError(
            f"{source}: unknown top-level key(s) {', '.join(unknown)}; "
            "list tickers as [[tickers]] tables"
        )
    tables = document.get("tickers")
    if not isinstance(tables, list) or not tables:
        raise WatchlistError(f"{source}: no tickers; add at least one [[tickers]] table")
    entries: list[WatchlistEntry] = []
    seen: set[str] = set()
    for index, table in enumerate(tables, start=1):
        entry = parse_entry(table, f"{source}: entry {index}")
        if entry.symbol in seen:
            raise WatchlistError(
                f"{source}: entry {index} ({entry.symbol}): duplicate symbol {entry.symbol}"
            )
        seen.add(entry.symbol)
        entries.append(entry)
    return Watchlist(tuple(entries))


def parse_entry(table: Any, where: str) -> WatchlistEntry:
    """One validated entry from a ``[[tickers]]`` table (or the same keys from a form or a
    CSV line); ``where`` starts every error message."""
    if not isinstance(table, dict):
        raise WatchlistError(f"{where}: expected a [[tickers]] table, got {table!r}")
    raw_symbol = table.get("symbol")
    if raw_symbol is None:
        raise WatchlistError(f"{where}: missing symbol")
    symbol = normalize_symbol(raw_symbol)
    if symbol is None:
        raise WatchlistError(
            f"{where} ({raw_symbol!r}): invalid symbol; expected 1-10 of A-Z, 0-9, "
            "'.' or '-', starting with a letter"
        )
    where = f"{where} ({symbol})"
    unknown = sorted(set(table) - set(ENTRY_KEYS))
    if unknown:
        raise WatchlistError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(ENTRY_KEYS)}"
        )
    return WatchlistEntry(
        symbol,
        _parse_fair_value(table.get("fair_value"), where),
        _parse_position(table.get("shares"), table.get("cost_basis"), where),
        _parse_assumptions(table, where),
    )


def _parse_assumptions(table: dict[str, Any], where: str) -> dict[str, Any]:
    """The entry's own fair-value assumptions, each checked like its environment variable."""
    found = {}
    for name in [name for name in RULES if name in table]:
        try:
            found[name] = RULES[name].check(table[name])
        except ValueError as expected:
            raise WatchlistError(
                f"{where}: {name} must be {expected}, got {table[name]!r}"
            ) from None
    return found


def _parse_fair_value(raw: Any, where: str) -> float | None:
    if raw is None:
        return None
    valid = isinstance(raw, int | float) and not isinstance(raw, bool)
    if not valid or not math.isfinite(raw) or raw <= 0:
        raise WatchlistError(f"{where}: fair_value must be a positive number, got {raw!r}")
    return float(raw)


def _parse_position(shares: Any, cost_basis: Any, where: str) -> Position | None:
    """The position of ``shares`` (a whole number >= 0) bought at ``cost_basis`` (> 0)."""
    if shares is None:
        if cost_basis is not None:
            raise WatchlistError(f"{where}: cost_basis needs shares (the number of shares held)")
        return None
    if not isinstance(shares, int) or isinstance(shares, bool) or shares < 0:
        raise WatchlistError(f"{where}: shares must be a whole number of 0 or more, got {shares!r}")
    if cost_basis is None:
        return Position(shares)
    valid = isinstance(cost_basis, int | float) and not isinstance(cost_basis, bool)
    if not valid or not math.isfinite(cost_basis) or cost_basis <= 0:
        raise WatchlistError(
            f"{where}: cost_basis must be a positive number (per share), got {cost_basis!r}"
        )
    return Position(shares, float(cost_basis))
