"""Progress that means something: input records read against the records in range, a fraction
that never goes back, and a revision per job with tombstones of deleted jobs, so subscriptions
can resume from where a client left off

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("export_jobs") as batch_op:
        batch_op.add_column(
            sa.Column("records_read", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("fraction", sa.Float(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("revision", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("updated_at", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_export_jobs_ws_updated", ["workspace_id", "updated_at"])
    # Jobs that finished before this keep their meaning: all done; the rest start at zero.
    op.execute(
        "UPDATE export_jobs SET updated_at = COALESCE(finished_at, started_at, created_at), "
        "fraction = CASE WHEN status IN ('SUCCEEDED', 'EXPIRED') THEN 1.0 ELSE 0.0 END"
    )
    with op.batch_alter_table("export_jobs") as batch_op:
        batch_op.alter_column("updated_at", existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table("export_parts") as batch_op:
        batch_op.add_column(
            sa.Column("records_read", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.create_table(
        "export_job_tombstones",
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=False),
        sa.Column("last_state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_export_job_tombstones")),
    )
    op.create_index(
        "ix_export_job_tombstones_ws_deleted",
        "export_job_tombstones",
        ["workspace_id", "deleted_at"],
    )
    op.create_index(
        op.f("ix_export_job_tombstones_deleted_at"), "export_job_tombstones", ["deleted_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_export_job_tombstones_deleted_at"), "export_job_tombstones")
    op.drop_index("ix_export_job_tombstones_ws_deleted", "export_job_tombstones")
    op.drop_table("export_job_tombstones")
    with op.batch_alter_table("export_parts") as batch_op:
        batch_op.drop_column("records_read")
    with op.batch_alter_table("export_jobs") as batch_op:
        batch_op.drop_index("ix_export_jobs_ws_updated")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("revision")
        batch_op.drop_column("fraction")
        batch_op.drop_column("records_read")
