"""Saved screens and alerts: screens, their targets, what was alerted, each delivery.

Revision ID: 0003_screens
Revises: 0002_accounts
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_screens"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "screens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("view", sa.String(length=5), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("matching_contracts", sa.Text(), nullable=True),
        sa.Column("matching_digest", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_screens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screens")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_screens_user_id")),
    )
    with op.batch_alter_table("screens") as batch:
        batch.create_index(batch.f("ix_screens_user_id"), ["user_id"])
    op.create_table(
        "alert_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screen_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["screen_id"],
            ["screens.id"],
            name=op.f("fk_alert_targets_screen_id_screens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_targets")),
    )
    with op.batch_alter_table("alert_targets") as batch:
        batch.create_index(batch.f("ix_alert_targets_screen_id"), ["screen_id"])
    op.create_table(
        "alerted_contracts",
        sa.Column("screen_id", sa.Integer(), nullable=False),
        sa.Column("contract_symbol", sa.String(length=32), nullable=False),
        sa.Column("last_alerted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["screen_id"],
            ["screens.id"],
            name=op.f("fk_alerted_contracts_screen_id_screens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("screen_id", "contract_symbol", name=op.f("pk_alerted_contracts")),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screen_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contracts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=7), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["screen_id"],
            ["screens.id"],
            name=op.f("fk_alert_deliveries_screen_id_screens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["alert_targets.id"],
            name=op.f("fk_alert_deliveries_target_id_alert_targets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.create_index(batch.f("ix_alert_deliveries_screen_id"), ["screen_id"])
        batch.create_index(batch.f("ix_alert_deliveries_created_at"), ["created_at"])


def downgrade():
    op.drop_table("alert_deliveries")
    op.drop_table("alerted_contracts")
    op.drop_table("alert_targets")
    op.drop_table("screens")
