"""The field registry's rows <-> `FieldRegistry` (K6, K8, K9, K10). Never commits."""

from __future__ import annotations

from sqlalchemy import and_, insert, select, update

from rolegate.domain.field_registry import FieldRegistry, RegisteredField, RegisteredObject
from rolegate.domain.schema import FieldAccess
from rolegate.store import tables as t
from rolegate.store.repositories import _Repo, utcnow

__all__ = ["FieldRegistryRepository"]


class FieldRegistryRepository(_Repo):
    def registry(self, workspace_id: str) -> FieldRegistry:
        objects = self.conn.execute(
            select(t.registry_objects.c.key, t.registry_objects.c.label)
            .where(t.registry_objects.c.workspace_id == workspace_id)
            .order_by(t.registry_objects.c.created_at, t.registry_objects.c.key)
        ).all()
        f = t.registry_fields.c
        fields = self.conn.execute(
            select(f.object_type, f.name, f.label, f.added, f.synced_from, f.integration_access)
            .where(f.workspace_id == workspace_id)
            .order_by(f.created_at, f.object_type, f.name)
        ).all()
        return FieldRegistry(
            tuple(RegisteredObject(r.key, r.label) for r in objects),
            tuple(
                RegisteredField(
                    r.object_type,
                    r.name,
                    r.label,
                    bool(r.added),
                    r.synced_from,
                    FieldAccess.parse(r.integration_access) if r.integration_access else None,
                )
                for r in fields
            ),
        )

    def add_object(self, workspace_id: str, obj: RegisteredObject) -> None:
        self.conn.execute(insert(t.registry_objects).values(workspace_id=workspace_id, key=obj.key, label=obj.label))

    def put_field(self, workspace_id: str, field: RegisteredField) -> None:
        """Insert the field's row, or replace what it says (one row per field)."""
        f = t.registry_fields.c
        values = {
            "label": field.label,
            "added": int(field.added),
            "synced_from": field.synced_from,
            "integration_access": field.integration_access.label if field.integration_access is not None else None,
        }
        where = and_(f.workspace_id == workspace_id, f.object_type == field.object_type, f.name == field.name)
        done = self.conn.execute(update(t.registry_fields).where(where).values(**values, updated_at=utcnow()))
        if not done.rowcount:
            self.conn.execute(insert(t.registry_fields).values(workspace_id=workspace_id, object_type=field.object_type, name=field.name, **values))
