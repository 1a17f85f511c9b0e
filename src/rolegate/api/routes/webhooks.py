"""Webhooks (issue 16): an organization's endpoints, managed with an organization-wide
admin key of that organization (another organization's key gets 404, as for an
endpoint that does not exist); the deliveries made, and a failed one retried."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from rolegate.api.deps import PlatformAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas.webhooks import (
    WebhookCursorOut,
    WebhookDeliveriesOut,
    WebhookDeliveryOut,
    WebhookEndpointCreatedOut,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookEndpointPatch,
    WebhookEndpointsOut,
    WebhookRetryOut,
    WebhookSecretOut,
)
from rolegate.domain.errors import InvalidInputError, NotFoundError
from rolegate.services import webhooks
from rolegate.services.commands import NO_NUL
from rolegate.services.webhooks import DeliveryRow, EndpointChange, EndpointView

router = APIRouter(tags=["webhooks"], route_class=ApiRoute)

IdPath = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL)]
PREFIX = "/v1/organizations/{organization_id}/webhooks"


def _own_organization(platform: PlatformAccess, organization_id: str) -> None:
    if platform.key.organization_id != organization_id:
        raise NotFoundError(f"no organization {organization_id!r}", decision=None, fix="Use an API key of that organization.")


def endpoint_out(view: EndpointView) -> WebhookEndpointOut:
    e = view.endpoint
    return WebhookEndpointOut(
        id=e.id,
        organization_id=e.organization_id,
        url=e.url,
        description=e.description,
        event_types=list(e.event_types),
        enabled=e.enabled,
        disabled_reason=e.disabled_reason,
        failing_since=e.failing_since,
        previous_secret_valid_until=view.rotating_until,
        created_at=e.created_at,
        updated_at=e.updated_at,
        cursors=[WebhookCursorOut(workspace_id=c.workspace_id, last_seq=c.last_seq, attempts=c.attempts, next_attempt_at=c.next_attempt_at, last_error=c.last_error) for c in view.cursors],
    )


def delivery_out(d: DeliveryRow) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(
        id=d.id, endpoint_id=d.endpoint_id, workspace_id=d.workspace_id, message_id=d.message_id, seq=d.seq, revision=d.revision,
        event_type=d.event_type, attempt=d.attempt, succeeded=d.succeeded, status_code=d.status_code, error=d.error,
        duration_ms=d.duration_ms, at=d.at,
    )


@router.post(PREFIX, response_model=WebhookEndpointCreatedOut, status_code=201, summary="Register a webhook endpoint")
def create(platform: PlatformAccess, organization_id: IdPath, body: WebhookEndpointIn) -> WebhookEndpointCreatedOut:
    """The endpoint receives every change committed from now on in each workspace of the
    organization that `event_types` selects, signed per Standard Webhooks with the
    `secret` returned (shown only now)."""
    _own_organization(platform, organization_id)
    rg = platform.rolegate
    made = webhooks.create_endpoint(
        rg.uow(), actor=platform.actor, organization_id=organization_id, url=body.url, event_types=body.event_types,
        description=body.description, enabled=body.enabled, allow_private=rg.settings.webhooks_allow_private,
    )
    return WebhookEndpointCreatedOut(endpoint=endpoint_out(made.view), secret=made.secret)


@router.get(PREFIX, response_model=WebhookEndpointsOut, summary="List webhook endpoints")
def list_(platform: PlatformAccess, organization_id: IdPath) -> WebhookEndpointsOut:
    _own_organization(platform, organization_id)
    found = webhooks.list_endpoints(platform.rolegate.reader(), actor=platform.actor, organization_id=organization_id)
    return WebhookEndpointsOut(organization_id=organization_id, endpoints=[endpoint_out(v) for v in found])


@router.get(PREFIX + "/{endpoint_id}", response_model=WebhookEndpointOut, summary="Read a webhook endpoint")
def read(platform: PlatformAccess, organization_id: IdPath, endpoint_id: IdPath) -> WebhookEndpointOut:
    _own_organization(platform, organization_id)
    return endpoint_out(webhooks.get_endpoint(platform.rolegate.reader(), actor=platform.actor, organization_id=organization_id, endpoint_id=endpoint_id))


@router.patch(PREFIX + "/{endpoint_id}", response_model=WebhookEndpointOut, summary="Change a webhook endpoint")
def update(platform: PlatformAccess, organization_id: IdPath, endpoint_id: IdPath, body: WebhookEndpointPatch) -> WebhookEndpointOut:
    """`enabled: true` on a disabled endpoint resumes delivery where each workspace stopped."""
    _own_organization(platform, organization_id)
    rg = platform.rolegate
    change = EndpointChange(url=body.url, description=body.description, event_types=body.event_types, enabled=body.enabled)
    done = webhooks.update_endpoint(
        rg.uow(), actor=platform.actor, organization_id=organization_id, endpoint_id=endpoint_id, change=change,
        allow_private=rg.settings.webhooks_allow_private,
    )
    return endpoint_out(done)


@router.delete(PREFIX + "/{endpoint_id}", status_code=204, summary="Delete a webhook endpoint")
def delete(platform: PlatformAccess, organization_id: IdPath, endpoint_id: IdPath) -> None:
    """Its cursors and delivery history go with it."""
    _own_organization(platform, organization_id)
    webhooks.delete_endpoint(platform.rolegate.uow(), actor=platform.actor, organization_id=organization_id, endpoint_id=endpoint_id)


@router.post(PREFIX + "/{endpoint_id}/rotate-secret", response_model=WebhookSecretOut, summary="Rotate a webhook endpoint's secret")
def rotate_secret(
    platform: PlatformAccess,
    organization_id: IdPath,
    endpoint_id: IdPath,
    grace_hours: Annotated[float, Query(ge=0, le=168, description="How long the old secret keeps signing beside the new one.")] = 24,
) -> WebhookSecretOut:
    """A new secret signs from now on; the old one signs too (a second signature in
    `webhook-signature`) for `grace_hours`, so a receiver verifies every delivery while it
    swaps secrets."""
    _own_organization(platform, organization_id)
    done = webhooks.rotate_secret(
        platform.rolegate.uow(), actor=platform.actor, organization_id=organization_id, endpoint_id=endpoint_id, grace=timedelta(hours=grace_hours)
    )
    return WebhookSecretOut(endpoint=endpoint_out(done.view), secret=done.secret)


def _cursor(value: str | None) -> tuple[datetime, str] | None:
    if value is None:
        return None
    at, sep, delivery_id = value.partition("|")
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        parsed = None
    if not sep or parsed is None or not delivery_id:
        raise InvalidInputError(f"{value!r} is not a cursor of this list", fix="Pass the `next_cursor` of the previous page as it came.")
    return parsed, delivery_id


@router.get(PREFIX + "/{endpoint_id}/deliveries", response_model=WebhookDeliveriesOut, summary="List a webhook endpoint's deliveries")
def deliveries(
    platform: PlatformAccess,
    organization_id: IdPath,
    endpoint_id: IdPath,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
) -> WebhookDeliveriesOut:
    """Every attempt, newest first: the change (workspace, seq, revision, type), the
    receiver's status or the error, and how long it took."""
    _own_organization(platform, organization_id)
    found = webhooks.endpoint_deliveries(
        platform.rolegate.reader(), actor=platform.actor, organization_id=organization_id, endpoint_id=endpoint_id,
        limit=limit, before=_cursor(cursor),
    )
    next_cursor = f"{found[-1].at.isoformat()}|{found[-1].id}" if len(found) == limit else None
    return WebhookDeliveriesOut(endpoint_id=endpoint_id, deliveries=[delivery_out(d) for d in found], next_cursor=next_cursor)


@router.post(
    PREFIX + "/{endpoint_id}/deliveries/{delivery_id}/retry", response_model=WebhookRetryOut, status_code=202, summary="Retry a delivery now"
)
def retry(platform: PlatformAccess, organization_id: IdPath, endpoint_id: IdPath, delivery_id: IdPath) -> WebhookRetryOut:
    """The change of a failed attempt is tried again at once, not after its backoff (a
    change already delivered is not sent again: delivery is in order, per workspace)."""
    _own_organization(platform, organization_id)
    rg = platform.rolegate
    found = webhooks.retry_delivery(rg.uow(), actor=platform.actor, organization_id=organization_id, endpoint_id=endpoint_id, delivery_id=delivery_id)
    rg.wake_webhooks()
    return WebhookRetryOut(delivery=delivery_out(found), scheduled=not found.succeeded)
