"""SCIM provisioning (issue 17): the Users and Groups a workspace's directory manages,
and the mapping of directory groups to roles.

Revision ID: 0012_scim
Revises: 0010_distributable
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_scim"
down_revision: str | None = "0014_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=36)
TS = sa.DateTime(timezone=True)


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "scim_users",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("user_name", sa.String(length=320), nullable=False),
        sa.Column("user_name_key", sa.String(length=320), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("resource", sa.JSON(), nullable=False),
        sa.Column("suspended", sa.Integer(), server_default="0", nullable=False),
        sa.Column("deleted_at", TS, nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_scim_users_workspace_id_workspaces"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["workspace_id", "member_id"], ["members.workspace_id", "members.id"],
            name=op.f("fk_scim_users_workspace_id_member_id_members"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "member_id", name=op.f("pk_scim_users")),
    )
    op.create_index("uq_scim_users_workspace_user_name", "scim_users", ["workspace_id", "user_name_key"], unique=True)
    op.create_index("ix_scim_users_external_id", "scim_users", ["workspace_id", "external_id"])
    op.create_table(
        "scim_groups",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_scim_groups_workspace_id_workspaces"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_scim_groups")),
    )
    op.create_index("uq_scim_groups_workspace_name", "scim_groups", ["workspace_id", "name_key"], unique=True)
    op.create_table(
        "scim_group_members",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("display", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id", "group_id"], ["scim_groups.workspace_id", "scim_groups.id"],
            name=op.f("fk_scim_group_members_workspace_id_group_id_scim_groups"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "member_id"], ["members.workspace_id", "members.id"],
            name=op.f("fk_scim_group_members_workspace_id_member_id_members"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "group_id", "member_id", name=op.f("pk_scim_group_members")),
    )
    op.create_index("ix_scim_group_members_member", "scim_group_members", ["workspace_id", "member_id"])
    op.create_table(
        "scim_group_roles",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("group_key", sa.String(length=200), nullable=False),
        sa.Column("group_name", sa.String(length=200), nullable=False),
        sa.Column("role_id", ID, nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_scim_group_roles_workspace_id_workspaces"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["workspace_id", "role_id"], ["roles.workspace_id", "roles.id"],
            name=op.f("fk_scim_group_roles_workspace_id_role_id_roles"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "group_key", name=op.f("pk_scim_group_roles")),
    )


def downgrade() -> None:
    op.drop_table("scim_group_roles")
    op.drop_index("ix_scim_group_members_member", table_name="scim_group_members")
    op.drop_table("scim_group_members")
    op.drop_index("uq_scim_groups_workspace_name", table_name="scim_groups")
    op.drop_table("scim_groups")
    op.drop_index("ix_scim_users_external_id", table_name="scim_users")
    op.drop_index("uq_scim_users_workspace_user_name", table_name="scim_users")
    op.drop_table("scim_users")
