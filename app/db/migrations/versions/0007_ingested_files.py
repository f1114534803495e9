"""files already ingested, by content hash, so that ingesting one twice is a no-op

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingested_files",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("datastream_id", sa.BigInteger(), sa.ForeignKey("datastreams.id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_ingested_files_stream_hash", "ingested_files", ["datastream_id", "sha256"])


def downgrade() -> None:
    op.drop_index("ix_ingested_files_stream_hash", table_name="ingested_files")
    op.drop_table("ingested_files")
