"""Field policy: what a role may do on a field (K5, K7, K8, K9, K10, K11)."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.roles import Role
from rolegate.domain.schema import FieldAccess, ProductSchema

__all__ = ["FieldDecision", "field_access", "field_decision", "new_role_field_access", "role_field_access"]


@dataclass(frozen=True, slots=True)
class FieldDecision:
    access: FieldAccess
    base: FieldAccess
    """What the role says before the level, default and integration rules apply."""
    read_locked: bool
    """K7: a default field's read cannot be taken away."""
    cap: FieldAccess
    """The most any role may have here: level ceiling and integration cap (K1, K9)."""
    reasons: tuple[str, ...]
    rule_id: str
    """The rule that keeps the access where it is, as this product cites it: K5 (mirrors
    the integration owner), K11 (the role's own setting), K8 (not configured), K1 (the
    level's ceiling) or K9 (the integration user's cap)."""


def field_decision(schema: ProductSchema, role: Role, object_type: str, field_name: str) -> FieldDecision:
    fdef = schema.objects[object_type].fields[field_name]
    level = schema.levels[role.level]
    reasons: list[str] = []
    if role.mirror_integration:
        # K5: system roles mirror the integration owner, who may do everything the
        # integration allows; the level and the integration caps below still apply.
        base = FieldAccess.WRITE
        rule = schema.rule("field_mirror")
        reasons.append(f"mirrors the integration owner{schema.cite('field_mirror')}")
    elif (object_type, field_name) in role.field_access:
        base = role.field_access[(object_type, field_name)]
        rule = schema.rule("field_access")
        reasons.append(f"role sets {base.label}")
    else:
        # K8: a field the role does not mention gets only what its level hands out.
        base = level.new_field_access
        rule = schema.rule("field_not_configured")
        reasons.append(f"not configured on the role; level {level.key!r} gives {base.label}{schema.cite('field_not_configured')}")
    access = base
    if fdef.default and access < FieldAccess.READ:
        access = FieldAccess.READ
        reasons.append(f"default field: always readable{schema.cite('field_default_read')}")
    cap = level.field_ceiling
    if access > cap:
        access = cap
        rule = level.rule or schema.rule("field_level_ceiling")
        reasons.append(f"level {level.key!r} allows at most {cap.label}")
    if fdef.synced_from is not None:
        integ_cap = schema.integrations[fdef.synced_from].cap(object_type, field_name)
        cap = min(cap, integ_cap)
        if access > integ_cap:
            access = integ_cap
            rule = schema.rule("field_integration_cap")
            reasons.append(f"synced from {fdef.synced_from!r}, whose integration user has {integ_cap.label}{schema.cite('field_integration_cap')}")
    if access is FieldAccess.READ and cap < FieldAccess.WRITE:
        # Readable but not writable, and no role setting could change that: name the
        # cap (the level's ceiling first, then the integration user) rather than the role.
        if level.field_ceiling < FieldAccess.WRITE:
            rule = level.rule or schema.rule("field_level_ceiling")
            why = f"level {level.key!r} allows at most {level.field_ceiling.label}"
        else:
            rule = schema.rule("field_integration_cap")
            why = f"synced from {fdef.synced_from!r}, whose integration user has {cap.label}{schema.cite('field_integration_cap')}"
        if why not in reasons:
            reasons.append(why)
    return FieldDecision(access, base, fdef.default, cap, tuple(reasons), rule)


def field_access(schema: ProductSchema, role: Role, object_type: str, field_name: str) -> FieldAccess:
    return field_decision(schema, role, object_type, field_name).access


def role_field_access(schema: ProductSchema, role: Role) -> dict[tuple[str, str], FieldAccess]:
    """What `role` ends up with on every declared field, every rule applied: what a
    role hands out, as `role_permissions` is for permissions (a field it does not
    mention counts with what its level gives, K8)."""
    return {(o, f): field_decision(schema, role, o, f).access for o, otype in schema.objects.items() for f in otype.fields}


def new_role_field_access(schema: ProductSchema, level: str) -> dict[tuple[str, str], FieldAccess]:
    """K8: what a new custom role of `level` starts with, before the creator's own
    choices: every existing field of the standard objects selected as far as the level
    and the integration user allow (K1, K9); the fields of additional objects are left
    out, as are fields mapped later, so they get what the level hands out (K8: nothing
    for Standard and Limited) until an administrator configures them."""
    ceiling = schema.levels[level].field_ceiling
    out: dict[tuple[str, str], FieldAccess] = {}
    for key, otype in schema.objects.items():
        if otype.additional:
            continue
        for name, fdef in otype.fields.items():
            cap = ceiling
            if fdef.synced_from is not None:
                cap = min(cap, schema.integrations[fdef.synced_from].cap(key, name))
            out[(key, name)] = cap
    return out
