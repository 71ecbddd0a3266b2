"""Errors a market provider raises; the scan records them per ticker and goes on."""


class MarketDataError(Exception):
    """Market data for a ticker could not be had."""


class UnknownTicker(MarketDataError):
    """The market does not know this symbol or lists no options for it."""


class RateLimited(MarketDataError):
    """The market kept refusing requests as too many, after the retries."""


class MarketTimeout(MarketDataError):
    """The market did not answer in time, after the retries."""
