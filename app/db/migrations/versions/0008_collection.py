"""live collection: subscriptions per workspace, one collection (lease) per datastream, spans;
segments retired by compaction

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collection_subscriptions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("datastream_id", sa.BigInteger(), sa.ForeignKey("datastreams.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("workspace_id", "datastream_id", name="uq_subscriptions_stream"),
        sa.UniqueConstraint("workspace_id", "idempotency_key", name="uq_subscriptions_key"),
    )
    op.create_index(
        "ix_collection_subscriptions_stream", "collection_subscriptions", ["datastream_id", "status"]
    )
    op.create_table(
        "collections",
        sa.Column("datastream_id", sa.BigInteger(), sa.ForeignKey("datastreams.id"), primary_key=True),
        sa.Column("collector_id", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", sa.BigInteger(), nullable=True),
        sa.Column("connected", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "collection_spans",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "subscription_id",
            sa.String(40),
            sa.ForeignKey("collection_subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("datastream_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("collector_id", sa.String(200), nullable=False),
    )
    op.create_index("ix_collection_spans_subscription", "collection_spans", ["subscription_id", "started_at"])
    op.create_index("ix_collection_spans_open", "collection_spans", ["datastream_id", "ended_at"])
    with op.batch_alter_table("segments") as batch_op:
        batch_op.add_column(sa.Column("retired_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segments") as batch_op:
        batch_op.drop_column("retired_at")
    op.drop_index("ix_collection_spans_open", table_name="collection_spans")
    op.drop_index("ix_collection_spans_subscription", table_name="collection_spans")
    op.drop_table("collection_spans")
    op.drop_table("collections")
    op.drop_index("ix_collection_subscriptions_stream", table_name="collection_subscriptions")
    op.drop_table("collection_subscriptions")
