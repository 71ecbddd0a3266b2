"""The "Last scan" line: how a scan ended, in words, from its facts and a formatted time."""

from __future__ import annotations

from .store import RunFacts


def run_message(facts: RunFacts, when: str) -> str:
    """The line for ``facts``, with ``when`` (the end time, already formatted) in it."""
    return _outcome_text(facts, when) + _credits_text(facts.credits) + _history_text(facts)


def _outcome_text(facts: RunFacts, when: str) -> str:
    reason = f": {facts.reason}" if facts.reason else ""
    if facts.outcome == "failed":
        return f"Scan failed at {when}{reason}"
    if facts.outcome == "interrupted":
        if facts.done is None:  # Redis lost the scan's data: how far it got is unknown
            return f"Scan interrupted at {when}{reason}"
        return f"Scan interrupted at {facts.done} of {facts.tickers} tickers on {when}{reason}"
    if facts.tickers == 0:
        return f"Scan completed at {when} — 0 tickers: the watchlists are empty"
    text = f"Scan completed successfully at {when} — {facts.tickers} tickers, {facts.puts} puts"
    if facts.failed:
        text += f" ({facts.failed} failed ticker{'s' if facts.failed != 1 else ''})"
    return text


def _credits_text(credits: int | None) -> str:
    """``; 4,180 API credits used`` for a provider that bills credits, else nothing."""
    if credits is None:
        return ""
    return f"; {credits:,} API credit{'s' if credits != 1 else ''} used"


def _history_text(facts: RunFacts) -> str:
    """``; history not saved: <why>`` when the database did not take the scan's history."""
    if facts.history_saved is not False:
        return ""
    return f"; history not saved: {facts.history_error or 'the database failed'}"
