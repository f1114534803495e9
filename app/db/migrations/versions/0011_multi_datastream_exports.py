"""exports of many datastreams: the list of datastreams on the job

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null for the export of one datastream (every job before this revision).
    with op.batch_alter_table("export_jobs") as batch:
        batch.add_column(sa.Column("datastream_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("export_jobs") as batch:
        batch.drop_column("datastream_ids")
