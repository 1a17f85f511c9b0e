"""Sites (issue 8): site administrators of an organization, and each workspace's
audit retention setting with the point pruning reached.

Revision ID: 0005_sites
Revises: 0004_fields
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_sites"
down_revision: str | None = "0004_fields"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=36)


def upgrade() -> None:
    op.create_table(
        "site_administrators",
        sa.Column("organization_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_site_administrators_organization_id_organizations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_site_administrators_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("organization_id", "user_id", name=op.f("pk_site_administrators")),
    )
    op.create_index("ix_site_administrators_user", "site_administrators", ["user_id"], unique=False)
    op.create_table(
        "audit_retention",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("pruned_through_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("pruned_through_hash", sa.String(length=64), server_default="0" * 64, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_audit_retention_workspace_id_workspaces"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_audit_retention")),
    )


def downgrade() -> None:
    op.drop_table("audit_retention")
    op.drop_index("ix_site_administrators_user", table_name="site_administrators")
    op.drop_table("site_administrators")
