"""running totals of what exports published, for the output counters of /metrics

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_totals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("rows_written", sa.BigInteger(), nullable=False),
        sa.Column("bytes_written", sa.BigInteger(), nullable=False),
    )
    # Start from what the artifacts still catalogued say (files of deleted jobs are gone).
    op.execute(
        sa.text(
            "INSERT INTO export_totals (id, files, rows_written, bytes_written) "
            "SELECT 1, COUNT(*), COALESCE(SUM(row_count), 0), COALESCE(SUM(byte_size), 0) "
            "FROM export_artifacts"
        )
    )


def downgrade() -> None:
    op.drop_table("export_totals")
