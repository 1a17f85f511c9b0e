"""ix_records_scope holds assigned records only (`WHERE assignee_id IS NOT NULL`).

Every range it serves is of assigned records (`assignee_id = :m`, `< :m`, `> :m`,
`IS NOT NULL`); the unassigned range is `ix_records_unassigned`'s. Child records
(tasks, comments, usage events: never assigned) were most of its entries, each one
more index insert on every bulk upsert (issue 6: 5,000,000 of its 6,000,000 entries).

Revision ID: 0008_bulk
Revises: 0007_team
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_bulk"
down_revision: str | None = "0007_team"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["workspace_id", "type", "assignee_id", "id"]


def upgrade() -> None:
    assigned = sa.text("assignee_id IS NOT NULL")
    op.drop_index("ix_records_scope", table_name="records")
    op.create_index("ix_records_scope", "records", COLUMNS, unique=False, postgresql_where=assigned, sqlite_where=assigned)


def downgrade() -> None:
    op.drop_index("ix_records_scope", table_name="records")
    op.create_index("ix_records_scope", "records", COLUMNS, unique=False)
