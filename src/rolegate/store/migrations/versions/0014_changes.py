"""audit_events: an index on (workspace_id, revision, seq) for the change feed.

`GET /v1/workspaces/{ws}/changes?after=REV` reads a workspace's events with a
revision above the cursor, in (revision, seq) order: without this index PostgreSQL
would walk the primary key from the workspace's first event and filter.

Revision ID: 0014_changes
Revises: 0010_distributable
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014_changes"
down_revision: str | None = "0013_sso"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_events_revision", "audit_events", ["workspace_id", "revision", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_revision", table_name="audit_events")
