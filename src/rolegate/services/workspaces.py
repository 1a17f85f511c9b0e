"""Use cases on workspaces: create one from a preset, switch features, set seat capacities."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rolegate.domain.errors import RolegateError
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Member, MemberStatus, role_from_system
from rolegate.domain.rules.team_rules import is_guardian
from rolegate.domain.schema import AdminRight, ProductSchema
from rolegate.domain.seats import seat_of, seat_usage, seat_violations
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import Actor, Workspace
from rolegate.presets import load_preset
from rolegate.services.context import authorize, load_state, new_id, raise_if, record_change
from rolegate.services.members import ensure_user, member_json
from rolegate.store.repositories import MemberInfo
from rolegate.store.uow import UnitOfWork

__all__ = ["CreatedWorkspace", "create_organization", "create_workspace", "set_features", "set_seat_capacities"]

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class CreatedWorkspace:
    workspace: Workspace
    owner: MemberInfo


def create_organization(uow: UnitOfWork, *, actor: Actor, name: str) -> str:
    with uow:
        org_id = new_id()
        uow.workspaces.add_organization(org_id, name)
        uow.commit()
        return org_id


def create_workspace(
    uow: UnitOfWork,
    *,
    actor: Actor,
    preset: str,
    name: str,
    owner_email: str,
    owner_name: str = "",
    owner_password: str | None = None,
    organization_id: str | None = None,
    features: Iterable[str] | None = None,
    seat_capacities: Mapping[str, int | None] | None = None,
) -> CreatedWorkspace:
    """A workspace with the preset's system roles, features, seat capacities and a
    first active member holding the role that keeps the team safe (administrator,
    owner: C4, T11), in one transaction."""
    if not actor.is_platform:
        raise RolegateError("only the platform creates workspaces", fix="use an organization API key or the CLI")
    schema = load_preset(preset)
    feats = schema.feature_defaults if features is None else frozenset(features)
    unknown = sorted(feats - schema.features.keys())
    caps = dict.fromkeys(schema.seats, None) | dict(seat_capacities or {})
    bad_seats = sorted(caps.keys() - schema.seats.keys())
    owner_role = _owner_role(schema)
    owner_seat = seat_of(schema, role_from_system(schema, schema.system_roles[owner_role], role_id=owner_role))
    violations = []
    if unknown:
        violations.append(Violation("E4", f"Unknown features: {', '.join(unknown)}.", f"Use features of {preset}: {', '.join(schema.features) or 'none'}."))
    if bad_seats:
        violations.append(Violation("N1", f"Unknown seats: {', '.join(bad_seats)}.", f"Use seats of {preset}: {', '.join(schema.seats) or 'none'}."))
    elif owner_seat is not None:
        violations += seat_violations(schema, owner_seat, used=0, capacity=caps.get(owner_seat))
    raise_if(violations)
    with uow:
        org_id = organization_id
        if org_id is None:
            org_id = new_id()
            uow.workspaces.add_organization(org_id, name)
        elif not uow.workspaces.organization_exists(org_id):
            raise RolegateError(f"no organization {org_id!r}", fix="create it first or omit it")
        ws = Workspace(new_id(), org_id, name, preset, SCHEMA_VERSION, feats, caps, 0)
        uow.workspaces.add(ws)
        for key, system in schema.system_roles.items():
            uow.roles.add(ws.id, role_from_system(schema, system, role_id=key), system_key=key)
        record_change(uow, ws.id, actor, "workspace.create", "workspace", ws.id, None, {"preset": preset, "name": name, "features": sorted(feats), "seat_capacities": caps})
        user_id = ensure_user(uow, owner_email, owner_name, owner_password)
        owner = Member(new_id(), owner_role, MemberStatus.ACTIVE)
        uow.members.add(ws.id, owner, user_id=user_id, name=owner_name.strip()[:200])
        record_change(uow, ws.id, actor, "member.add", "member", owner.id, None, member_json(owner, owner_email))
        uow.commit()
        current = uow.workspaces.get(ws.id)
        info = uow.members.get(ws.id, owner.id)
    assert current is not None  # written above, in this transaction
    assert info is not None
    return CreatedWorkspace(current, info)


def _owner_role(schema: ProductSchema) -> str:
    every = frozenset(schema.features)
    for key, system in schema.system_roles.items():
        role = role_from_system(schema, system, role_id=key)
        if is_guardian(schema, role, role_permissions(schema, role, every)):
            return key
    raise RolegateError(f"preset {schema.key!r} has no system role that keeps the team", fix="fix the preset's team.keep_one")


def set_features(uow: UnitOfWork, *, actor: Actor, workspace_id: str, features: Iterable[str]) -> Workspace:
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        feats = frozenset(features)
        unknown = sorted(feats - state.schema.features.keys())
        raise_if([Violation("E4", f"Unknown features: {', '.join(unknown)}.", f"Use one of {', '.join(state.schema.features) or 'none'}.")] if unknown else [])
        ws = state.workspace
        uow.workspaces.update_settings(workspace_id, features=feats, seat_capacities=ws.seat_capacities)
        record_change(uow, workspace_id, actor, "workspace.features", "workspace", workspace_id, sorted(ws.features), sorted(feats))
        uow.commit()
    with uow:
        out = uow.workspaces.get(workspace_id)
    assert out is not None
    return out


def set_seat_capacities(uow: UnitOfWork, *, actor: Actor, workspace_id: str, seat_capacities: Mapping[str, int | None]) -> Workspace:
    """Capacity can shrink only down to what is in use."""
    with uow:
        state = load_state(uow, workspace_id)
        if not actor.is_platform:
            raise RolegateError("seat capacities are set by the platform (billing)", fix="use an organization API key")
        schema = state.schema
        unknown = sorted(set(seat_capacities) - schema.seats.keys())
        used = seat_usage(schema, state.roles, state.members)
        violations = [Violation("N1", f"Unknown seats: {', '.join(unknown)}.", f"Use one of {', '.join(schema.seats)}.")] if unknown else []
        for seat, cap in seat_capacities.items():
            if seat in schema.seats and cap is not None and (cap < 0 or used.get(seat, 0) > cap):
                violations.append(Violation(schema.seats[seat].rule or "N1", f"{seat}: {used.get(seat, 0)} in use, capacity {cap} is too small.", "Free seats first (disable members or change roles)."))
        raise_if(violations)
        ws = state.workspace
        caps = dict(ws.seat_capacities) | dict(seat_capacities)
        uow.workspaces.update_settings(workspace_id, features=ws.features, seat_capacities=caps)
        record_change(uow, workspace_id, actor, "workspace.seats", "workspace", workspace_id, dict(ws.seat_capacities), caps)
        uow.commit()
    with uow:
        out = uow.workspaces.get(workspace_id)
    assert out is not None
    return out
