"""a failed export may keep what it wrote: the job asks for it (keep_partial) and the files it
kept are marked as partial

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("export_jobs") as batch_op:
        batch_op.add_column(
            sa.Column("keep_partial", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("export_artifacts") as batch_op:
        batch_op.add_column(
            sa.Column("partial", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("export_artifacts") as batch_op:
        batch_op.drop_column("partial")
    with op.batch_alter_table("export_jobs") as batch_op:
        batch_op.drop_column("keep_partial")
