"""Which keys hold a scan's results and status (their full names come from ``Keys``).

The working set is a fixed number of keys, however long the watchlist: per-ticker data
lives in fields of hashes and members of sorted sets, so a writer touches only the fields
of the tickers it finished, and several writers of one scan never rewrite each other's
data. The contract keys (``ticker_options``, ``ticker_calls``, ``ticker_scan_times``) are
assembled from the working set inside Redis when a scan ends.
"""

from __future__ import annotations

from ..redis_door import Keys
from .summary import SCORED_SORTS

#: The working set's hashes, keyed by symbol. ``partial`` holds the expirations that
#: failed in the scan that made a ticker's rows (a JSON list of ISO dates); ``calls`` the
#: covered calls of tickers with shares (a JSON list of rows).
HASHES = ("puts", "summaries", "errors", "scan_times", "partial", "calls")
#: Sorted sets: ``listed`` (every ticker the dashboard lists, score 0: symbol order),
#: ``failed`` (tickers whose latest fetch failed, symbol order), ``changes`` (symbol ->
#: version of its last change), ``no_puts`` (tickers whose latest fetch found no
#: qualifying put, symbol order) and one ``idx:<sort>`` per scored sort key.
SORTED_SETS = (
    "listed",
    "failed",
    "changes",
    "no_puts",
    *(f"idx:{sort}" for sort in SCORED_SORTS),
)
#: What readers of the seed's layout use, kept complete whenever no scan runs.
CONTRACT = ("ticker_options", "ticker_calls", "ticker_scan_times", "last_run")
#: When the scan holding the lock last proved it was alive: ``{"scan_id", "at"}``.
HEARTBEAT = "scan_heartbeat"
#: The status, the sets of tickers done and failed in the current scan, and the heartbeat.
STATUS = ("scan_progress", "last_run_facts", "version", "scan_done", "scan_failed", HEARTBEAT)
#: Each ticker's fair-value estimate (symbol -> JSON), written as tickers are scanned and
#: read by the pages: outside the scan's managed keys, it outlives scans like the caches.
FAIR_VALUES = "fair_values"


class ScanKeys(Keys):
    """The door's key names, plus the set of keys a scan manages."""

    def results(self) -> list[str]:
        """Every key that holds results or status: the ones whose expiry a scan manages."""
        return [self(name) for name in (*HASHES, *SORTED_SETS, *CONTRACT, *STATUS)]
