"""Record lists: the index that serves pages of visible records.

`ix_records_scope (workspace_id, type, assignee_id, id)` gives each scope range
(`assignee_id = :m`, `IS NULL`, `< :m`, `> :m`, `IS NOT NULL`) in id order, so a page
of own + unassigned records is two short range scans (store/record_lists.py). It
replaces `ix_records_assignee`, its prefix.

Revision ID: 0003_records
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_records"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_records_scope", "records", ["workspace_id", "type", "assignee_id", "id"], unique=False)
    op.drop_index("ix_records_assignee", table_name="records")


def downgrade() -> None:
    op.create_index("ix_records_assignee", "records", ["workspace_id", "type", "assignee_id"], unique=False)
    op.drop_index("ix_records_scope", table_name="records")
