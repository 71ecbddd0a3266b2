"""Errors a market provider raises, and what the scan does with each.

Every error is a ``MarketDataError``. Raised by ``TickerFeed.expirations()`` it fails the
ticker; raised by ``TickerFeed.put_chain(expiration)`` it fails only that expiration, so the
ticker keeps the expirations that came back (a partial ticker). In both cases the scan goes
on with the other tickers, except on ``ProviderRefused``.

- ``UnknownTicker``: the market does not know the symbol or lists no options for it; the
  ticker drops out.
- ``UnusableAnswer``: an answer that must not replace rows fetched earlier (no contracts
  at all, or not live: no contract has a bid); keep the previous rows, marked stale.
- ``RateLimited``, ``MarketTimeout``: still refused as too many, or still no answer in time,
  after the retries.
- ``InvalidCrumb``: Yahoo kept refusing its cookie and crumb (HTTP 401), fresh ones included.
- ``ProviderRefused``: the provider refuses the whole account (bad token, no credits, plan);
  every other ticker would fail the same way, so stop the scan with this one message.
"""


class MarketDataError(Exception):
    """Market data for a ticker (or one of its expirations) could not be had."""


class UnknownTicker(MarketDataError):
    """The market does not know this symbol or lists no options for it."""


class UnusableAnswer(MarketDataError):
    """The answer came but holds nothing to trust: no contracts at all, or not live."""


class RateLimited(MarketDataError):
    """The market kept refusing requests as too many, after the retries."""


class MarketTimeout(MarketDataError):
    """The market did not answer in time, after the retries."""


class InvalidCrumb(MarketDataError):
    """Yahoo refused the request as unauthorized after fresh cookies and crumbs were tried."""


class ProviderRefused(MarketDataError):
    """The provider refuses this account altogether: stop the whole scan with this message."""
