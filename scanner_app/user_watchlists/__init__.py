"""Each user's watchlist in the database: the store, imports and exports, the seed from
``WATCHLIST_FILE``, and the scan universe (every user's symbols, once each)."""
