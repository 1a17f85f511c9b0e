"""Read models: domain values and store rows -> response bodies.

Reads that need authorization load the workspace like a use case does (without
locking it) and authorize the acting member through the same engine
(`services.context.authorize`), so no rule is decided here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict

from rolegate.api.schemas import (
    MemberOut,
    RecordOut,
    SchemaOut,
    WorkspaceOut,
)
from rolegate.domain.roles import Member, Role
from rolegate.domain.schema import ProductSchema
from rolegate.domain.workspace import Workspace
from rolegate.engine import Record
from rolegate.services.role_views import workspace_view
from rolegate.services.schema_catalog import SchemaCatalog, schema_catalog
from rolegate.store.repositories import MemberInfo

__all__ = ["member_out", "record_out", "schema_out", "workspace_out"]


def workspace_out(
    ws: Workspace, schema: ProductSchema, roles: Mapping[str, Role], members: Iterable[Member]
) -> WorkspaceOut:
    """The workspace with its seat usage (the services' read model as a response body)."""
    return WorkspaceOut.model_validate(asdict(workspace_view(ws, schema, roles, members)))


def member_out(info: MemberInfo) -> MemberOut:
    m = info.member
    return MemberOut(
        id=m.id,
        email=info.email,
        name=info.name,
        role=m.role,
        status=m.status.value,
        invited_at=info.invited_at,
        activated_at=info.activated_at,
        disabled_at=info.disabled_at,
    )


def record_out(record: Record) -> RecordOut:
    parent = {"type": record.parent.type, "id": record.parent.id} if record.parent else None
    return RecordOut(type=record.type, id=record.id, parent=parent, assignee=record.assignee)


_schemas: dict[str, tuple[SchemaCatalog, SchemaOut]] = {}


def schema_out(schema: ProductSchema) -> SchemaOut:
    """The catalog of a product schema as a response body, converted once per catalog
    (the services build a catalog once per schema object)."""
    catalog = schema_catalog(schema)
    hit = _schemas.get(schema.key)
    if hit is not None and hit[0] is catalog:
        return hit[1]
    out = SchemaOut.model_validate(asdict(catalog))
    _schemas[schema.key] = (catalog, out)
    return out
