"""Saved screens and their alerts: the screens, their targets, what was alerted (a claim per
screen and time), and each delivery. The schema changes only through ``migrations/``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .tables import db


class Screen(db.Model):
    """A dashboard view saved under a name: its query string, puts or calls, private or
    shared with the team, and the contracts that matched it at the last evaluation after a
    scan (a JSON list: what "started matching" is measured against) with their digest (an
    unchanged set is told without reading the list)."""

    __tablename__ = "screens"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text, default="")
    view: Mapped[str] = mapped_column(String(5), default="puts")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    matching_contracts: Mapped[str | None] = mapped_column(Text)
    matching_digest: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertTarget(db.Model):
    """One Apprise URL a screen alerts (a secret), paused after repeated failures."""

    __tablename__ = "alert_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screen_id: Mapped[int] = mapped_column(ForeignKey("screens.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertClaim(db.Model):
    """The contracts a screen alerted at one time (a JSON list). A contract is alerted again
    only after it stopped matching, and not while a claim of it is within the repeat window;
    the claims older than the window are deleted."""

    __tablename__ = "alert_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screen_id: Mapped[int] = mapped_column(ForeignKey("screens.id", ondelete="CASCADE"), index=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    contracts: Mapped[str] = mapped_column(Text)


class AlertDelivery(db.Model):
    """One delivery of a screen's alert to one target: when, how many contracts, the outcome
    (``sent``, ``failed`` or ``paused``) and the error, if any."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screen_id: Mapped[int] = mapped_column(ForeignKey("screens.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_targets.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    contracts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(7))
    error: Mapped[str | None] = mapped_column(Text)


SCREENS = Screen.__table__
ALERT_TARGETS = AlertTarget.__table__
ALERT_CLAIMS = AlertClaim.__table__
ALERT_DELIVERIES = AlertDelivery.__table__
