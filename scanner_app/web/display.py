"""How values and app state are shown: Jinja filters for numbers and times, and page banners."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask import Flask

from ..market.calendar import eastern_text, is_market_open, next_open
from ..numbers import finite_number
from ..scan.launch import market_closed_message
from ..scan.messages import run_message
from ..scan.screen import call_delta_target
from ..scan.store import UNAVAILABLE_MESSAGE, RunFacts, ScanRecord, Status

if TYPE_CHECKING:
    from ..services import Scanner

MISSING = "—"

LOCAL_MODE_BANNER = "Local mode: scans run outside market hours; data may be stale."
NEARLY_FULL_BANNER = (
    "Redis is at {percent:.0f} % of its maxmemory ({size}): a scan that does not fit stops "
    'with "Redis is full". Raise maxmemory or free memory before scanning.'
)
DEMO_DATA_BANNER = "Demo market data: synthetic prices, not real quotes."
SCAN_WAITS_TEXT = "The market is closed: a scan can run when it opens, {opens}."


def _finite(value: Any) -> bool:
    return finite_number(value) is not None


def money(value: Any) -> str:
    """``$1,234.50``; a dash for a missing value."""
    return f"${value:,.2f}" if _finite(value) else MISSING


def whole_money(value: Any) -> str:
    """``$1,235``: dollars without cents; a dash for a missing value."""
    return f"${value:,.0f}" if _finite(value) else MISSING


def number(value: Any, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals and thousands separators; a dash when missing."""
    return f"{value:,.{digits}f}" if _finite(value) else MISSING


def percent(value: Any, digits: int = 1) -> str:
    """A value already in percent, as ``12.3%``."""
    return f"{value:,.{digits}f}%" if _finite(value) else MISSING


def fraction_percent(value: Any, digits: int = 1) -> str:
    """A fraction (0.45) as a percentage (``45.0%``)."""
    return percent(value * 100, digits) if _finite(value) else MISSING


def eastern_time(value: Any) -> str:
    """An ISO-8601 time with an offset, or an aware datetime, as New York time with the
    zone named.

    ``2026-11-18T16:00:00+00:00`` -> ``Wed Nov 18, 2026 11:00 AM EST``; a dash when
    missing, unreadable or without its zone.
    """
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(moment, datetime) or moment.utcoffset() is None:
            return MISSING
        return eastern_text(moment)
    except (ValueError, OverflowError):  # not a time, or beyond year 9999 in New York
        return MISSING


def expiration_label(value: Any) -> str:
    """An ISO date as ``Fri Nov 20, 2026``; the value itself when it is not a date."""
    try:
        return date.fromisoformat(value).strftime("%a %b %d, %Y")
    except (TypeError, ValueError):
        return str(value)


def short_date(value: Any) -> str:
    """An ISO date as ``Dec 11``: an expiration in a scan's window of at most 12 weeks
    needs no year. The value itself when it is not a date; a dash when missing."""
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value) if value is not None else MISSING
    return f"{day:%b} {day.day}"


def ticker_error(error: str, symbol: str) -> str:
    """A ticker's error without a leading "SYMBOL: ", for text that names the ticker already."""
    prefix = f"{symbol}: "
    return error[len(prefix) :] if error.startswith(prefix) else error


def row_id(symbol: str) -> str:
    """The id of a ticker's rows in the dashboard table (a CSS selector without escaping)."""
    return "ticker-" + symbol.replace(".", "_")


def delta_target(dte: Any) -> float | None:
    """The highest call delta sold at ``dte`` days (None for a malformed stored DTE)."""
    days = finite_number(dte)
    return None if days is None else call_delta_target(int(days))


def market_opens(scanner: Scanner) -> str | None:
    """When the market next opens, while it is closed and scans wait for it (production);
    None when a scan can start now."""
    now = scanner.clock()
    if not scanner.enforces_market_hours or is_market_open(now):
        return None
    return eastern_text(next_open(now))


def scan_waits(opens: str) -> str:
    """What every page says instead of "press Scan" while the market is closed in
    production: when a scan can run (``opens``, from ``market_opens``)."""
    return SCAN_WAITS_TEXT.format(opens=opens)


def register_template_filters(app: Flask) -> None:
    """Make the formatting helpers available to templates under their own names."""
    helpers = (money, whole_money, number, percent, fraction_percent, eastern_time)
    helpers += (expiration_label, short_date, scan_waits)
    for helper in (*helpers, ticker_error, row_id, delta_target):
        app.add_template_filter(helper)


@dataclass(frozen=True)
class Banner:
    """A notice across the top of a page; ``kind`` picks its style (info, warning, error)."""

    kind: str
    text: str
    details: tuple[str, ...] = ()


def app_banners(scanner: Scanner) -> list[Banner]:
    """Notices about how the app runs: local mode, demo data, market closed (production),
    Redis nearly full (90 % of maxmemory)."""
    banners = []
    if scanner.local_mode:
        banners.append(Banner("info", LOCAL_MODE_BANNER))
    if getattr(scanner.provider, "is_demo", False):
        banners.append(Banner("info", DEMO_DATA_BANNER))
    now = scanner.clock()
    if scanner.enforces_market_hours and not is_market_open(now):
        banners.append(Banner("warning", market_closed_message(now)))
    memory = scanner.redis_memory.read()
    if memory is not None and memory.nearly_full:
        size = f"{memory.maxmemory / 2**20:.3g} MB"
        banners.append(
            Banner("warning", NEARLY_FULL_BANNER.format(percent=100 * memory.ratio, size=size))
        )
    return banners


def data_banners(
    available: bool, failed: int = 0, sample: Mapping[str, str] | None = None
) -> list[Banner]:
    """Notices about the cached data: the cache is down, or tickers failed to fetch.

    ``sample`` names the first failed tickers with their errors; the rest are counted.
    """
    if not available:
        return [Banner("error", UNAVAILABLE_MESSAGE)]
    if not failed:
        return []
    sample = sample or {}
    details = [f"{symbol}: {ticker_error(sample[symbol], symbol)}" for symbol in sorted(sample)]
    if failed > len(details):
        details.append(f"… and {failed - len(details)} more.")
    noun = "ticker" if failed == 1 else "tickers"
    return [Banner("warning", f"The last scan could not fetch {failed} {noun}:", tuple(details))]


def last_run_text(facts: RunFacts | None, message: str) -> str:
    """The "Last scan" line, worded here from the stored facts (else the stored message)."""
    if facts is None:
        return message
    return run_message(facts, eastern_time(facts.finished_at))


EXPIRED_TEXT = "Results from the scan at {time} expired after {lifetime}"


def expired_text(record: ScanRecord, opens: str | None = None) -> str:
    """The "Last scan" line once the results of the scan in ``record`` have expired,
    inviting a new scan: press Scan, or while the market is closed (``opens``, from
    ``market_opens``) when one can run."""
    minutes = record.ttl / 60
    lifetime = f"{minutes:.0f} minutes" if minutes < 120 else f"{minutes / 60:g} hours"
    expired = EXPIRED_TEXT.format(time=eastern_time(record.finished_at), lifetime=lifetime)
    return f"{expired}. {scan_waits(opens)}" if opens else f"{expired}; press Scan"


def status_line(status: Status, scanner: Scanner) -> str:
    """The "Last scan" line for ``status``: how the last scan ended, or that its results
    expired (and when ``scanner``'s market opens, while it is closed in production)."""
    if status.expired is not None:
        return expired_text(status.expired, market_opens(scanner))
    return last_run_text(status.facts, status.last_run)
