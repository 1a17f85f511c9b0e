"""The database's schema, for the operator's commands: is it migrated, migrate it, drop
it (Alembic, in the store). Here so that a door names no store module."""

from __future__ import annotations

from rolegate.store.migrations import DatabaseStatus, UpgradeResult, downgrade, require_current, status, upgrade

__all__ = ["DatabaseStatus", "UpgradeResult", "downgrade", "require_current", "status", "upgrade"]
