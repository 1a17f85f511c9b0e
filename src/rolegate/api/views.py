"""Read models: domain values and store rows -> response bodies.

Reads that need authorization load the workspace like a use case does (without
locking it) and authorize the acting member through the same engine
(`services.context.authorize`), so no rule is decided here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from rolegate.api.schemas import (
    ActionOut,
    AreaOut,
    AuditEventOut,
    FeatureOut,
    FieldOut,
    GrantOut,
    LandingPageOut,
    LevelOut,
    ObjectOut,
    PermissionOut,
    RoleOut,
    SchemaOut,
    SeatOut,
    SeatUsageOut,
    WorkspaceOut,
)
from rolegate.domain.permissions import effective_permissions
from rolegate.domain.roles import Member, MemberStatus, Role
from rolegate.domain.schema import ProductSchema
from rolegate.domain.seats import seat_holders, seat_of
from rolegate.domain.workspace import AuditEvent, Workspace
from rolegate.store.repositories import RoleInfo

__all__ = ["audit_event_out", "role_out", "roles_out", "schema_out", "workspace_out"]


def workspace_out(ws: Workspace, schema: ProductSchema, roles: Mapping[str, Role], members: Iterable[Member]) -> WorkspaceOut:
    holders = seat_holders(schema, roles, members)
    return WorkspaceOut(
        id=ws.id,
        organization_id=ws.organization_id,
        name=ws.name,
        preset=ws.preset,
        schema_version=ws.schema_version,
        features=sorted(ws.features),
        seats={
            key: SeatUsageOut(
                label=seat.label, used=holders[key].used, active=holders[key].active, invited=holders[key].invited, capacity=ws.seat_capacities.get(key)
            )
            for key, seat in schema.seats.items()
        },
        revision=ws.revision,
    )


def role_out(info: RoleInfo, schema: ProductSchema, features: frozenset[str], members: Iterable[Member]) -> RoleOut:
    role = info.role
    counts = Counter(m.status for m in members if m.role == role.id)
    fields: dict[str, dict[str, str]] = {}
    for (obj, name), access in sorted(role.field_access.items()):
        fields.setdefault(obj, {})[name] = access.label
    level = schema.levels.get(role.level)
    return RoleOut.model_validate(
        {
            "id": role.id,
            "name": role.name,
            "type": role.kind.value,
            "level": role.level,
            "level_label": level.label if level else role.level,
            "seat": seat_of(schema, role) if level else None,
            "description": role.description,
            "landing_page": role.landing_page,
            "grants": sorted(role.grants),
            "effective": sorted(effective_permissions(schema, role.level, role.grants, features)) if level else [],
            "field_access": fields,
            "editable": role.editable,
            "deletable": role.deletable,
            "active_members": counts[MemberStatus.ACTIVE],
            "invited_members": counts[MemberStatus.INVITED],
            "created_at": info.created_at,
            "updated_at": info.updated_at,
        }
    )


def roles_out(infos: Iterable[RoleInfo], schema: ProductSchema, features: frozenset[str], members: list[Member]) -> list[RoleOut]:
    return [role_out(info, schema, features, members) for info in infos]


def audit_event_out(e: AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        seq=e.seq,
        id=e.id,
        at=e.at,
        actor=e.actor,
        action=e.action,
        target_type=e.target_type,
        target_id=e.target_id,
        before=e.before,
        after=e.after,
        revision=e.revision,
        prev_hash=e.prev_hash,
        hash=e.hash,
    )


_schemas: dict[str, tuple[ProductSchema, SchemaOut]] = {}


def schema_out(schema: ProductSchema) -> SchemaOut:
    """The catalog of a product schema, built once per schema object (presets are loaded once)."""
    hit = _schemas.get(schema.key)
    if hit is not None and hit[0] is schema:
        return hit[1]
    out = _schema_out(schema)
    _schemas[schema.key] = (schema, out)
    return out


def _schema_out(schema: ProductSchema) -> SchemaOut:
    return SchemaOut(
        key=schema.key,
        name=schema.name,
        description=schema.description,
        level_mode=schema.level_mode.value,
        custom_roles_allowed=schema.custom_roles_allowed,
        areas=[AreaOut(key=a.key, label=a.label, description=a.description) for a in schema.areas.values()],
        permissions=[
            PermissionOut(
                key=p.key,
                label=p.label,
                description=p.description,
                area=p.area,
                grants=[GrantOut(action=g.action, scope=g.scope.label) for g in p.grants],
                requires=sorted(p.requires),
                feature=p.feature,
                pair={"row": p.pair_row, "column": p.pair_column} if p.pair_row is not None and p.pair_column is not None else None,
                system_only=p.system_only,
            )
            for p in schema.permissions.values()
        ],
        levels=[
            LevelOut(
                key=lv.key,
                label=lv.label,
                description=lv.description,
                rank=lv.rank,
                seat=lv.seat,
                floor=sorted(lv.floor),
                ceiling=sorted(lv.ceiling),
                field_ceiling=lv.field_ceiling.label,
            )
            for lv in schema.levels_by_rank()
        ],
        seats=[SeatOut(key=s.key, label=s.label, description=s.description) for s in schema.seats.values()],
        features=[FeatureOut(key=f.key, label=f.label, description=f.description, default=f.default) for f in schema.features.values()],
        landing_pages=[LandingPageOut(key=lp.key, label=lp.label, requires=lp.requires) for lp in schema.landing_pages.values()],
        objects=[
            ObjectOut(
                key=o.key,
                label=o.label,
                parent=o.parent,
                assignable=o.assignable,
                view_action=o.view_action,
                fields=[FieldOut(name=f.name, label=f.label, default=f.default, synced_from=f.synced_from) for f in o.fields.values()],
            )
            for o in schema.objects.values()
        ],
        actions=[ActionOut(key=a.key, label=a.label, object=a.object_type) for a in schema.actions.values()],
        admin_actions={right.value: action for right, action in schema.admin_actions.items()},
    )
