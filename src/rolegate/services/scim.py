"""SCIM 2.0 provisioning (RFC 7643, 7644; issue 17): a workspace's identity provider
creates, updates and removes its members (Users) and the groups that give them roles.

A SCIM User is a member of the workspace the directory manages: the User document it
sent is kept as it sent it (write-only attributes dropped: a password is never
stored), beside the member. What Rolegate owns is computed on every read: `id` (the
member id), `active` (the member's status), `groups` and `meta`. The member's email,
their identity across workspaces and organizations, is the userName when it is an
email address, else the primary email; a later change of either is kept in the User
and never renames the person (one directory cannot rename someone another
organization also knows).

Every write is one unit of work with the workspace locked (`load_state`), so seat
capacity holds under parallel creates and nothing is half-created: the member, their
User, their groups and their role commit together or not at all. Each change is
audited, attributed to the directory (`platform:scim:<key prefix>`).

Roles: a workspace maps directory groups to roles (`set_group_role`); a managed
member's role is `directory_role` of their groups (the highest level rank, then the
smallest priority), the workspace's default role when no mapped group holds them. It
is recomputed whenever their groups, a group's name or the mapping change; a manual
change is refused (`directory_role_violations`). A member the directory adopted (an
existing member whose email it provisions) keeps their role until their groups next
change.

Deprovisioning (`active=false`, DELETE): the member is disabled at once (the engine
decides nothing for a disabled member, the admin API refuses them as an actor); where
the product forbids disabling them (C6: accounts or references name them; N9: records
assigned) they are suspended instead: disabled all the same, their records kept and
flagged on the Team page for transfer, audited as `member.suspend`. DELETE then
removes the User (404 from then on) but keeps the suspended member until their work
is moved; without blockers DELETE removes the member. The last owner/administrator
(C4, T11) is never deprovisioned: refused, so the workspace keeps one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from scim2_models import (
    Context,
    Group,
    GroupMember,
    ListResponse,
    PatchOp,
    Resource,
    ScimFilter,
    User,
)
from scim2_models.path import CompareOperator, Comparison

from rolegate.domain.errors import ConflictError, InvalidInputError, NotFoundError
from rolegate.domain.roles import Member, MemberStatus
from rolegate.domain.rules.directory_rules import Deprovision, GroupRole, deprovision_outcome, directory_role
from rolegate.domain.rules.team_rules import (
    default_member_role,
    email_violations,
    guardian_violations,
    guardians_after,
)
from rolegate.domain.schema import AdminRight
from rolegate.domain.violations import Violation, raise_if
from rolegate.domain.words import quoted
from rolegate.domain.workspace import Actor
from rolegate.services.context import (
    WorkspaceState,
    authorize,
    load_state,
    member_name,
    new_id,
    record_change,
    role_escalation,
)
from rolegate.services.members import (
    add_member_locked,
    change_member_role_locked,
    in_use_violations,
    member_json,
    seat_check,
)
from rolegate.store.repositories import MemberInfo, utcnow
from rolegate.store.repositories_scim import GroupRoleRow, ScimGroupRow, ScimUserRow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "GroupRoleMapping",
    "ScimConflictError",
    "ScimInvalidError",
    "create_group",
    "create_user",
    "delete_group",
    "delete_user",
    "get_group",
    "get_user",
    "list_group_roles",
    "list_groups",
    "list_users",
    "patch_group",
    "patch_user",
    "remove_group_role",
    "replace_group",
    "replace_user",
    "search_all",
    "set_group_role",
]

MAX_RESULTS = 1000
"""The most resources one list answers (announced in ServiceProviderConfig)."""


class ScimConflictError(ConflictError):
    """A userName, email or group displayName already provisioned: SCIM 409 `uniqueness`."""

    scim_type = "uniqueness"


class ScimInvalidError(InvalidInputError):
    """A SCIM payload Rolegate cannot use (no email address, an unknown member of a
    group, a bad filter): SCIM 400 with `scim_type`."""

    def __init__(self, message: str, *, scim_type: str = "invalidValue") -> None:
        super().__init__(message)
        self.scim_type = scim_type


_USER_NOT_FOUND = "no User {!r} in this workspace"
_GROUP_NOT_FOUND = "no Group {!r} in this workspace"

# Computed attributes: never stored, rebuilt on every read.
_COMPUTED = ("id", "meta", "groups", "members")


def _not_found(template: str, ident: str) -> NotFoundError:
    return NotFoundError(template.format(ident), decision=None, fix="List the resources to find the id.")


def _stored(resource: User[Any] | Group) -> dict[str, Any]:
    """The document to keep: what a client reads back, without what Rolegate computes.
    The response context drops attributes never returned (a password)."""
    data = resource.model_dump(scim_ctx=Context.RESOURCE_CREATION_RESPONSE)
    for key in _COMPUTED:
        data.pop(key, None)
    return data


def _version(n: int) -> str:
    return f'W/"{n}"'


def _utc(at: datetime) -> str:
    """The store's times are UTC (SQLite hands them back without a zone)."""
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).isoformat()


def _meta(kind: str, base_url: str, ident: str, created: datetime, modified: datetime, version: int) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "created": _utc(created),
        "lastModified": _utc(modified),
        "location": f"{base_url}/{kind}s/{ident}",
        "version": _version(version),
    }


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Directory:
    """What the directory manages in one workspace, read in one transaction."""

    users: dict[str, ScimUserRow]
    members: dict[str, MemberInfo]
    groups: dict[str, ScimGroupRow]
    group_members: dict[str, dict[str, str | None]]

    def groups_of(self, member_id: str) -> list[ScimGroupRow]:
        return [self.groups[g] for g, ms in self.group_members.items() if member_id in ms and g in self.groups]


def _directory(uow: UnitOfWork, workspace_id: str, users: Sequence[ScimUserRow] | None = None, *, members: bool = True) -> _Directory:
    """Everything, or what the Users `users` need (their members, their groups): a
    call about one User reads one User, not the workspace's thousands. `members`
    False: no member rows (Groups show their Users by userName alone)."""
    rows = {u.member_id: u for u in (uow.scim.users(workspace_id) if users is None else users)}
    infos = {m.member.id: m for m in uow.members.some(workspace_id, list(rows))} if rows and members else {}
    groups = {g.id: g for g in uow.scim.groups(workspace_id)}
    return _Directory(rows, infos, groups, uow.scim.group_members(workspace_id, None if users is None else list(rows)))


def _one(uow: UnitOfWork, workspace_id: str, member_id: str) -> _Directory:
    row = uow.scim.user(workspace_id, member_id)
    d = _directory(uow, workspace_id, [row] if row is not None else [])
    if member_id not in d.users or member_id not in d.members:
        raise _not_found(_USER_NOT_FOUND, member_id)
    return d


def _user_model(d: _Directory, member_id: str, base_url: str) -> User[Any]:
    row, info = d.users[member_id], d.members[member_id]
    data = dict(row.resource)
    data["id"] = member_id
    data["userName"] = row.user_name
    # `active` says how the member is (a manual disable shows too) once the directory
    # set it; a User whose `active` the directory never set, or removed, has none
    # (removing it never enables anyone: the member's status stays as it was).
    if "active" in data:
        data["active"] = info.member.status is not MemberStatus.DISABLED
    if not data.get("emails"):
        data["emails"] = [{"value": info.email, "primary": True}]
    groups = d.groups_of(member_id)
    if groups:
        data["groups"] = [{"value": g.id, "display": g.display_name, "$ref": f"{base_url}/Groups/{g.id}", "type": "direct"} for g in groups]
    data["meta"] = _meta("User", base_url, member_id, row.created_at, row.updated_at, row.version)
    return User.model_validate(data)


def _group_model(d: _Directory, group_id: str, base_url: str) -> Group:
    g = d.groups[group_id]
    data: dict[str, Any] = {"schemas": [str(Group.__schema__)], "id": g.id, "displayName": g.display_name}
    if g.external_id is not None:
        data["externalId"] = g.external_id
    listed = d.group_members.get(group_id, {})
    members = [m for m in listed if m in d.users]
    if members:
        data["members"] = [{"value": m, "$ref": f"{base_url}/Users/{m}", "type": "User", "display": listed[m] or d.users[m].user_name} for m in members]
    data["meta"] = _meta("Group", base_url, g.id, g.created_at, g.updated_at, g.version)
    return Group.model_validate(data)


def get_user(uow: UnitOfWork, *, workspace_id: str, member_id: str, base_url: str) -> User[Any]:
    with uow:
        d = _one(uow, workspace_id, member_id)
    return _user_model(d, member_id, base_url)


def get_group(uow: UnitOfWork, *, workspace_id: str, group_id: str, base_url: str) -> Group:
    with uow:
        d = _directory(uow, workspace_id, members=False)
    if group_id not in d.groups:
        raise _not_found(_GROUP_NOT_FOUND, group_id)
    return _group_model(d, group_id, base_url)


R = TypeVar("R", bound="Resource[Any]")


def _page(resources: list[R], kind: Any, expression: str | None, start_index: int | None, count: int | None) -> ListResponse[R]:
    """RFC 7644 §3.4.2: filter (scim2-models evaluates it), then a 1-based page."""
    if expression:
        # Parsed and checked against the model here; a bad one raises InvalidFilterException (400 invalidFilter).
        scim_filter: ScimFilter[Any] = ScimFilter.__class_getitem__(kind)(expression)
        resources = [r for r in resources if scim_filter.match(r)]
    start = max(1, start_index or 1)
    size = MAX_RESULTS if count is None else max(0, min(count, MAX_RESULTS))
    page = resources[start - 1 : start - 1 + size]
    return ListResponse[kind](total_results=len(resources), start_index=start, items_per_page=len(page), resources=page)


def _candidates(uow: UnitOfWork, workspace_id: str, expression: str | None) -> list[ScimUserRow] | None:
    """The Users a filter can only match, read by index, for the lookups directories
    make before each create (`userName eq "..."`, `externalId eq "..."`); None: any
    other filter, evaluated on every User. The filter still decides on the candidates."""
    if not expression:
        return None
    node = ScimFilter.__class_getitem__(User)(expression).ast
    if not isinstance(node, Comparison) or node.op is not CompareOperator.eq or node.attr_path.sub_attr is not None or not isinstance(node.value, str):
        return None
    if node.attr_path.uri not in (None, str(User.__schema__)):
        return None
    attribute = node.attr_path.attr.casefold()
    if attribute == "username":
        row = uow.scim.user_by_name(workspace_id, node.value)
        return [row] if row is not None and row.deleted_at is None else []
    if attribute == "externalid":
        return uow.scim.users_by_external_id(workspace_id, node.value)
    return None


def list_users(
    uow: UnitOfWork, *, workspace_id: str, base_url: str, filter: str | None = None, start_index: int | None = None, count: int | None = None
) -> ListResponse[User[Any]]:
    """The workspace's Users in the order they were provisioned, filtered (userName eq,
    externalId eq, any filter RFC 7644 §3.4.2.2 allows on the User schema) and paged.
    Without a filter only the page's Users are built."""
    with uow:
        candidates = _candidates(uow, workspace_id, filter)
        if candidates is None and not filter:
            rows = uow.scim.users(workspace_id)
            start = max(1, start_index or 1)
            size = MAX_RESULTS if count is None else max(0, min(count, MAX_RESULTS))
            d = _directory(uow, workspace_id, rows[start - 1 : start - 1 + size])
            page = [_user_model(d, m, base_url) for m in d.users if m in d.members]
            return ListResponse[User[Any]](total_results=len(rows), start_index=start, items_per_page=len(page), resources=page)
        d = _directory(uow, workspace_id, candidates)
    users = [_user_model(d, m, base_url) for m in d.users if m in d.members]
    return _page(users, User, filter, start_index, count)


def search_all(
    uow: UnitOfWork, *, workspace_id: str, base_url: str, filter: str | None = None, start_index: int | None = None, count: int | None = None
) -> ListResponse[Any]:
    """POST /.search at the workspace's root: Users and Groups together (RFC 7644
    §3.4.3); an attribute only one of them has is false on the other (§3.4.2.1)."""
    with uow:
        d = _directory(uow, workspace_id)
    users: list[Resource[Any]] = [_user_model(d, m, base_url) for m in d.users if m in d.members]
    groups: list[Resource[Any]] = [_group_model(d, g, base_url) for g in d.groups]
    return _page(users + groups, User | Group, filter, start_index, count)


def list_groups(
    uow: UnitOfWork, *, workspace_id: str, base_url: str, filter: str | None = None, start_index: int | None = None, count: int | None = None
) -> ListResponse[Group]:
    with uow:
        d = _directory(uow, workspace_id, members=False)
    return _page([_group_model(d, g, base_url) for g in d.groups], Group, filter, start_index, count)


# -- users -----------------------------------------------------------------------------------


def _email_of(user: User[Any]) -> str:
    """The member's email: the userName where it is an email address (Okta's default),
    else the primary email (Entra ID's `mail`), else the first one."""
    if user.user_name and not email_violations(user.user_name):
        return user.user_name.strip()
    emails = [e for e in user.emails or [] if e.value]
    chosen = next((e for e in emails if e.primary), emails[0] if emails else None)
    if chosen is None or email_violations(str(chosen.value)):
        raise ScimInvalidError("A User needs an email address: a userName that is one, or an entry of emails.")
    return str(chosen.value).strip()


def _name_of(user: User[Any], email: str) -> str:
    name = user.name
    if name is not None and name.formatted:
        return name.formatted.strip()[:200]
    parts = [p for p in ((name.given_name, name.family_name) if name is not None else ()) if p]
    if parts:
        return " ".join(parts).strip()[:200]
    return (user.display_name or email.split("@")[0]).strip()[:200]


def _with_member(state: WorkspaceState, member: Member) -> WorkspaceState:
    """`state` after this transaction changed `member` (or added them): the next rule
    checks of the same transaction count seats and guardians with the change in."""
    members = [m for m in state.members if m.id != member.id] + [member]
    return replace(state, members=members)


def _refuse_taken(uow: UnitOfWork, workspace_id: str, user_name: str, *, member_id: str | None) -> None:
    taken = uow.scim.user_by_name(workspace_id, user_name)
    if taken is not None and taken.member_id != member_id and taken.deleted_at is None:
        raise ScimConflictError(f"userName {user_name!r} is already provisioned in this workspace.", fix="Update that User instead.")


def create_user(uow: UnitOfWork, *, actor: Actor, workspace_id: str, user: User[Any], base_url: str) -> User[Any]:
    """POST /Users: a new active member with the workspace's default role (their groups
    give them another), their seat checked (N1, K2 ...), or an existing member adopted:
    one whose email this workspace already has, or one the directory deleted while they
    were suspended (provisioning them again enables them)."""
    email = _email_of(user)
    user_name = (user.user_name or email).strip()
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        _refuse_taken(uow, workspace_id, user_name, member_id=None)
        same_name = uow.scim.user_by_name(workspace_id, user_name)  # deleted, suspended: provisioned again
        existing = uow.users.by_email(email)
        info = uow.members.by_user(workspace_id, str(existing.id)) if existing is not None else None
        if same_name is not None:
            info = uow.members.get(workspace_id, same_name.member_id)
        if info is not None:
            row = uow.scim.user(workspace_id, info.member.id, deleted=True)
            if row is not None and row.deleted_at is None:
                raise ScimConflictError(f"{email} is already provisioned in this workspace as {row.user_name!r}.", fix="Update that User instead.")
            member_id = info.member.id
            if row is None:
                uow.scim.add_user(workspace_id, member_id, user_name=user_name, external_id=user.external_id, resource=_stored(user))
            else:
                uow.scim.update_user(workspace_id, member_id, user_name=user_name, external_id=user.external_id, resource=_stored(user), suspended=row.suspended)
            record_change(uow, workspace_id, actor, "member.provision", "member", member_id, None, member_json(info.member, email) | {"userName": user_name, "adopted": True})
            state = _set_active(uow, state, actor, member_id, user.active is not False, deleting=False)
        else:
            role = default_member_role(state.schema, state.roles.values(), state.workspace.features)
            added = add_member_locked(
                uow, state, actor=actor, email=email, role_id=role.id, name=_name_of(user, email), password=None, status=MemberStatus.ACTIVE
            )
            member_id = added.member.member.id
            state = _with_member(state, added.member.member)
            uow.scim.add_user(workspace_id, member_id, user_name=user_name, external_id=user.external_id, resource=_stored(user))
            record_change(uow, workspace_id, actor, "member.provision", "member", member_id, None, {"userName": user_name, "externalId": user.external_id})
            if user.active is False:
                state = _set_active(uow, state, actor, member_id, False, deleting=False)
        d = _one(uow, workspace_id, member_id)
        uow.commit()
    return _user_model(d, member_id, base_url)


def replace_user(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str, user: User[Any], base_url: str) -> User[Any]:
    """PUT /Users/{id}: the User as sent; `active` enables or deprovisions the member
    (absent: their status stays), a name renames them in this workspace."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        _replace_user_locked(uow, state, actor, member_id, user)
        d = _one(uow, workspace_id, member_id)
        uow.commit()
    return _user_model(d, member_id, base_url)


def _replace_user_locked(uow: UnitOfWork, state: WorkspaceState, actor: Actor, member_id: str, user: User[Any]) -> None:
    workspace_id = state.workspace.id
    row = uow.scim.user(workspace_id, member_id)
    info = uow.members.get(workspace_id, member_id)
    if row is None or info is None:
        raise _not_found(_USER_NOT_FOUND, member_id)
    if not user.user_name:
        raise ScimInvalidError("userName is required.")
    user_name = user.user_name.strip()
    _refuse_taken(uow, workspace_id, user_name, member_id=member_id)
    stored = _stored(user)
    if stored != row.resource or user_name != row.user_name:
        uow.scim.update_user(workspace_id, member_id, user_name=user_name, external_id=user.external_id, resource=stored, suspended=row.suspended)
        name = _name_of(user, info.email)
        if name != info.name:
            uow.members.set_name(workspace_id, member_id, name)
        record_change(
            uow, workspace_id, actor, "member.update", "member", member_id,
            {"userName": row.user_name, "name": info.name}, {"userName": user_name, "name": name},
        )  # fmt: skip
    if user.active is not None:  # absent: the member's status stays as it is
        _set_active(uow, state, actor, member_id, user.active, deleting=False)


def patch_user(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str, patch: PatchOp[User[Any]], base_url: str) -> User[Any]:
    """PATCH /Users/{id}: the operations applied (scim2-models: Okta's and Entra ID's
    shapes, `"op": "Replace"`, `"active": "False"`) to the User as it is, then replaced."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        current = _user_model(_one(uow, workspace_id, member_id), member_id, base_url)
        patch.patch(current)
        _replace_user_locked(uow, state, actor, member_id, current)
        d = _one(uow, workspace_id, member_id)
        uow.commit()
    return _user_model(d, member_id, base_url)


def delete_user(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str) -> None:
    """DELETE /Users/{id}: the member leaves (their seat is free), or, where their
    records or references forbid it (C6, N9), is suspended and kept for the transfer."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        row = uow.scim.user(workspace_id, member_id)
        info = uow.members.get(workspace_id, member_id)
        if row is None or info is None:
            raise _not_found(_USER_NOT_FOUND, member_id)
        blockers = _blockers(uow, state, member_id)
        raise_if(_guardian_loss(uow, state, member_id))
        affected = [g for g, ms in uow.scim.group_members(workspace_id).items() if member_id in ms]
        for group_id in affected:
            members = {m: shown for m, shown in uow.scim.group_members(workspace_id)[group_id].items() if m != member_id}
            uow.scim.set_group_members(workspace_id, group_id, members)
        if deprovision_outcome(blockers) is Deprovision.SUSPEND:
            before = state.member(member_id)
            _set_active(uow, state, actor, member_id, False, deleting=True)
            uow.scim.update_user(workspace_id, member_id, user_name=row.user_name, external_id=row.external_id, resource=row.resource, suspended=True, deleted=True)
            if before.status is MemberStatus.DISABLED:  # disabled earlier: the deletion is audited here
                detail = {"reason": [str(v) for v in blockers], "records_kept": True, "requested": "delete"}
                record_change(uow, workspace_id, actor, "member.suspend", "member", member_id, member_json(before), member_json(before) | detail)
        else:
            invitation = uow.invitations.open_for_member(workspace_id, member_id)
            if invitation is not None:
                uow.invitations.close(workspace_id, invitation.id, revoked_at=utcnow())
            uow.scim.remove_user(workspace_id, member_id)
            uow.team.delete_member(workspace_id, member_id)
            data = member_json(info.member, info.email) | {"name": info.name, "user": info.user_id, "userName": row.user_name}
            record_change(uow, workspace_id, actor, "member.delete", "member", member_id, data, None)
        uow.commit()


def _blockers(uow: UnitOfWork, state: WorkspaceState, member_id: str) -> list[Violation]:
    """What a manual disable of the member would be refused by: C6, N9."""
    return in_use_violations(uow, state, member_id)


def _guardian_loss(uow: UnitOfWork, state: WorkspaceState, member_id: str) -> list[Violation]:
    """C4, T11: the directory never deprovisions the workspace's last owner."""
    guardians = guardians_after(state.schema, state.members, state.roles, state.workspace.features)
    found = guardian_violations(state.schema, member=member_id, actor="", active_guardians=guardians, stays_guardian=False)
    if found:
        who = member_name(uow, state.workspace.id, member_id)
        found = guardian_violations(state.schema, member=member_id, actor="", active_guardians=guardians, stays_guardian=False, who=who)
    return found


def _set_active(uow: UnitOfWork, state: WorkspaceState, actor: Actor, member_id: str, active: bool, *, deleting: bool) -> WorkspaceState:
    """Enable (a seat must be free) or deprovision: disable, or suspend where C6/N9
    forbid disabling; the last owner is refused (C4, T11)."""
    workspace_id = state.workspace.id
    before = state.member(member_id)
    row = uow.scim.user(workspace_id, member_id, deleted=True)
    suspended = row is not None and row.suspended
    if active:
        if before.status is not MemberStatus.DISABLED:
            return state
        raise_if(seat_check(state, state.roles[before.role]))
        info = uow.members.get(workspace_id, member_id)
        status = MemberStatus.ACTIVE if info is not None and info.activated_at is not None else MemberStatus.INVITED
        after = Member(before.id, before.role, status)
        uow.members.update(workspace_id, after)
        if row is not None and suspended:
            uow.scim.update_user(workspace_id, member_id, user_name=row.user_name, external_id=row.external_id, resource=row.resource, suspended=False)
        record_change(uow, workspace_id, actor, "member.enable", "member", member_id, member_json(before) | {"suspended": suspended}, member_json(after))
        return _with_member(state, after)
    if before.status is MemberStatus.DISABLED:
        return state
    raise_if(_guardian_loss(uow, state, member_id))
    blockers = _blockers(uow, state, member_id)
    after = Member(before.id, before.role, MemberStatus.DISABLED)
    uow.members.update(workspace_id, after)
    if deprovision_outcome(blockers) is Deprovision.SUSPEND:
        if row is not None:
            uow.scim.update_user(workspace_id, member_id, user_name=row.user_name, external_id=row.external_id, resource=row.resource, suspended=True)
        detail = {"reason": [str(v) for v in blockers], "records_kept": True, "requested": "delete" if deleting else "active=false"}
        record_change(uow, workspace_id, actor, "member.suspend", "member", member_id, member_json(before), member_json(after) | detail)
    else:
        record_change(uow, workspace_id, actor, "member.disable", "member", member_id, member_json(before), member_json(after))
    return _with_member(state, after)


# -- groups ---------------------------------------------------------------------------------


def _member_ids(uow: UnitOfWork, workspace_id: str, members: Iterable[GroupMember] | None) -> dict[str, str | None]:
    """A group's members are Users of this workspace (by id), each with its display."""
    out: dict[str, str | None] = {}
    for m in members or ():
        value = str(m.value or "")
        if uow.scim.user(workspace_id, value) is None:
            raise ScimInvalidError(f"Group member {value!r} is no User of this workspace.")
        out[value] = m.display
    return out


def _group_name(group: Group) -> str:
    name = (group.display_name or "").strip()
    if not name:
        raise ScimInvalidError("displayName is required.")
    if len(name) > 200:
        raise ScimInvalidError("displayName is longer than 200 characters.")
    return name


def _refuse_group_taken(uow: UnitOfWork, workspace_id: str, name: str, *, group_id: str | None) -> None:
    taken = uow.scim.group_by_name(workspace_id, name)
    if taken is not None and taken.id != group_id:
        raise ScimConflictError(f"A Group named {name!r} already exists in this workspace.", fix="Update that Group instead.")


def create_group(uow: UnitOfWork, *, actor: Actor, workspace_id: str, group: Group, base_url: str) -> Group:
    name = _group_name(group)
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        _refuse_group_taken(uow, workspace_id, name, group_id=None)
        members = _member_ids(uow, workspace_id, group.members)
        group_id = new_id()
        uow.scim.add_group(workspace_id, group_id, display_name=name, external_id=group.external_id)
        uow.scim.set_group_members(workspace_id, group_id, members)
        record_change(uow, workspace_id, actor, "directory.group_create", "group", group_id, None, {"displayName": name, "members": sorted(members)})
        _sync_roles(uow, state, actor, members)
        d = _directory(uow, workspace_id, members=False)
        uow.commit()
    return _group_model(d, group_id, base_url)


def replace_group(uow: UnitOfWork, *, actor: Actor, workspace_id: str, group_id: str, group: Group, base_url: str) -> Group:
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        _replace_group_locked(uow, state, actor, group_id, group)
        d = _directory(uow, workspace_id, members=False)
        uow.commit()
    return _group_model(d, group_id, base_url)


def _replace_group_locked(uow: UnitOfWork, state: WorkspaceState, actor: Actor, group_id: str, group: Group) -> None:
    workspace_id = state.workspace.id
    row = uow.scim.group(workspace_id, group_id)
    if row is None:
        raise _not_found(_GROUP_NOT_FOUND, group_id)
    name = _group_name(group)
    _refuse_group_taken(uow, workspace_id, name, group_id=group_id)
    members = _member_ids(uow, workspace_id, group.members)
    before_members = uow.scim.group_members(workspace_id).get(group_id, {})
    if name == row.display_name and group.external_id == row.external_id and members == before_members:
        return
    uow.scim.update_group(workspace_id, group_id, display_name=name, external_id=group.external_id)
    uow.scim.set_group_members(workspace_id, group_id, members)
    record_change(
        uow, workspace_id, actor, "directory.group_update", "group", group_id,
        {"displayName": row.display_name, "members": sorted(before_members)}, {"displayName": name, "members": sorted(members)},
    )  # fmt: skip
    _sync_roles(uow, state, actor, set(members) | set(before_members))


def patch_group(uow: UnitOfWork, *, actor: Actor, workspace_id: str, group_id: str, patch: PatchOp[Group], base_url: str) -> Group:
    """PATCH /Groups/{id}: add and remove members (`members[value eq "..."]`), rename."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        d = _directory(uow, workspace_id, members=False)
        if group_id not in d.groups:
            raise _not_found(_GROUP_NOT_FOUND, group_id)
        current = _group_model(d, group_id, base_url)
        patch.patch(current)
        _replace_group_locked(uow, state, actor, group_id, current)
        d = _directory(uow, workspace_id, members=False)
        uow.commit()
    return _group_model(d, group_id, base_url)


def delete_group(uow: UnitOfWork, *, actor: Actor, workspace_id: str, group_id: str) -> None:
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        row = uow.scim.group(workspace_id, group_id)
        if row is None:
            raise _not_found(_GROUP_NOT_FOUND, group_id)
        members = sorted(uow.scim.group_members(workspace_id).get(group_id, {}))
        uow.scim.remove_group(workspace_id, group_id)
        record_change(uow, workspace_id, actor, "directory.group_delete", "group", group_id, {"displayName": row.display_name, "members": members}, None)
        _sync_roles(uow, state, actor, members)
        uow.commit()


def _sync_roles(uow: UnitOfWork, state: WorkspaceState, actor: Actor, member_ids: Iterable[str]) -> WorkspaceState:
    """Give each managed member among `member_ids` the role their groups resolve to
    (`directory_role`), through the same checks as any role change (seats, the last
    owner, N9's assignments); a refusal refuses the whole SCIM request."""
    workspace_id = state.workspace.id
    mappings = [GroupRole(r.group_name, r.role_id, r.priority) for r in uow.scim.group_roles(workspace_id)]
    groups = {g.id: g.display_name for g in uow.scim.groups(workspace_id)}
    group_members = uow.scim.group_members(workspace_id)
    default = default_member_role(state.schema, state.roles.values(), state.workspace.features).id
    for member_id in sorted(set(member_ids)):
        if uow.scim.user(workspace_id, member_id) is None:
            continue
        names = [groups[g] for g, ms in group_members.items() if member_id in ms and g in groups]
        wanted = directory_role(state.schema, state.roles, mappings, names, default=default)
        before = state.member(member_id)
        if wanted != before.role:
            change_member_role_locked(uow, state, actor=actor, member_id=member_id, role_id=wanted, directory_sync=True)
            state = _with_member(state, Member(before.id, wanted, before.status))
    return state


# -- the group -> role mapping (the admin API: a member with the assign-roles right) ------


@dataclass(frozen=True, slots=True)
class GroupRoleMapping:
    mappings: tuple[GroupRoleRow, ...]
    revision: int


def list_group_roles(uow: UnitOfWork, *, actor: Actor, workspace_id: str) -> GroupRoleMapping:
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        return GroupRoleMapping(tuple(uow.scim.group_roles(workspace_id)), state.workspace.revision)


def _members_of(uow: UnitOfWork, workspace_id: str, group_name: str) -> list[str]:
    """The members of the directory group named `group_name` (case-insensitively): whose
    role a change of its mapping may change. Nobody else's role moves."""
    key = group_name.strip().casefold()
    groups = [g.id for g in uow.scim.groups(workspace_id) if g.display_name.casefold() == key]
    return [m for g, ms in uow.scim.group_members(workspace_id).items() if g in groups for m in ms]


def set_group_role(uow: UnitOfWork, *, actor: Actor, workspace_id: str, group_name: str, role_id: str, priority: int = 0) -> GroupRoleMapping:
    """Members of the directory group `group_name` get `role_id` (by the documented
    order where they are in several mapped groups). Mapping a group hands its role out:
    the actor needs the assign-roles right and must hold the role (no escalation).
    The group's members get their role again in the same transaction."""
    name = group_name.strip()
    if not name or len(name) > 200:
        raise InvalidInputError("a group name has 1 to 200 characters", fix="Use the group's displayName in your directory.")
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.ASSIGN_ROLES)
        role = state.role(role_id)
        raise_if(role_escalation(state, actor, role, f"Role {quoted(role.name)}"))
        before = {r.group_name.casefold(): r for r in uow.scim.group_roles(workspace_id)}.get(name.casefold())
        uow.scim.set_group_role(workspace_id, name, role_id=role_id, priority=priority)
        after = {"group": name, "role": role_id, "priority": priority}
        old = {"group": before.group_name, "role": before.role_id, "priority": before.priority} if before is not None else None
        revision = record_change(uow, workspace_id, actor, "directory.group_role", "group_role", name.casefold(), old, after)
        _sync_roles(uow, state, actor, _members_of(uow, workspace_id, name))
        rows = tuple(uow.scim.group_roles(workspace_id))
        revision = max(revision, _revision(uow, workspace_id))
        uow.commit()
    return GroupRoleMapping(rows, revision)


def remove_group_role(uow: UnitOfWork, *, actor: Actor, workspace_id: str, group_name: str) -> GroupRoleMapping:
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.ASSIGN_ROLES)
        rows = {r.group_name.casefold(): r for r in uow.scim.group_roles(workspace_id)}
        before = rows.get(group_name.strip().casefold())
        if before is None:
            raise NotFoundError(f"no mapping of group {group_name!r}", decision=None, fix="List the mappings to find the group's name.")
        uow.scim.remove_group_role(workspace_id, group_name)
        old = {"group": before.group_name, "role": before.role_id, "priority": before.priority}
        record_change(uow, workspace_id, actor, "directory.group_role", "group_role", before.group_name.casefold(), old, None)
        _sync_roles(uow, state, actor, _members_of(uow, workspace_id, before.group_name))
        result = GroupRoleMapping(tuple(uow.scim.group_roles(workspace_id)), _revision(uow, workspace_id))
        uow.commit()
    return result


def _revision(uow: UnitOfWork, workspace_id: str) -> int:
    ws = uow.workspaces.get(workspace_id)
    assert ws is not None  # locked by this transaction
    return ws.revision

