"""Rules about members: one role each (C2), never locking the team out (C4, T11),
not disabling oneself (C5), not orphaning accounts (C6), who may be assigned records (N9).

Pure functions over plain inputs; the services feed them from the store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Member, MemberStatus, Role
from rolegate.domain.schema import AdminRight, FieldAccess, ProductSchema
from rolegate.domain.violations import EMAIL_INVALID, Violation
from rolegate.domain.words import count_of, plural_of, quoted

__all__ = [
    "assignee_violations",
    "unassignable_types",
    "assignments_kept_violations",
    "default_member_role",
    "guardian_words",
    "email_violations",
    "invitation_open_violations",
    "joining_violations",
    "membership_violations",
    "self_transfer_violations",
    "unknown_assignee_violations",
    "escalation_violations",
    "field_escalation_violations",
    "guardians_after",
    "disable_blockers",
    "guardian_violations",
    "team_lockout_violations",
    "is_guardian",
    "self_disable_violations",
    "self_removal_violations",
]


def is_guardian(schema: ProductSchema, role: Role, effective: frozenset[str]) -> bool:
    """Whether holding `role` makes an active member one of those who must remain."""
    g = schema.guardian
    if g.role is not None:
        return role.is_system and role.id == g.role
    if g.level is not None:
        return role.level == g.level
    assert g.right is not None
    action = schema.admin_actions[g.right]
    return any(gr.action == action for p in effective for gr in schema.permissions[p].grants)


def default_member_role(schema: ProductSchema, roles: Iterable[Role], features: frozenset[str]) -> Role:
    """E7: the workspace's default role, which a member gets when whoever adds them may
    not assign roles (an account administrator creating an administrator record): the
    narrowest system role (fewest effective permissions, then by name); a custom role
    only where the workspace has no system role. Only those who assign roles change it.
    The schema may name it (`default_role:`); that role, while the workspace has it."""
    candidates = list(roles)
    named = [r for r in candidates if r.id == schema.default_role]
    if named:
        return named[0]
    return min(candidates, key=lambda r: (not r.is_system, len(role_permissions(schema, r, features)), r.name.lower(), r.id))


def guardian_words(schema: ProductSchema) -> str:
    """Who must remain (C4/T11), in the product's words: "member with the Owner
    license", "member with the High access level", "member who can manage the team"."""
    g = schema.guardian
    if g.role is not None and g.role in schema.system_roles:
        return f"member with the {schema.system_roles[g.role].name} {schema.words.role.lower()}"
    if g.level is not None and g.level in schema.levels:
        return f"member with the {schema.levels[g.level].label} {schema.words.level.lower()}"
    if g.right is not None:
        return f"member who can {_RIGHT_WORDS[g.right]}"
    return g.label


_RIGHT_WORDS: dict[AdminRight, str] = {
    AdminRight.VIEW_ROLES: "view roles",
    AdminRight.MANAGE_ROLES: "manage roles",
    AdminRight.MANAGE_MEMBERS: "manage the team",
    AdminRight.ASSIGN_ROLES: "assign roles",
    AdminRight.ASSIGN_RECORDS: "assign records",
    AdminRight.VIEW_AUDIT: "view the audit log",
}
"""An administrative right as a customer reads it (never its key)."""


def guardian_violations(
    schema: ProductSchema,
    *,
    member: str,
    actor: str,
    active_guardians: Collection[str],
    stays_guardian: bool,
    who: str = "this member",
) -> list[Violation]:
    """C4/T11: a change that leaves no active guardian (administrator, owner) is refused.

    `active_guardians`: active members who are guardians before the change;
    `stays_guardian`: whether `member` still is one after it (False when demoted,
    disabled or removed); `who`: the member as the team knows them (name or email),
    for the refusal's text.
    """
    if stays_guardian or member not in active_guardians or len(active_guardians) > 1:
        return []
    g = schema.guardian
    if member == actor:
        who = "yourself"
    if member == actor and g.role is not None and g.role in schema.system_roles:
        name = schema.system_roles[g.role].name
        return [Violation(g.rule_id, f"You are the only {name}: you cannot downgrade your own {schema.words.role.lower()}.", f"Make another member {name} first.")]
    return [Violation(g.rule_id, f"This would leave the workspace without a {guardian_words(schema)}: {who} is the last one.", "Give another active member that role first (or transfer ownership).")]


def guardians_after(
    schema: ProductSchema,
    members: Iterable[Member],
    roles: Mapping[str, Role],
    features: frozenset[str],
) -> set[str]:
    """The active members who are guardians, given these members and roles."""
    out = set()
    by_role: dict[str, bool] = {}  # a role's permissions are resolved once, not once per member
    for m in members:
        if m.is_active:
            guards = by_role.get(m.role)
            if guards is None:
                role = roles[m.role]
                guards = by_role[m.role] = is_guardian(schema, role, role_permissions(schema, role, features))
            if guards:
                out.add(m.id)
    return out


def team_lockout_violations(schema: ProductSchema, before: set[str], after: set[str], *, what: str) -> list[Violation]:
    """C4/T11/N12 for role edits: a change to a role must not leave zero guardians."""
    if before and not after:
        g = schema.guardian
        return [Violation(g.rule_id, f"{what} would leave the workspace without a {guardian_words(schema)}.", "Give another active member that role first.")]
    return []


def escalation_violations(
    schema: ProductSchema, *, actor_permissions: frozenset[str], target_permissions: frozenset[str], what: str
) -> list[Violation]:
    """Nobody hands out, or acts on, more than they hold themselves: an Administrator
    cannot make anyone Owner (T11: only owners transfer ownership), an account
    administrator cannot touch a site administrator (E7)."""
    extra = sorted(target_permissions - actor_permissions)
    if not extra:
        return []
    labels = ", ".join(repr(schema.permissions[p].label) for p in extra[:5]) + (" ..." if len(extra) > 5 else "")
    return [Violation(schema.rule("escalation"), f"{what} has permissions you do not hold: {labels}.", "Ask a member who holds them (an owner or site administrator).")]


def field_escalation_violations(
    schema: ProductSchema,
    *,
    actor_fields: Mapping[tuple[str, str], FieldAccess],
    target_fields: Mapping[tuple[str, str], FieldAccess],
    what: str,
) -> list[Violation]:
    """`escalation_violations` for field permissions (K11): nobody gives a role read or
    write on a field that they cannot read or write themselves. `target_fields` is
    what the role would end up with (on a change, only the fields it raises);
    `actor_fields` what the acting member ends up with. Same rule, same refusal."""
    extra = [(key, access) for key, access in sorted(target_fields.items()) if access > actor_fields.get(key, FieldAccess.NONE)]
    if not extra:
        return []
    labels = ", ".join(f"{_field_label(schema, obj, name)} ({access.label})" for (obj, name), access in extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
    return [Violation(schema.rule("escalation"), f"{what} gives field access you do not hold: {labels}.", "Grant at most what your own role has on those fields, or ask a member who holds it (an owner or site administrator).")]


def _field_label(schema: ProductSchema, obj: str, name: str) -> str:
    otype = schema.objects.get(obj)
    fdef = otype.fields.get(name) if otype is not None else None
    return f"{otype.label}: {fdef.label}" if otype is not None and fdef is not None else f"{obj}.{name}"


def self_disable_violations(schema: ProductSchema, *, actor: str, member: str) -> list[Violation]:
    """C5: nobody disables themselves."""
    if actor == member:
        return [Violation(schema.rule("self_change"), "You cannot disable yourself.", "Ask another administrator to do it.")]
    return []


def self_removal_violations(schema: ProductSchema, *, actor: str, member: str) -> list[Violation]:
    """C5 for deleting (N12, E7): nobody removes themselves from the workspace."""
    if actor == member:
        return [Violation(schema.rule("self_change"), "You cannot delete yourself.", "Ask another administrator to do it.")]
    return []


def disable_blockers(schema: ProductSchema, *, member: str, assigned_records: int, references: Sequence[str]) -> list[Violation]:
    """C6 (N9): a member still assigned records, or named in the host product (a playbook
    task), stays enabled; the refusal names what to transfer first. `member`: the
    member as the team knows them (name or email)."""
    rule = schema.rule("member_in_use")
    records = schema.assigned_records()
    out: list[Violation] = []
    if assigned_records:
        out.append(Violation(rule, f"{member} is assigned {schema.assigned_records(assigned_records)}.", f"Transfer their {records} to another member first."))
    if references:
        out.append(Violation(rule, f"{member} is named in {count_of(len(references), 'place')}: {', '.join(references)}.", "Name another member there first (or transfer the references)."))
    return out


def assignee_violations(schema: ProductSchema, *, object_type: str, member: str, effective: frozenset[str], active: bool) -> list[Violation]:
    """N9: records go only to active members whose role lets them be assignees.
    `member`: the member as the team knows them (name or email)."""
    rule = schema.rule("assignee")
    otype = schema.objects[object_type]
    if not otype.assignable:
        return [Violation(rule, f"{otype.label} records are not assigned to members.", "Assign the parent record instead.")]
    if not active:
        return [Violation(rule, f"{member} is not active.", "Assign the record to an active member.")]
    if not _may_hold(schema, otype.assignee_action, effective):
        needed = otype.assignee_action
        perms = [schema.permissions[p].label for p in schema.permissions_by_action.get(needed or "", ())]
        return [Violation(rule, f"{member} cannot be assigned {otype.label.lower()} records.", f"Give them a role with {' or '.join(quoted(p) for p in perms) or quoted(needed or '')}.")]
    return []


def _may_hold(schema: ProductSchema, assignee_action: str | None, effective: frozenset[str]) -> bool:
    """Whether permissions `effective` grant the action that holding a record needs (none: anyone may)."""
    return assignee_action is None or any(g.action == assignee_action for p in effective for g in schema.permissions[p].grants)


def unassignable_types(schema: ProductSchema, effective: frozenset[str]) -> list[str]:
    """The object types whose records a holder of permissions `effective` could not
    keep assigned (N9): only their assigned records can make a role change refused,
    so only they need counting (`assignments_kept_violations`)."""
    return [o.key for o in schema.objects.values() if o.assignee_action is not None and not _may_hold(schema, o.assignee_action, effective)]


def unknown_assignee_violations(schema: ProductSchema, *, member: str) -> list[Violation]:
    """N9: an assignee is a member of the workspace."""
    return [Violation(schema.rule("assignee"), f"No member {member!r} in this workspace.", "Assign the record to a member of the workspace.")]


def self_transfer_violations(schema: ProductSchema, *, source: str, target: str) -> list[Violation]:
    """N9: a member's records go to another member."""
    if source != target:
        return []
    return [Violation(schema.rule("assignee"), "A member's records cannot be transferred to themselves.", "Choose another member to receive them.")]


def assignments_kept_violations(
    schema: ProductSchema, *, member: str, role_name: str, effective: frozenset[str], assigned: Mapping[str, int]
) -> list[Violation]:
    """N9 (and N6 for one member): a member with assigned records keeps a role that lets
    them be assigned. `member`: the person as the team knows them (name, else email);
    `assigned`: their records by object type; `effective`: the new role's permissions."""
    out: list[Violation] = []
    for key, count in assigned.items():
        otype = schema.objects[key]
        if count and otype.assignee_action is not None and not _may_hold(schema, otype.assignee_action, effective):
            label = otype.label.lower()
            out.append(Violation(schema.rule("assignee"), f"{member} is assigned {count_of(count, label)}, which the {role_name} {schema.words.role.lower()} cannot hold.", f"Transfer their {plural_of(label)} to another member first."))
    return out


def email_violations(email: str, *, rule_id: str = EMAIL_INVALID) -> list[Violation]:
    """C2: a person is known by an email address. `rule_id`: the product's, where one is at hand."""
    if "@" in email and len(email) <= 320:
        return []
    return [Violation(rule_id, f"{quoted(email)} is not an email address.", "Enter the member's email address.")]


def membership_violations(schema: ProductSchema, *, email: str, already_member: bool) -> list[Violation]:
    """C2: a person is a member of a workspace once (with one role)."""
    if not already_member:
        return []
    return [Violation(schema.rule("membership"), f"{email} is already a member of this workspace.", "Change their role instead.")]


def joining_violations(
    schema: ProductSchema, *, member: Member, by_themselves: bool, claimed_email: str | None, who: str = "This member"
) -> list[Violation]:
    """T4: an invited member becomes active once; an identity someone already uses
    (`claimed_email`: its email) joins only by that person's own acceptance, logged in."""
    rule = schema.rule("invitation")
    if member.status is not MemberStatus.INVITED:
        return [Violation(rule, f"{who} is {member.status.value}, not invited.", "Only an invitation can be accepted.")]
    if not by_themselves and claimed_email is not None:
        return [Violation(rule, f"{claimed_email} already has a Rolegate login, so only they can accept this invitation.", "Ask them to open the invitation email and accept it while logged in.")]
    return []


def invitation_open_violations(schema: ProductSchema, *, accepted: bool, revoked: bool) -> list[Violation]:
    """T4: an accepted or revoked invitation is neither resent nor revoked again."""
    if not (accepted or revoked):
        return []
    what = "accepted" if accepted else "revoked"
    return [Violation(schema.rule("invitation"), f"This invitation was already {what}.", "Invite the person again if they still need access.")]
