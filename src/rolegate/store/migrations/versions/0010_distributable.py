"""audit_events: an event id is unique within its workspace (`workspace_id, id`), no
longer across all workspaces.

A distributed PostgreSQL (Citus) enforces a unique constraint only when it includes
the distribution column (`workspace_id`): a table-wide unique `id` would keep
`audit_events`, the largest tenant table, from being distributed (docs/scaling.md).
Nothing looks an event up by its id alone; ids are time-ordered UUIDs, so they stay
unique in practice, and within a workspace by constraint.

Revision ID: 0010_distributable
Revises: 0009_trust
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010_distributable"
down_revision: str | None = "0009_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint("uq_audit_events_id", type_="unique")
        batch.create_unique_constraint("uq_audit_events_workspace_id_id", ["workspace_id", "id"])


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint("uq_audit_events_workspace_id_id", type_="unique")
        batch.create_unique_constraint("uq_audit_events_id", ["id"])
