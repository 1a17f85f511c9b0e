"""Schema upgrades (issue 19): the stored versions of each product schema, upgrade
runs and their per-workspace outcome, and who dismissed the "what changed" notice.
`workspaces.schema_version` exists since 0001 (every workspace ran version 1).

Revision ID: 0016_upgrades
Revises: 0010_distributable
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_upgrades"
down_revision: str | None = "0012_scim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=36)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "product_schemas",
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("product", "version", name=op.f("pk_product_schemas")),
    )
    op.create_table(
        "schema_upgrades",
        sa.Column("id", ID, nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("started_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schema_upgrades")),
    )
    op.create_index("ix_schema_upgrades_product", "schema_upgrades", ["product", "version"])
    op.create_table(
        "schema_upgrade_workspaces",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("upgrade_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", TS, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_schema_upgrade_workspaces_workspace_id_workspaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("workspace_id", "upgrade_id", name=op.f("pk_schema_upgrade_workspaces")),
    )
    op.create_index(
        "ix_schema_upgrade_workspaces_upgrade", "schema_upgrade_workspaces", ["workspace_id", "upgrade_id", "status"]
    )
    op.create_table(
        "upgrade_notice_dismissals",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", TS, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_upgrade_notice_dismissals_workspace_id_workspaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("workspace_id", "member_id", "version", name=op.f("pk_upgrade_notice_dismissals")),
    )


def downgrade() -> None:
    op.drop_table("upgrade_notice_dismissals")
    op.drop_index("ix_schema_upgrade_workspaces_upgrade", table_name="schema_upgrade_workspaces")
    op.drop_table("schema_upgrade_workspaces")
    op.drop_index("ix_schema_upgrades_product", table_name="schema_upgrades")
    op.drop_table("schema_upgrades")
    op.drop_table("product_schemas")
