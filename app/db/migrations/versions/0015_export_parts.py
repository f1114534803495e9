"""export parts: an export split by period or per datastream runs its parts on many workers

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_parts",
        sa.Column("id", sa.String(48), nullable=False),
        sa.Column(
            "job_id",
            sa.String(40),
            sa.ForeignKey(
                "export_jobs.id",
                ondelete="CASCADE",
                name="fk_export_parts_job_id_export_jobs",
            ),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
        sa.Column("stream_index", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("heartbeat_at", sa.BigInteger(), nullable=True),
        sa.Column("rows_written", sa.BigInteger(), nullable=False),
        sa.Column("bytes_written", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(40), nullable=True),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("files", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_export_parts"),
        sa.UniqueConstraint("job_id", "seq", name="uq_export_parts_job_id"),
    )
    op.create_index(
        "ix_export_parts_status_heartbeat", "export_parts", ["status", "heartbeat_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_export_parts_status_heartbeat", table_name="export_parts")
    op.drop_table("export_parts")
