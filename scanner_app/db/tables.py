"""The history's tables: one row per ticker and trading day, one per qualifying contract.

Declared on Flask-SQLAlchemy's model base, so Flask-Migrate (Alembic) sees them; the
schema itself changes only through ``migrations/``.
"""

from __future__ import annotations

from datetime import date

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Date, Float, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Constraint names spelled out, so migrations name them the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)


class TickerDay(db.Model):
    """One ticker on one trading day (its New York date): the close (the spot of the day's
    last scan, or the provider's daily close), IV30 and HV20 as fractions."""

    __tablename__ = "ticker_days"

    symbol: Mapped[str] = mapped_column(String(10), primary_key=True)
    day: Mapped[date] = mapped_column("date", Date, primary_key=True)
    close: Mapped[float | None] = mapped_column(Float)
    iv30: Mapped[float | None] = mapped_column(Float)
    hv20: Mapped[float | None] = mapped_column(Float)


class QualifiedContract(db.Model):
    """A contract that qualified on the screen: the first and the last trading day it did."""

    __tablename__ = "qualified_contracts"

    contract_symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(10), index=True)
    side: Mapped[str] = mapped_column(String(4))
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date] = mapped_column(Date, index=True)


TICKER_DAYS = TickerDay.__table__
QUALIFIED_CONTRACTS = QualifiedContract.__table__
