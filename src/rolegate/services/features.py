"""The workspace's features (E4, E5) as the Features page reads them: each one, on or
off, what it unlocks and whose access it changes; and who may turn them on or off
(`domain.rules.feature_rules`), checked before any write of the features."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.errors import NotFoundError, PermissionDeniedError
from rolegate.domain.features import FeatureOverview, feature_overview
from rolegate.domain.rules.feature_rules import feature_change_violations, may_change_features
from rolegate.domain.schema import AdminRight, ProductSchema
from rolegate.domain.workspace import Actor
from rolegate.services.context import WorkspaceState, authorize, load_state
from rolegate.store.uow import UnitOfWork

__all__ = ["FeaturesPage", "authorize_feature_change", "features_page", "require_features"]


@dataclass(frozen=True, slots=True)
class FeaturesPage:
    schema: ProductSchema
    workspace_name: str
    features: tuple[FeatureOverview, ...]
    can_change: bool
    """Whether the actor may turn them on or off (the page offers the switches)."""
    revision: int


def require_features(schema: ProductSchema) -> None:
    """A product without features has no Features page: not found, like any page it lacks."""
    if not schema.features:
        raise NotFoundError(
            f"{schema.name} has no features to turn on or off.",
            decision=None,
            fix="Use the navigation to reach this workspace's pages.",
        )


def authorize_feature_change(state: WorkspaceState, actor: Actor) -> None:
    """The actor may change this workspace's features (E4), else 403 naming the rule.
    A site administrator of another organization is refused by `authorize` first (E1)."""
    authorize(state, actor, AdminRight.VIEW_ROLES)
    refused = feature_change_violations(state.schema, actor, state.site_admins)
    if refused:
        first = refused[0]
        raise PermissionDeniedError(first.message, decision=None, fix=first.fix, rule_id=first.rule_id)


def features_page(uow: UnitOfWork, *, actor: Actor, workspace_id: str) -> FeaturesPage:
    """Every feature of the workspace's product, for whoever may view its roles (the
    features decide what its roles' permissions do, E5)."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        require_features(state.schema)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        ws = state.workspace
        overview = feature_overview(state.schema, state.roles.values(), ws.features)
        can_change = may_change_features(actor, state.site_admins)
    return FeaturesPage(state.schema, ws.name, overview, can_change, ws.revision)
