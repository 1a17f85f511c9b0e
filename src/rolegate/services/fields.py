"""Use cases on a workspace's objects and fields (K6, K8, K9, K10) and on a role's field
permissions (K6, K7, K9, K11). One transaction each; the host is the platform or a
member who may manage roles and permissions (K13).

None of these touches a role when the registry changes: new objects and fields reach
roles through their level (K8), conversions through the integration's cap (K10).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rolegate.domain.field_registry import FieldRegistry, RegisteredField, RegisteredObject, apply_registry
from rolegate.domain.fields import field_access
from rolegate.domain.roles import Role
from rolegate.domain.rules.field_rules import (
    field_addition_violations,
    field_permission_violations,
    integration_access_escalation_violations,
    integration_access_violations,
    object_addition_violations,
    sync_violations,
)
from rolegate.domain.rules.role_rules import RoleLocks, role_locks
from rolegate.domain.schema import AdminRight, FieldAccess, ProductSchema
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import Actor
from rolegate.services.context import WorkspaceState, authorize, load_state, raise_if, record_change, workspace_schema
from rolegate.services.roles import FieldInput, RoleWritten, update_role_written
from rolegate.store.uow import UnitOfWork

__all__ = [
    "FieldRegistryPage",
    "FieldView",
    "FieldWritten",
    "ObjectView",
    "ObjectWritten",
    "RoleFieldsPage",
    "add_field",
    "add_object",
    "convert_to_synced",
    "field_registry",
    "field_registry_page",
    "role_fields_page",
    "set_integration_access",
    "set_role_field_access",
]


@dataclass(frozen=True, slots=True)
class FieldView:
    name: str
    label: str
    default: bool
    """K7: read cannot be removed."""
    synced_from: str | None
    integration_access: str | None
    """The integration user's permission on a synced field, which caps every role (K9)."""
    added: bool
    """Added by the host (K8)."""


@dataclass(frozen=True, slots=True)
class ObjectView:
    key: str
    label: str
    added: bool
    fields: tuple[FieldView, ...]


def object_view(schema: ProductSchema, registry: FieldRegistry, key: str) -> ObjectView:
    """An object of the workspace's schema with the host's additions and conversions."""
    otype = schema.objects[key]
    fields = []
    for f in otype.fields.values():
        reg = registry.field(key, f.name)
        cap = schema.integrations[f.synced_from].cap(key, f.name).label if f.synced_from is not None else None
        fields.append(FieldView(f.name, f.label, f.default, f.synced_from, cap, bool(reg and reg.added)))
    return ObjectView(key, otype.label, key in {o.key for o in registry.objects}, tuple(fields))


@dataclass(frozen=True, slots=True)
class FieldRegistryPage:
    objects: tuple[ObjectView, ...]
    revision: int


@dataclass(frozen=True, slots=True)
class ObjectWritten:
    object: ObjectView
    revision: int


@dataclass(frozen=True, slots=True)
class FieldWritten:
    object: str
    field: FieldView
    revision: int


@dataclass(frozen=True, slots=True)
class RoleFieldsPage:
    """The role editor's Field permissions tab: the role, the schema its tables are
    drawn from, what is locked, and the rule ids the page cites."""

    role: Role
    schema: ProductSchema
    locks: RoleLocks
    rules: dict[str, str]
    """field_default_read, field_integration_cap, field_level_ceiling, field_access, field_not_configured, field_mirror."""
    revision: int


_FIELD_RULES = (
    "field_default_read",
    "field_integration_cap",
    "field_level_ceiling",
    "field_access",
    "field_not_configured",
    "field_mirror",
)


def role_fields_page(uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str) -> RoleFieldsPage:
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
    role = state.role(role_id)
    schema = state.schema
    return RoleFieldsPage(
        role,
        schema,
        role_locks(schema, role),
        {name: schema.rule(name) for name in _FIELD_RULES},
        state.workspace.revision,
    )


def field_registry_page(uow: UnitOfWork, *, actor: Actor, workspace_id: str) -> FieldRegistryPage:
    """The preset's objects and fields with the host's additions (K8), conversions
    (K10) and integration caps (K9)."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        registry = uow.fields.registry(workspace_id)
    return FieldRegistryPage(
        tuple(object_view(state.schema, registry, k) for k in state.schema.objects), state.workspace.revision
    )


def _object_written(uow: UnitOfWork, state: WorkspaceState, key: str) -> ObjectView:
    """The object as the write left it, read in the write's transaction."""
    registry = uow.fields.registry(state.workspace.id)
    return object_view(workspace_schema(uow, state.workspace), registry, key)


def _field_written(uow: UnitOfWork, state: WorkspaceState, object_type: str, name: str, revision: int) -> FieldWritten:
    out = _object_written(uow, state, object_type)
    return FieldWritten(object_type, next(f for f in out.fields if f.name == name), revision)


def _field_json(f: RegisteredField) -> dict[str, Any]:
    return {
        "object": f.object_type,
        "name": f.name,
        "label": f.label,
        "added": f.added,
        "synced_from": f.synced_from,
        "integration_access": f.integration_access.label if f.integration_access is not None else None,
    }


def field_registry(uow: UnitOfWork, *, actor: Actor, workspace_id: str) -> FieldRegistry:
    """What the host added or changed on top of the preset."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        return uow.fields.registry(workspace_id)


def add_object(uow: UnitOfWork, *, actor: Actor, workspace_id: str, key: str, label: str) -> ObjectWritten:
    """An additional object (K6). Its fields reach no Standard or Limited custom role
    until an administrator configures them (K8)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        raise_if(object_addition_violations(state.schema, key, label))
        obj = RegisteredObject(key, label.strip())
        uow.fields.add_object(workspace_id, obj)
        revision = record_change(
            uow, workspace_id, actor, "object.add", "object", key, None, {"key": key, "label": obj.label}
        )
        written = ObjectWritten(_object_written(uow, state, key), revision)
        uow.commit()
        return written


def add_field(
    uow: UnitOfWork,
    *,
    actor: Actor,
    workspace_id: str,
    object_type: str,
    name: str,
    label: str,
    synced_from: str | None = None,
    integration_access: str | None = None,
) -> FieldWritten:
    """A newly mapped field (K8), local or synced from an integration (K9)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        access = _access(state.schema, integration_access)
        raise_if(
            field_addition_violations(
                state.schema, object_type, name, label, synced_from=synced_from, integration_access=access
            )
        )
        field = RegisteredField(object_type, name, label.strip(), True, synced_from, access)
        uow.fields.put_field(workspace_id, field)
        revision = record_change(
            uow, workspace_id, actor, "field.add", "field", f"{object_type}.{name}", None, _field_json(field)
        )
        written = _field_written(uow, state, object_type, name, revision)
        uow.commit()
        return written


def _access(schema: ProductSchema, text: str | None) -> FieldAccess | None:
    if text is None:
        return None
    raise_if(field_permission_violations(schema, text))
    return FieldAccess.parse(text)


def _current(uow: UnitOfWork, workspace_id: str, object_type: str, name: str, label: str) -> RegisteredField:
    found = uow.fields.registry(workspace_id).field(object_type, name)
    return found if found is not None else RegisteredField(object_type, name, label, False)


def convert_to_synced(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, object_type: str, name: str, integration: str
) -> FieldWritten:
    """K10: a local field becomes synced. No role changes: each keeps its stored
    permission, capped from now on by the integration user's (K9)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        raise_if(sync_violations(state.schema, object_type, name, integration))
        before = _current(uow, workspace_id, object_type, name, state.schema.objects[object_type].fields[name].label)
        after = RegisteredField(
            before.object_type, before.name, before.label, before.added, integration, before.integration_access
        )
        uow.fields.put_field(workspace_id, after)
        revision = record_change(
            uow,
            workspace_id,
            actor,
            "field.sync",
            "field",
            f"{object_type}.{name}",
            _field_json(before),
            _field_json(after),
        )
        written = _field_written(uow, state, object_type, name, revision)
        uow.commit()
        return written


def set_integration_access(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, object_type: str, name: str, access: str
) -> FieldWritten:
    """K9: what the integration user may do on a synced field caps every role. Raising
    it hands that access out to every role that stores more, so the actor must hold it
    themselves (as for permissions; the platform and site administrators have no ceiling)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        raise_if(integration_access_violations(state.schema, object_type, name, access))
        before = _current(uow, workspace_id, object_type, name, state.schema.objects[object_type].fields[name].label)
        after = RegisteredField(
            before.object_type, before.name, before.label, before.added, before.synced_from, FieldAccess.parse(access)
        )
        raise_if(_integration_escalation(state, actor, after))
        uow.fields.put_field(workspace_id, after)
        revision = record_change(
            uow,
            workspace_id,
            actor,
            "field.integration_access",
            "field",
            f"{object_type}.{name}",
            _field_json(before),
            _field_json(after),
        )
        written = _field_written(uow, state, object_type, name, revision)
        uow.commit()
        return written


def _integration_escalation(state: WorkspaceState, actor: Actor, after: RegisteredField) -> list[Violation]:
    """What `integration_access_escalation_violations` needs: the cap now, the cap
    asked for, and what the acting member's role would hold on the field under it."""
    if actor.member_id is None:
        return []  # the platform and site administrators: no ceiling (actor_field_access)
    schema, o, f = state.schema, after.object_type, after.name
    synced = schema.objects[o].fields[f].synced_from
    assert synced is not None  # integration_access_violations: only a synced field has a cap
    assert after.integration_access is not None
    raised = apply_registry(schema, FieldRegistry(fields=(after,)))
    held = field_access(raised, state.roles[state.member(actor.member_id).role], o, f)
    return integration_access_escalation_violations(
        schema, o, f, before=schema.integrations[synced].cap(o, f), after=after.integration_access, actor_access=held
    )


def set_role_field_access(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str, changes: FieldInput
) -> RoleWritten:
    """Change some field permissions of a role, keeping the others (K6, K7, K9, K11,
    the level's ceiling); `update_role` checks only the fields that changed."""
    return update_role_written(uow, actor=actor, workspace_id=workspace_id, role_id=role_id, field_changes=changes)
