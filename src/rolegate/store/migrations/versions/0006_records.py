"""Record lists: the index that serves pages of visible records.

`ix_records_scope (workspace_id, type, assignee_id, id)` gives each scope range
(`assignee_id = :m`, `IS NULL`, `< :m`, `> :m`, `IS NOT NULL`) in id order, so a page
of own + unassigned records is two short range scans (store/record_lists.py). It
replaces `ix_records_assignee`, its prefix. `ix_records_unassigned (workspace_id,
type, id) WHERE assignee_id IS NULL` gives the unassigned range in id order:
PostgreSQL's planner does not treat `IS NULL` as an equality, so it would not read
ix_records_scope's NULL range as ordered by id and would sort or filter instead.

Revision ID: 0006_records
Revises: 0005_sites
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_records"
down_revision: str | None = "0005_sites"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_records_scope", "records", ["workspace_id", "type", "assignee_id", "id"], unique=False)
    op.drop_index("ix_records_assignee", table_name="records")
    unassigned = sa.text("assignee_id IS NULL")
    op.create_index("ix_records_unassigned", "records", ["workspace_id", "type", "id"], unique=False, postgresql_where=unassigned, sqlite_where=unassigned)


def downgrade() -> None:
    op.drop_index("ix_records_unassigned", table_name="records")
    op.create_index("ix_records_assignee", "records", ["workspace_id", "type", "assignee_id"], unique=False)
    op.drop_index("ix_records_scope", table_name="records")
