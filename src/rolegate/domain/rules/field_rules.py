"""Rules about a workspace's objects and fields (K6, K8, K9, K10, K11). Each returns
violations; none raises or does I/O."""

from __future__ import annotations

import re

from rolegate.domain.schema import FieldAccess, ProductSchema
from rolegate.domain.violations import Violation

__all__ = [
    "field_addition_violations",
    "field_permission_violations",
    "write_without_read_violations",
    "integration_access_escalation_violations",
    "integration_access_violations",
    "object_addition_violations",
    "sync_violations",
]

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def field_permission_violations(schema: ProductSchema, text: str, *, where: str = "") -> list[Violation]:
    """K11: a field permission is none, read or write (write includes read)."""
    if text in ("none", "read", "write"):
        return []
    return [
        Violation(
            schema.rule("field_access"),
            f"{where}{text!r} is not a field permission.",
            "Use none, read or write (write includes read).",
        )
    ]


def write_without_read_violations(schema: ProductSchema, field: str, *, read: bool, write: bool) -> list[Violation]:
    """K11: write includes read, so a field cannot be written and not read."""
    if write and not read:
        return [
            Violation(
                schema.rule("field_access"),
                f"{field}: write without read is not possible.",
                "Tick read too, or untick write.",
            )
        ]
    return []


def _key_violations(schema: ProductSchema, what: str, key: str) -> list[Violation]:
    if _KEY.match(key):
        return []
    return [
        Violation(
            schema.rule("field_definition"),
            f"{what} {key!r} is not a valid key.",
            "Use lower-case letters, digits and underscores, starting with a letter (at most 64).",
        )
    ]


def object_addition_violations(schema: ProductSchema, key: str, label: str) -> list[Violation]:
    """K6: additional objects sit beside accounts, contacts and opportunities."""
    out = _key_violations(schema, "Object", key)
    if key in schema.objects:
        out.append(
            Violation(
                schema.rule("field_definition"), f"Object {key!r} already exists.", "Choose another key, or add fields to the existing object."
            )
        )
    if not label.strip():
        out.append(Violation(schema.rule("field_definition"), "An object needs a label.", "Enter the name members will see."))
    return out


def field_addition_violations(
    schema: ProductSchema,
    object_type: str,
    name: str,
    label: str,
    *,
    synced_from: str | None = None,
    integration_access: FieldAccess | None = None,
) -> list[Violation]:
    """A newly mapped field (K8): a new key on a known object; when synced, from a known
    integration (K9)."""
    otype = schema.objects.get(object_type)
    if otype is None:
        return [
            Violation(
                schema.rule("field_definition"),
                f"Unknown object {object_type!r}.",
                f"Add the object first, or use one of {', '.join(schema.objects)}.",
            )
        ]
    out = _key_violations(schema, "Field", name)
    if name in otype.fields:
        out.append(
            Violation(
                schema.rule("field_definition"),
                f"Field {object_type}.{name} already exists.",
                "Choose another name, or convert the existing field.",
            )
        )
    if not label.strip():
        out.append(Violation(schema.rule("field_definition"), "A field needs a label.", "Enter the name members will see."))
    out.extend(_integration_violations(schema, synced_from))
    if integration_access is not None and synced_from is None:
        out.append(
            Violation(
                schema.rule("field_integration_cap"),
                f"{object_type}.{name} is local: only a synced field has an integration user's permission.",
                "Name the integration it is synced from, or leave the permission out.",
            )
        )
    return out


def _integration_violations(schema: ProductSchema, integration: str | None) -> list[Violation]:
    if integration is None or integration in schema.integrations:
        return []
    known = ", ".join(schema.integrations) or "none in this product"
    return [Violation(schema.rule("field_integration_cap"), f"Unknown integration {integration!r}.", f"Use one of: {known}.")]


def sync_violations(schema: ProductSchema, object_type: str, name: str, integration: str) -> list[Violation]:
    """K10: a local field becomes synced; roles need no change (the integration caps them)."""
    otype = schema.objects.get(object_type)
    if otype is None or name not in otype.fields:
        return [Violation(schema.rule("field_convert"), f"Unknown field {object_type}.{name}.", "Convert a field that exists.")]
    out = _integration_violations(schema, integration)
    synced = otype.fields[name].synced_from
    if synced is not None:
        out.append(
            Violation(
                schema.rule("field_convert"),
                f"{object_type}.{name} is already synced from {synced!r}.",
                "Only a local field can be converted.",
            )
        )
    return out


def integration_access_violations(schema: ProductSchema, object_type: str, name: str, access: str) -> list[Violation]:
    """K9: the integration user's permission exists only on a synced field (K11 values)."""
    otype = schema.objects.get(object_type)
    if otype is None or name not in otype.fields:
        return [
            Violation(
                schema.rule("field_integration_cap"),
                f"Unknown field {object_type}.{name}.",
                "Set the integration user's permission on a field that exists.",
            )
        ]
    out: list[Violation] = []
    if access not in ("none", "read", "write"):
        out.append(
            Violation(schema.rule("field_access"), f"{access!r} is not a field permission.", "Use none, read or write (write includes read).")
        )
    if otype.fields[name].synced_from is None:
        out.append(
            Violation(
                schema.rule("field_integration_cap"),
                f"{object_type}.{name} is local: no integration user governs it.",
                "Convert it to a synced field first.",
            )
        )
    return out


def integration_access_escalation_violations(
    schema: ProductSchema,
    object_type: str,
    name: str,
    *,
    before: FieldAccess,
    after: FieldAccess,
    actor_access: FieldAccess,
) -> list[Violation]:
    """No escalation through the integration cap (K9 with K13's "nobody hands out more
    than they hold"): raising what the integration user may do on a synced field from
    `before` to `after` widens it for every role that stores more, so the acting member
    must hold `after` on that field themselves. `actor_access` is what they would hold
    once it is raised (their own role under the new cap: before the change the cap keeps
    them at `before` like everyone else). Lowering it, or keeping it, hands out nothing."""
    if after <= before or actor_access >= after:
        return []
    otype = schema.objects[object_type]
    fdef = otype.fields[name]
    assert fdef.synced_from is not None  # integration_access_violations comes first: only a synced field has a cap
    who = f"the {schema.integrations[fdef.synced_from].label} integration user"
    yours = f"you can only {actor_access.label} it yourself" if actor_access else "you cannot see it yourself"
    fix = f"Raise it at most to {actor_access.label}" if actor_access > before else f"Leave it at {before.label}"
    return [
        Violation(
            schema.rule("escalation"),
            f"Raising what {who} may do on {otype.label}: {fdef.label} from {before.label} to {after.label} would let roles {after.label} it, and {yours}.",
            f"{fix}, or ask a member whose role can {after.label} that field (an owner or site administrator).",
        )
    ]
