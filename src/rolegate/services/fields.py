"""Use cases on a workspace's objects and fields (K6, K8, K9, K10) and on a role's field
permissions (K6, K7, K9, K11). One transaction each; the host is the platform or a
member who may manage roles and permissions (K13).

None of these touches a role when the registry changes: new objects and fields reach
roles through their level (K8), conversions through the integration's cap (K10).
"""

from __future__ import annotations

from typing import Any

from rolegate.domain.field_registry import FieldRegistry, RegisteredField, RegisteredObject, apply_registry
from rolegate.domain.fields import field_access
from rolegate.domain.roles import Role
from rolegate.domain.rules.field_rules import (
    field_addition_violations,
    integration_access_escalation_violations,
    integration_access_violations,
    object_addition_violations,
    sync_violations,
)
from rolegate.domain.schema import AdminRight, FieldAccess
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import Actor
from rolegate.services.context import WorkspaceState, authorize, load_state, raise_if, record_change
from rolegate.services.roles import FieldInput, update_role
from rolegate.store.uow import UnitOfWork

__all__ = [
    "add_field",
    "add_object",
    "convert_to_synced",
    "field_registry",
    "set_integration_access",
    "set_role_field_access",
]


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


def add_object(uow: UnitOfWork, *, actor: Actor, workspace_id: str, key: str, label: str) -> RegisteredObject:
    """An additional object (K6). Its fields reach no Standard or Limited custom role
    until an administrator configures them (K8)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        raise_if(object_addition_violations(state.schema, key, label))
        obj = RegisteredObject(key, label.strip())
        uow.fields.add_object(workspace_id, obj)
        record_change(uow, workspace_id, actor, "object.add", "object", key, None, {"key": key, "label": obj.label})
        uow.commit()
        return obj


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
) -> RegisteredField:
    """A newly mapped field (K8), local or synced from an integration (K9)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        access = _access(integration_access)
        raise_if(field_addition_violations(state.schema, object_type, name, label, synced_from=synced_from, integration_access=access))
        field = RegisteredField(object_type, name, label.strip(), True, synced_from, access)
        uow.fields.put_field(workspace_id, field)
        record_change(uow, workspace_id, actor, "field.add", "field", f"{object_type}.{name}", None, _field_json(field))
        uow.commit()
        return field


def _access(text: str | None) -> FieldAccess | None:
    if text is None:
        return None
    if text not in ("none", "read", "write"):
        raise_if([Violation("K11", f"{text!r} is not a field permission.", "Use none, read or write (write includes read).")])
    return FieldAccess.parse(text)


def _current(uow: UnitOfWork, workspace_id: str, object_type: str, name: str, label: str) -> RegisteredField:
    found = uow.fields.registry(workspace_id).field(object_type, name)
    return found if found is not None else RegisteredField(object_type, name, label, False)


def convert_to_synced(uow: UnitOfWork, *, actor: Actor, workspace_id: str, object_type: str, name: str, integration: str) -> RegisteredField:
    """K10: a local field becomes synced. No role changes: each keeps its stored
    permission, capped from now on by the integration user's (K9)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        raise_if(sync_violations(state.schema, object_type, name, integration))
        before = _current(uow, workspace_id, object_type, name, state.schema.objects[object_type].fields[name].label)
        after = RegisteredField(before.object_type, before.name, before.label, before.added, integration, before.integration_access)
        uow.fields.put_field(workspace_id, after)
        record_change(uow, workspace_id, actor, "field.sync", "field", f"{object_type}.{name}", _field_json(before), _field_json(after))
        uow.commit()
        return after


def set_integration_access(uow: UnitOfWork, *, actor: Actor, workspace_id: str, object_type: str, name: str, access: str) -> RegisteredField:
    """K9: what the integration user may do on a synced field caps every role. Raising
    it hands that access out to every role that stores more, so the actor must hold it
    themselves (as for permissions; the platform and site administrators have no ceiling)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        raise_if(integration_access_violations(state.schema, object_type, name, access))
        before = _current(uow, workspace_id, object_type, name, state.schema.objects[object_type].fields[name].label)
        after = RegisteredField(before.object_type, before.name, before.label, before.added, before.synced_from, FieldAccess.parse(access))
        raise_if(_integration_escalation(state, actor, after))
        uow.fields.put_field(workspace_id, after)
        record_change(uow, workspace_id, actor, "field.integration_access", "field", f"{object_type}.{name}", _field_json(before), _field_json(after))
        uow.commit()
        return after


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


def set_role_field_access(uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str, changes: FieldInput) -> Role:
    """Change some field permissions of a role, keeping the others (K6, K7, K9, K11,
    the level's ceiling); `update_role` checks only the fields that changed."""
    return update_role(uow, actor=actor, workspace_id=workspace_id, role_id=role_id, field_changes=changes)
