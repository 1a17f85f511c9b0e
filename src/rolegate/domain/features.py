"""E4, E5: what each feature of a workspace unlocks. A feature is a workspace-level
switch (plan, add-on, integration); a permission gated by it has no effect while it is
off. For the Features page: per feature, whether it is on, the permissions it unlocks
(by area, in the schema's order), and which roles gain them when it is on, so that
turning it on or off says whose access changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Role
from rolegate.domain.schema import ProductSchema

__all__ = ["AreaUnlocks", "FeatureHolder", "FeatureOverview", "Unlocked", "feature_overview", "unlocked_by"]


@dataclass(frozen=True, slots=True)
class Unlocked:
    """A permission a feature unlocks: whole (the permission needs the feature, E4) or
    in part (some of its actions need it, e.g. deleting contacts: `partly`)."""

    permission: str
    label: str
    partly: bool = False
    actions: tuple[str, ...] = ()
    """`partly`: the labels of the actions that need the feature."""
    held_by: tuple[Role, ...] = ()
    """The roles that hold it with effect only while the feature is on (`FeatureHolder`)."""


@dataclass(frozen=True, slots=True)
class AreaUnlocks:
    area: str
    label: str
    permissions: tuple[Unlocked, ...]


@dataclass(frozen=True, slots=True)
class FeatureHolder:
    """A role and the permissions of `Unlocked` it holds with effect only while the
    feature is on: inert now if the feature is off (E5), lost if it is turned off."""

    role: Role
    permissions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FeatureOverview:
    key: str
    label: str
    on: bool
    areas: tuple[AreaUnlocks, ...]
    holders: tuple[FeatureHolder, ...]

    @property
    def unlocked(self) -> tuple[Unlocked, ...]:
        return tuple(u for a in self.areas for u in a.permissions)


def unlocked_by(schema: ProductSchema, feature: str) -> tuple[AreaUnlocks, ...]:
    """The permissions `feature` unlocks, grouped by area in the schema's order (E4)."""
    out: list[AreaUnlocks] = []
    for area_key, area in schema.areas.items():
        found: list[Unlocked] = []
        for key, perm in schema.permissions.items():
            if perm.area != area_key:
                continue
            if perm.feature == feature:
                found.append(Unlocked(key, perm.label))
            elif any(g.feature == feature for g in perm.grants):
                actions = tuple(schema.actions[g.action].label for g in perm.grants if g.feature == feature)
                found.append(Unlocked(key, perm.label, partly=True, actions=actions))
        if found:
            out.append(AreaUnlocks(area_key, area.label, tuple(found)))
    return tuple(out)


def feature_overview(
    schema: ProductSchema, roles: Iterable[Role], features: frozenset[str]
) -> tuple[FeatureOverview, ...]:
    """Every feature of the schema, in its order, as the workspace with `features` has it.

    A role holds a feature's permissions where they are effective with the feature on:
    those that are not without it (E5, and what needs them, E6), and those it unlocks in
    part that the role holds either way."""
    roles = tuple(roles)
    out: list[FeatureOverview] = []
    for key, feature in schema.features.items():
        areas = unlocked_by(schema, key)
        partly = {u.permission for a in areas for u in a.permissions if u.partly}
        holders: list[FeatureHolder] = []
        for role in roles:
            with_it = role_permissions(schema, role, features | {key})
            without = role_permissions(schema, role, features - {key})
            held = (with_it - without) | (with_it & partly)
            if held:
                holders.append(FeatureHolder(role, tuple(p for p in schema.permissions if p in held)))
        out.append(FeatureOverview(key, feature.label, key in features, _held(areas, holders), tuple(holders)))
    return tuple(out)


def _held(areas: tuple[AreaUnlocks, ...], holders: list[FeatureHolder]) -> tuple[AreaUnlocks, ...]:
    """`areas` with, on each permission, the roles that hold it through the feature."""

    def held(u: Unlocked) -> Unlocked:
        return replace(u, held_by=tuple(h.role for h in holders if u.permission in h.permissions))

    return tuple(replace(a, permissions=tuple(held(u) for u in a.permissions)) for a in areas)
