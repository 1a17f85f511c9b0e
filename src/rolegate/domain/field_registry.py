"""A workspace's objects and fields on top of its product preset (K6, K8, K9, K10).

The host adds objects ("additional objects") and fields, marks a field as synced from
an integration, converts a local field to a synced one (K10), and sets what the
integration user may do on a synced field (K9). `apply_registry` folds all of that
into the preset's `ProductSchema`, so the policy (`domain.fields`), the engine and the
editor read one schema and never know which parts came from where.

Nothing here touches roles: a new field is simply not mentioned by any role, so each
role gets what its level hands out for unconfigured fields (K8), and a field that
becomes synced keeps every role's stored permission, capped by the integration (K10).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rolegate.domain.schema import FieldAccess, FieldDef, Integration, ObjectType, ProductSchema, frozen_map

__all__ = ["FieldRegistry", "RegisteredField", "RegisteredObject", "apply_registry"]


@dataclass(frozen=True, slots=True)
class RegisteredObject:
    """An additional object the host added to the workspace (K6, K8)."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class RegisteredField:
    """A field the host added (`added`), or the host's changes to a preset field.

    `synced_from` set on a preset field that the preset keeps local is a conversion
    (K10); `integration_access` is the integration user's permission on it (K9),
    `None` meaning the integration's default.
    """

    object_type: str
    name: str
    label: str
    added: bool
    synced_from: str | None = None
    integration_access: FieldAccess | None = None


@dataclass(frozen=True, slots=True)
class FieldRegistry:
    objects: tuple[RegisteredObject, ...] = ()
    fields: tuple[RegisteredField, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.objects and not self.fields

    def field(self, object_type: str, name: str) -> RegisteredField | None:
        for f in self.fields:
            if f.object_type == object_type and f.name == name:
                return f
        return None


def _object(key: str, label: str) -> ObjectType:
    # An additional object carries fields only: no record scope of its own (no
    # assignee, no view action), so record checks and lookups do not apply to it.
    return ObjectType(
        key=key,
        label=label,
        parent=None,
        assignable=False,
        assignee_action=None,
        view_action=None,
        on_parent_delete="cascade",
        fields=frozen_map({}),
        additional=True,
    )


def apply_registry(schema: ProductSchema, registry: FieldRegistry) -> ProductSchema:
    """The preset's schema with the workspace's objects, fields, conversions and
    integration caps. The same schema back when the registry is empty."""
    if registry.empty:
        return schema
    objects: dict[str, ObjectType] = dict(schema.objects)
    fields: dict[str, dict[str, FieldDef]] = {k: dict(o.fields) for k, o in objects.items()}
    for obj in registry.objects:
        if obj.key not in objects:
            objects[obj.key] = _object(obj.key, obj.label)
            fields[obj.key] = {}
    caps: dict[str, dict[str, FieldAccess]] = {k: dict(i.field_caps) for k, i in schema.integrations.items()}
    for f in registry.fields:
        per = fields.get(f.object_type)
        if per is None:
            continue  # the store keeps fields of known objects only; never fail a load on it
        existing = per.get(f.name)
        if existing is None:
            per[f.name] = FieldDef(f.object_type, f.name, f.label or f.name, False, f.synced_from)
        elif f.synced_from is not None:
            per[f.name] = replace(existing, synced_from=f.synced_from)
        synced = per[f.name].synced_from
        if synced is not None and f.integration_access is not None and synced in caps:
            caps[synced][f"{f.object_type}.{f.name}"] = f.integration_access
    return replace(
        schema,
        objects=frozen_map({k: replace(o, fields=frozen_map(fields[k])) for k, o in objects.items()}),
        integrations=frozen_map({k: _with_caps(i, caps[k]) for k, i in schema.integrations.items()}),
    )


def _with_caps(integration: Integration, caps: dict[str, FieldAccess]) -> Integration:
    return replace(integration, field_caps=frozen_map(caps))
