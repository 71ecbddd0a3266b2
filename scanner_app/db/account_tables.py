"""The people's tables: users, each one's watchlist entries, and small app-wide facts.

The schema changes only through ``migrations/``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .tables import db


class User(db.Model):
    """A person who signs in: a unique name, a password hash (empty: cannot sign in), role
    ``admin`` or ``member``, and the cash they have for sizing (None: the app's default)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(10), default="member")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cash_available: Mapped[float | None] = mapped_column(Float)


class WatchlistRow(db.Model):
    """One ticker on one user's watchlist: its own fair value, the shares held and their cost,
    the fair-value assumptions set for it alone, and its place in the list."""

    __tablename__ = "watchlist_entries"
    __table_args__ = (UniqueConstraint("user_id", "symbol"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(10), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    fair_value: Mapped[float | None] = mapped_column(Float)
    shares: Mapped[int | None] = mapped_column(Integer)
    cost_basis: Mapped[float | None] = mapped_column(Float)
    assumptions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AppFact(db.Model):
    """A small app-wide fact kept by name (the watchlist file's fingerprint when seeded)."""

    __tablename__ = "app_facts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


USERS = User.__table__
WATCHLIST_ENTRIES = WatchlistRow.__table__
APP_FACTS = AppFact.__table__
