"""The one door to the database, beside the one to Redis: Flask-SQLAlchemy's ``db`` and its
tables, the URL of ``DATABASE_URL``, migrations (Flask-Migrate) applied at start-up, and the
history's queries (``HistoryStore``). Nothing else builds an engine or writes SQL.
"""

from . import account_tables, screen_tables  # noqa: F401  (their tables join the metadata)
from .door import (
    close_all,
    database_reachable,
    describe_database_error,
    head_revision,
    init_db,
    is_sqlite_app,
    stored_time,
)
from .history_store import DayBatch, HistoryStore, IvStanding, StoredDay
from .tables import QUALIFIED_CONTRACTS, TICKER_DAYS, db
from .urls import check_url, database_url

__all__ = [
    "QUALIFIED_CONTRACTS",
    "TICKER_DAYS",
    "DayBatch",
    "HistoryStore",
    "IvStanding",
    "StoredDay",
    "check_url",
    "close_all",
    "database_reachable",
    "database_url",
    "db",
    "describe_database_error",
    "head_revision",
    "init_db",
    "is_sqlite_app",
    "stored_time",
]
