"""History: one row per ticker and trading day, one per qualifying contract.

Revision ID: 0001_history
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_history"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ticker_days",
        sa.Column("symbol", sa.String(length=10), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("close", sa.Float(), nullable=True),
        sa.Column("iv30", sa.Float(), nullable=True),
        sa.Column("hv20", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("symbol", "date", name=op.f("pk_ticker_days")),
    )
    op.create_table(
        "qualified_contracts",
        sa.Column("contract_symbol", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=10), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("contract_symbol", name=op.f("pk_qualified_contracts")),
    )
    with op.batch_alter_table("qualified_contracts") as batch:
        batch.create_index(batch.f("ix_qualified_contracts_symbol"), ["symbol"])
        batch.create_index(batch.f("ix_qualified_contracts_last_date"), ["last_date"])


def downgrade():
    op.drop_table("qualified_contracts")
    op.drop_table("ticker_days")
