"""recurring exports: schedules and their runs, one per period

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_schedules",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("every", sa.String(40), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("anchor_ns", sa.BigInteger(), nullable=False),
        sa.Column("delay_ns", sa.BigInteger(), nullable=False),
        sa.Column("catch_up", sa.String(8), nullable=False),
        sa.Column("cursor_ns", sa.BigInteger(), nullable=False),
        sa.Column("next_run_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_export_schedules_due", "export_schedules", ["status", "next_run_at"])
    op.create_index(
        "ix_export_schedules_ws_created", "export_schedules", ["workspace_id", "created_at", "id"]
    )
    op.create_table(
        "export_schedule_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "schedule_id",
            sa.String(40),
            sa.ForeignKey("export_schedules.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("period_start_ns", sa.BigInteger(), nullable=False),
        sa.Column("period_end_ns", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("job_id", sa.String(40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("schedule_id", "period_start_ns", name="uq_schedule_runs_period"),
    )
    op.create_index("ix_export_schedule_runs_status", "export_schedule_runs", ["status"])


def downgrade() -> None:
    op.drop_table("export_schedule_runs")
    op.drop_table("export_schedules")
