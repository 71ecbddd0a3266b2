"""The watchlist page: each user edits their own tickers, positions and cash."""
