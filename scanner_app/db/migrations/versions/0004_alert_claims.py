"""What was alerted, as one row per screen and time (a JSON list of contracts) instead of one
row per screen and contract: a screen's first evaluation writes a row, not thousands.

Revision ID: 0004_alert_claims
Revises: 0003_screens
Create Date: 2026-12-06
"""

import json
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0004_alert_claims"
down_revision = "0003_screens"
branch_labels = None
depends_on = None

ALERTED = sa.table(
    "alerted_contracts",
    sa.column("screen_id", sa.Integer()),
    sa.column("contract_symbol", sa.String(32)),
    sa.column("last_alerted_at", sa.DateTime(timezone=True)),
)
CLAIMS = sa.table(
    "alert_claims",
    sa.column("screen_id", sa.Integer()),
    sa.column("claimed_at", sa.DateTime(timezone=True)),
    sa.column("contracts", sa.Text()),
)


def _screen_foreign_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["screen_id"],
        ["screens.id"],
        name=op.f(f"fk_{table}_screen_id_screens"),
        ondelete="CASCADE",
    )


def upgrade():
    op.create_table(
        "alert_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screen_id", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contracts", sa.Text(), nullable=False),
        _screen_foreign_key("alert_claims"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_claims")),
    )
    with op.batch_alter_table("alert_claims") as batch:
        batch.create_index(batch.f("ix_alert_claims_screen_id"), ["screen_id"])
    claims: dict[tuple, list[str]] = defaultdict(list)
    for row in op.get_bind().execute(sa.select(ALERTED)):
        claims[row.screen_id, row.last_alerted_at].append(row.contract_symbol)
    rows = [
        {"screen_id": screen_id, "claimed_at": at, "contracts": json.dumps(sorted(contracts))}
        for (screen_id, at), contracts in claims.items()
    ]
    if rows:
        op.bulk_insert(CLAIMS, rows)
    op.drop_table("alerted_contracts")


def downgrade():
    op.create_table(
        "alerted_contracts",
        sa.Column("screen_id", sa.Integer(), nullable=False),
        sa.Column("contract_symbol", sa.String(length=32), nullable=False),
        sa.Column("last_alerted_at", sa.DateTime(timezone=True), nullable=False),
        _screen_foreign_key("alerted_contracts"),
        sa.PrimaryKeyConstraint("screen_id", "contract_symbol", name=op.f("pk_alerted_contracts")),
    )
    last: dict[tuple, object] = {}
    for row in op.get_bind().execute(sa.select(CLAIMS).order_by(CLAIMS.c.claimed_at)):
        for contract in json.loads(row.contracts):
            last[row.screen_id, contract] = row.claimed_at
    rows = [
        {"screen_id": screen_id, "contract_symbol": contract, "last_alerted_at": at}
        for (screen_id, contract), at in last.items()
    ]
    if rows:
        op.bulk_insert(ALERTED, rows)
    op.drop_table("alert_claims")
