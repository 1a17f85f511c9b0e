"""Webhooks: an organization's endpoints, their secrets, and the deliveries made."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from rolegate.services.commands import WebhookDescription, WebhookEndpointIn, WebhookEventTypes, WebhookUrl, _In

__all__ = [
    "WebhookCursorOut",
    "WebhookDeliveriesOut",
    "WebhookDeliveryOut",
    "WebhookEndpointCreatedOut",
    "WebhookEndpointIn",
    "WebhookEndpointOut",
    "WebhookEndpointPatch",
    "WebhookEndpointsOut",
    "WebhookRetryOut",
    "WebhookSecretOut",
]

class WebhookEndpointPatch(_In):
    """Only what is sent changes. `enabled: true` on a disabled endpoint resumes delivery
    where it stopped: nothing is missed."""

    url: WebhookUrl | None = None
    event_types: WebhookEventTypes | None = None
    description: WebhookDescription | None = None
    enabled: bool | None = None


class WebhookCursorOut(BaseModel):
    """Where delivery stands in one workspace: every change up to `last_seq` delivered."""

    workspace_id: str
    last_seq: int
    attempts: int = Field(description="Failed attempts in a row at the next change.")
    next_attempt_at: datetime | None
    last_error: str | None


class WebhookEndpointOut(BaseModel):
    id: str
    organization_id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None = Field(description="The first failure with no success since; disabled after the operator's window (3 days).")
    previous_secret_valid_until: datetime | None = Field(description="After a rotation, the old secret signs too until then.")
    created_at: datetime | None
    updated_at: datetime | None
    cursors: list[WebhookCursorOut]


class WebhookEndpointCreatedOut(BaseModel):
    endpoint: WebhookEndpointOut
    secret: str = Field(description="`whsec_<base64>`: verify deliveries with it (Standard Webhooks). Shown only now.")


class WebhookSecretOut(BaseModel):
    endpoint: WebhookEndpointOut
    secret: str = Field(description="The new secret, shown only now; the old one signs too until `previous_secret_valid_until`.")


class WebhookEndpointsOut(BaseModel):
    organization_id: str
    endpoints: list[WebhookEndpointOut]
    next_cursor: str | None = None


class WebhookDeliveryOut(BaseModel):
    """One attempt to deliver one change."""

    id: str
    endpoint_id: str
    workspace_id: str
    message_id: str = Field(description="The `webhook-id` header: the same for every attempt at one change.")
    seq: int
    revision: int
    event_type: str
    attempt: int
    succeeded: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    at: datetime


class WebhookDeliveriesOut(BaseModel):
    endpoint_id: str
    deliveries: list[WebhookDeliveryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for older attempts; null at the oldest.")


class WebhookRetryOut(BaseModel):
    delivery: WebhookDeliveryOut
    scheduled: bool = Field(description="The change is tried again at the next pass (now, when the sender runs).")
