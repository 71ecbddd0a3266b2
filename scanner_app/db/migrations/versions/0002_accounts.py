"""Accounts: users, each one's watchlist entries, and app-wide facts.

Revision ID: 0002_accounts
Revises: 0001_history
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_accounts"
down_revision = "0001_history"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cash_available", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "watchlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("fair_value", sa.Float(), nullable=True),
        sa.Column("shares", sa.Integer(), nullable=True),
        sa.Column("cost_basis", sa.Float(), nullable=True),
        sa.Column("assumptions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_watchlist_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_entries")),
        sa.UniqueConstraint("user_id", "symbol", name=op.f("uq_watchlist_entries_user_id")),
    )
    with op.batch_alter_table("watchlist_entries") as batch:
        batch.create_index(batch.f("ix_watchlist_entries_symbol"), ["symbol"])
    op.create_table(
        "app_facts",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_app_facts")),
    )


def downgrade():
    op.drop_table("app_facts")
    op.drop_table("watchlist_entries")
    op.drop_table("users")
