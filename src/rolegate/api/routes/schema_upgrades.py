"""Schema upgrades (issue 19): plan a new version of a product schema over the caller's
organization's workspaces; read how an upgrade run went. Applying is the operator's
`rolegate schema apply` (it changes every tenant of the product)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from rolegate.api.deps import PlatformAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas.schema_upgrades import UpgradePlanIn, UpgradePlanOut, UpgradeStatusesOut, UpgradeStatusOut
from rolegate.services.commands import NO_NUL
from rolegate.services.schema_upgrade import plan_upgrade, upgrade_status

Product = Annotated[str | None, Query(max_length=64, pattern=NO_NUL, description="Only the runs of this product (its key).")]
UpgradeId = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL, description="The run's id.")]

router = APIRouter(prefix="/v1/schema-upgrades", tags=["schema upgrades"], route_class=ApiRoute)


@router.post("/plan", response_model=UpgradePlanOut, summary="What a new version of a product schema would change")
def plan(body: UpgradePlanIn, platform: PlatformAccess) -> UpgradePlanOut:
    """Needs an organization-wide admin key. For every workspace of the organization on
    an older version of the product: the roles migrated (renamed, split, replaced
    permissions), who gains or loses what, seats that would overflow, roles a rule
    would refuse, and K8 (nothing new reaches a Standard or Limited custom role).
    Writes nothing."""
    result = plan_upgrade(
        platform.rolegate.reader(), actor=platform.actor, source=body.schema_text, organization_id=platform.key.organization_id
    )
    return UpgradePlanOut.model_validate(result.as_dict())


@router.get("", response_model=UpgradeStatusesOut, summary="Schema upgrade runs, newest first")
def runs(platform: PlatformAccess, product: Product = None) -> UpgradeStatusesOut:
    """Each run counted over the caller's organization's workspaces."""
    found = upgrade_status(
        platform.rolegate.reader(), actor=platform.actor, product=product, organization_id=platform.key.organization_id
    )
    return UpgradeStatusesOut(items=[UpgradeStatusOut.model_validate(s.as_dict()) for s in found])


@router.get("/{upgrade_id}", response_model=UpgradeStatusOut, summary="One schema upgrade run")
def status(upgrade_id: UpgradeId, platform: PlatformAccess) -> UpgradeStatusOut:
    """Migrated and blocked workspaces of the caller's organization, with what blocks each."""
    found = upgrade_status(
        platform.rolegate.reader(), actor=platform.actor, upgrade_id=upgrade_id, organization_id=platform.key.organization_id
    )
    return UpgradeStatusOut.model_validate(found[0].as_dict())
