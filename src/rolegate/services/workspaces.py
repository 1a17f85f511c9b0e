"""Use cases on workspaces: create one from a preset, read it (features, seats in use
and their capacity), change its settings (features, seat capacities) in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from rolegate.domain.errors import RolegateError
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Member, MemberStatus, role_from_system
from rolegate.domain.rules.team_rules import is_guardian
from rolegate.domain.rules.workspace_rules import capacity_violations, feature_violations, seat_key_violations
from rolegate.domain.schema import ProductSchema
from rolegate.domain.seats import seat_of, seat_usage, seat_violations
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import Actor, Workspace
from rolegate.services import role_views
from rolegate.services.context import WorkspaceState, load_state, new_id, raise_if, record_change
from rolegate.services.features import authorize_feature_change, require_features
from rolegate.services.mail import MailPolicy
from rolegate.services.members import ensure_user, member_json
from rolegate.services.password_reset import set_password_if_none_locked
from rolegate.services.role_views import WorkspaceView
from rolegate.services.schema_upgrade_versions import newest_schema
from rolegate.store.repositories import MemberInfo
from rolegate.store.uow import UnitOfWork

__all__ = [
    "CreatedWorkspace",
    "WorkspaceView",
    "create_organization",
    "create_workspace",
    "set_features",
    "set_seat_capacities",
    "turn_feature",
    "update_settings",
    "workspace_revision",
    "workspace_view",
]

@dataclass(frozen=True, slots=True)
class CreatedWorkspace:
    workspace: Workspace
    owner: MemberInfo
    view: WorkspaceView


def workspace_revision(uow: UnitOfWork, *, workspace_id: str) -> int:
    """The workspace's revision (0: no such workspace): one primary-key read."""
    with uow:
        return int(uow.workspaces.revision(workspace_id) or 0)


def workspace_view(uow: UnitOfWork, *, workspace_id: str) -> WorkspaceView:
    """The workspace, its features and seats, for any key that reaches it (no member acts)."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        return role_views.workspace_view(state.workspace, state.schema, state.roles, state.members)


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
    policy: MailPolicy | None = None,
) -> CreatedWorkspace:
    """A workspace with the preset's system roles, features, seat capacities and a
    first active member holding the role that keeps the team safe (administrator,
    owner: C4, T11), in one transaction. With a mail `policy`, an owner without a
    password is emailed a link to choose one, at their own address (E1)."""
    if not actor.is_platform:
        raise RolegateError("only the platform creates workspaces", fix="Use an organization API key or the CLI.")
    with uow:
        # The product's newest stored version (issue 19): a new workspace starts where
        # `rolegate schema apply` moved the others.
        schema = newest_schema(uow, preset)
        feats = schema.feature_defaults if features is None else frozenset(features)
        caps = dict.fromkeys(schema.seats, None) | dict(seat_capacities or {})
        owner_role = _owner_role(schema)
        owner_seat = seat_of(schema, role_from_system(schema, schema.system_roles[owner_role], role_id=owner_role))
        violations = feature_violations(
            schema, feats, fix=f"Use features of {preset}: {', '.join(schema.features) or 'none'}."
        )
        bad_seats = seat_key_violations(schema, caps, fix=f"Use seats of {preset}: {', '.join(schema.seats) or 'none'}.")
        violations += bad_seats
        if not bad_seats and owner_seat is not None:
            violations += seat_violations(schema, owner_seat, used=0, capacity=caps.get(owner_seat))
        raise_if(violations)
        org_id = organization_id
        if org_id is None:
            org_id = new_id()
            uow.workspaces.add_organization(org_id, name)
        elif not uow.workspaces.organization_exists(org_id):
            raise RolegateError(f"no organization {org_id!r}", fix="Create it first or omit it.")
        ws = Workspace(new_id(), org_id, name, preset, schema.version, feats, caps, 0)
        uow.workspaces.add(ws)
        roles = {key: role_from_system(schema, system, role_id=key) for key, system in schema.system_roles.items()}
        for key, role in roles.items():
            uow.roles.add(ws.id, role, system_key=key)
        record_change(
            uow,
            ws.id,
            actor,
            "workspace.create",
            "workspace",
            ws.id,
            None,
            {"preset": preset, "name": name, "features": sorted(feats), "seat_capacities": caps},
        )
        user_id = ensure_user(uow, owner_email, owner_name, owner_password)
        owner = Member(new_id(), owner_role, MemberStatus.ACTIVE)
        uow.members.add(ws.id, owner, user_id=user_id, name=owner_name.strip()[:200])
        revision = record_change(
            uow, ws.id, actor, "member.add", "member", owner.id, None, member_json(owner, owner_email)
        )
        info = uow.members.get(ws.id, owner.id)  # with the times the store gave it
        if policy is not None:
            set_password_if_none_locked(uow, user_id=user_id, policy=policy)
        uow.commit()
    assert info is not None  # written above, in this transaction
    current = replace(ws, revision=revision)
    return CreatedWorkspace(current, info, role_views.workspace_view(current, schema, {r.id: r for r in roles.values()}, [owner]))


def _owner_role(schema: ProductSchema) -> str:
    every = frozenset(schema.features)
    for key, system in schema.system_roles.items():
        role = role_from_system(schema, system, role_id=key)
        if is_guardian(schema, role, role_permissions(schema, role, every)):
            return key
    raise RolegateError(
        f"preset {schema.key!r} has no system role that keeps the team", fix="Fix the preset's team.keep_one."
    )


def update_settings(
    uow: UnitOfWork,
    *,
    actor: Actor,
    workspace_id: str,
    features: Iterable[str] | None = None,
    seat_capacities: Mapping[str, int | None] | None = None,
) -> WorkspaceView:
    """Set the features (plan, add-ons: E4, E5) and the seat capacities (billing: N1, K2)
    given, in one transaction: a refused part leaves the whole unchanged. Each part
    written is its own audit event. Capacity can shrink only down to what is in use.
    Features are changed by the platform or a site administrator (`feature_rules`)."""
    with uow:
        state = load_state(uow, workspace_id)
        view = _update_settings_locked(uow, state, actor, features, seat_capacities)
        uow.commit()
    return view


def turn_feature(uow: UnitOfWork, *, actor: Actor, workspace_id: str, feature: str, on: bool) -> WorkspaceView:
    """Turn one feature on or off (the Features page, E4, E5), the others as they are
    when the workspace is locked; audited like `set_features`. Nothing is written when
    it already is as asked."""
    with uow:
        state = load_state(uow, workspace_id)
        require_features(state.schema)
        now = state.workspace.features
        wanted = now | {feature} if on else now - {feature}
        if wanted == now:
            authorize_feature_change(state, actor)
            raise_if(_feature_key_violations(state.schema, [feature]))
            return role_views.workspace_view(state.workspace, state.schema, state.roles, state.members)
        view = _update_settings_locked(uow, state, actor, wanted, None)
        uow.commit()
    return view


def _feature_key_violations(schema: ProductSchema, features: Iterable[str]) -> list[Violation]:
    return feature_violations(schema, features, fix=f"Use one of {', '.join(schema.features) or 'none'}.")


def _update_settings_locked(
    uow: UnitOfWork,
    state: WorkspaceState,
    actor: Actor,
    features: Iterable[str] | None,
    seat_capacities: Mapping[str, int | None] | None,
) -> WorkspaceView:
    schema, ws = state.schema, state.workspace
    workspace_id = ws.id
    if features is not None:
        authorize_feature_change(state, actor)
    if seat_capacities is not None and not actor.is_platform:
        raise RolegateError("seat capacities are set by the platform (billing)", fix="Use an organization API key.")
    feats = ws.features if features is None else frozenset(features)
    caps = dict(ws.seat_capacities)
    violations = []
    if features is not None:
        violations += _feature_key_violations(schema, feats)
    if seat_capacities is not None:
        violations += seat_key_violations(schema, seat_capacities, fix=f"Use one of {', '.join(schema.seats)}.")
        violations += capacity_violations(schema, seat_capacities, used=seat_usage(schema, state.roles, state.members))
        caps |= dict(seat_capacities)
    raise_if(violations)
    uow.workspaces.update_settings(workspace_id, features=feats, seat_capacities=caps)
    revision = ws.revision
    if features is not None:
        revision = record_change(
            uow, workspace_id, actor, "workspace.features", "workspace", workspace_id, sorted(ws.features), sorted(feats)
        )
    if seat_capacities is not None:
        revision = record_change(
            uow, workspace_id, actor, "workspace.seats", "workspace", workspace_id, dict(ws.seat_capacities), caps
        )
    return role_views.workspace_view(
        replace(ws, features=feats, seat_capacities=caps, revision=revision), schema, state.roles, state.members
    )


def set_features(uow: UnitOfWork, *, actor: Actor, workspace_id: str, features: Iterable[str]) -> WorkspaceView:
    return update_settings(uow, actor=actor, workspace_id=workspace_id, features=features)


def set_seat_capacities(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, seat_capacities: Mapping[str, int | None]
) -> WorkspaceView:
    """Capacity can shrink only down to what is in use."""
    return update_settings(uow, actor=actor, workspace_id=workspace_id, seat_capacities=seat_capacities)
