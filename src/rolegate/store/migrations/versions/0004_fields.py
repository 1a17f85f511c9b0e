"""Field-level security: a workspace's additional objects and fields on top of its
preset, which fields are synced from an integration, and the integration user's
permission on each (K6, K8, K9, K10). Tables `registry_objects`, `registry_fields`.

Revision ID: 0004_fields
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_fields"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=36)


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f(f"fk_{table}_workspace_id_workspaces"), ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "registry_objects",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        *_timestamps(),
        _workspace_fk("registry_objects"),
        sa.PrimaryKeyConstraint("workspace_id", "key", name=op.f("pk_registry_objects")),
    )
    op.create_table(
        "registry_fields",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), server_default="", nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("synced_from", sa.String(length=64), nullable=True),
        sa.Column("integration_access", sa.String(length=16), nullable=True),
        *_timestamps(),
        _workspace_fk("registry_fields"),
        sa.PrimaryKeyConstraint("workspace_id", "object_type", "name", name=op.f("pk_registry_fields")),
    )


def downgrade() -> None:
    op.drop_table("registry_fields")
    op.drop_table("registry_objects")
