"""imports over the API: uploaded files and the jobs that read them into datastreams

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_uploads",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("filename", sa.String(300), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=True),
        sa.Column("byte_size", sa.BigInteger(), nullable=True),
        sa.Column("import_job_id", sa.String(40), nullable=True),
    )
    op.create_index("ix_import_uploads_workspace_id", "import_uploads", ["workspace_id"])
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("datastream_id", sa.BigInteger(), sa.ForeignKey("datastreams.id"), nullable=False),
        sa.Column("upload_id", sa.String(40), nullable=False),
        sa.Column("filename", sa.String(300), nullable=False),
        sa.Column("byte_size", sa.BigInteger(), nullable=False),
        sa.Column("on_error", sa.String(8), nullable=False),
        sa.Column("force", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("heartbeat_at", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(40), nullable=True),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("bytes_read", sa.BigInteger(), nullable=False),
        sa.Column("records_read", sa.BigInteger(), nullable=False),
        sa.Column("records_rejected", sa.BigInteger(), nullable=False),
        sa.Column("records_stored", sa.BigInteger(), nullable=False),
        sa.Column("report_path", sa.Text(), nullable=True),
        sa.Column("report_byte_size", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint(
            "workspace_id", "idempotency_key", name="uq_import_jobs_workspace_id"
        ),
    )
    op.create_index("ix_import_jobs_datastream_id", "import_jobs", ["datastream_id"])
    op.create_index("ix_import_jobs_status_heartbeat", "import_jobs", ["status", "heartbeat_at"])
    op.create_index(
        "ix_import_jobs_ws_created", "import_jobs", ["workspace_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_table("import_jobs")
    op.drop_table("import_uploads")
