"""custom export schemas with versions and drafts; jobs record which version they used

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_schemas",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("stream_category", sa.String(length=40), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("draft_spec", sa.JSON(), nullable=True),
        sa.Column("draft_updated_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_export_schemas_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_schemas")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_export_schemas_workspace_id")),
    )
    op.create_index(
        op.f("ix_export_schemas_workspace_id"), "export_schemas", ["workspace_id"], unique=False
    )
    op.create_table(
        "export_schema_versions",
        sa.Column("schema_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schema_id"],
            ["export_schemas.id"],
            name=op.f("fk_export_schema_versions_schema_id_export_schemas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schema_id", "version", name=op.f("pk_export_schema_versions")),
    )
    with op.batch_alter_table("export_jobs") as batch_op:
        batch_op.add_column(sa.Column("schema_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("schema_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("export_jobs") as batch_op:
        batch_op.drop_column("schema_version")
        batch_op.drop_column("schema_id")
    op.drop_table("export_schema_versions")
    op.drop_index(op.f("ix_export_schemas_workspace_id"), table_name="export_schemas")
    op.drop_table("export_schemas")
