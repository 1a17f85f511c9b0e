"""The embeddable portal: an organization's allowed frame origins and brand, and the
single-use links that open the admin pages as one member of one workspace.

Revision ID: 0015_portal
Revises: 0010_distributable
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_portal"
down_revision: str | None = "0016_upgrades"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organization_portal",
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("frame_origins", sa.JSON(), nullable=False),
        sa.Column("brand_color", sa.String(7)),
        sa.Column("logo_url", sa.String(500)),
        sa.Column("font", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_organization_portal_organization_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_organization_portal")),
    )
    op.create_table(
        "portal_links",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("workspace_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("parent_origin", sa.String(300)),
        sa.Column("page", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("session_hash", sa.String(64)),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_portal_links_workspace_id_workspaces"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_portal_links_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_portal_links")),
    )
    op.create_index("ix_portal_links_workspace_id", "portal_links", ["workspace_id"])
    op.create_index("uq_portal_links_session_hash", "portal_links", ["session_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_portal_links_session_hash", table_name="portal_links")
    op.drop_index("ix_portal_links_workspace_id", table_name="portal_links")
    op.drop_table("portal_links")
    op.drop_table("organization_portal")
