"""index for listing a workspace's jobs by creation time, either way

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_export_jobs_ws_created", "export_jobs", ["workspace_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_export_jobs_ws_created", table_name="export_jobs")
