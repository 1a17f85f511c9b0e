"""Webhooks (issue 16): an organization's endpoints, what a delivery says and how it is
signed. Delivering is `services/webhook_delivery.py`.

An endpoint receives each committed change (an audit event) of every workspace of its
organization whose action its `event_types` select (`role.update`, `member.*`, or all
when empty or `*`). The body is `change_payload(event)`, the one mapping from an audit
event to a change (the change feed uses the same shape). Signing follows the Standard
Webhooks specification: `webhook-id` (stable across retries of one change, so a
receiver can drop a repeat), `webhook-timestamp`, `webhook-signature: v1,<base64
HMAC-SHA256 of "id.timestamp.body">`; secrets read `whsec_<base64>`. After a rotation,
the previous secret signs too (space-separated signatures) for `ROTATION_GRACE`, so a
receiver that still has the old secret verifies every delivery while it swaps.

Who manages an organization's endpoints: an organization-wide admin API key of that
organization (the platform; the door checks the key's organization) or a site
administrator of it (E1). Anyone else, and another organization's key, is told the
endpoint does not exist.

Audit: every change of an endpoint is an audit event in each workspace of its
organization, in the change's transaction (`webhook.create`, `webhook.update`,
`webhook.delete`, `webhook.rotate_secret`; target `webhook`, the endpoint's id), its
before and after the endpoint without its secrets, its URL shown as its origin only
(`endpoint_json`: the path or query may be the receiver's credential); a rotation says
only that the secret changed and until when the previous one signs. An update that
changes nothing records nothing. The sender disabling a failing endpoint is a
`webhook.update` by `platform:webhooks` (`services/webhook_delivery.py`). These events
are delivered like any change, to the endpoints that select them. Each of these units
locks the organization's workspaces first, before any webhook row: a sender that wrote
a delivery row (a key-share lock on its workspace) may be waiting for the endpoint's.

Server-side request forgery: an endpoint URL is http(s) only, and its host must be a
public address, checked at registration (literal addresses) and again before every
delivery (names resolved), unless the operator allows private addresses
(`ROLEGATE_WEBHOOKS_ALLOW_PRIVATE=1`: tests on loopback, receivers inside a private
network). Redirects are never followed.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from rolegate.domain.errors import InvalidInputError, NotFoundError
from rolegate.domain.workspace import Actor, AuditEvent
from rolegate.services.context import audit_organization, lock_organization, new_id
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_webhooks import CursorRow, DeliveryRow, EndpointRow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "ROTATION_GRACE",
    "SECRET_PREFIX",
    "TARGET_TYPE",
    "CreatedEndpoint",
    "CursorRow",
    "DeliveryRow",
    "EndpointChange",
    "EndpointRow",
    "EndpointView",
    "WebhooksPage",
    "change_payload",
    "check_url",
    "create_endpoint",
    "delete_endpoint",
    "endpoint_deliveries",
    "endpoint_json",
    "get_endpoint",
    "list_endpoints",
    "matches",
    "message_id",
    "new_secret",
    "refuse_private_address",
    "retry_delivery",
    "rotate_secret",
    "shown_url",
    "sign",
    "update_endpoint",
    "url_fingerprint",
    "webhooks_page",
]

SECRET_PREFIX = "whsec_"
ROTATION_GRACE = timedelta(hours=24)
TARGET_TYPE = "webhook"
"""The audit events' target type for an endpoint's changes."""
MAX_EVENT_TYPES = 50
_EVENT_TYPE = re.compile(r"\*|[a-z][a-z_]*(\.[a-z_]+|\.\*)?")


# -- what a delivery says -----------------------------------------------------------------


def change_payload(event: AuditEvent) -> dict[str, Any]:
    """A committed change as webhooks (and the change feed) send it. The one mapping
    from an audit event: its before and after stay in the audit log (they may hold
    personal data; a receiver that needs them reads the event through the API)."""
    at = event.at.astimezone(UTC).isoformat()
    return {
        "type": event.action,
        "timestamp": at,
        "data": {
            "workspace_id": event.workspace_id,
            "revision": event.revision,
            "seq": event.seq,
            "id": event.id,
            "action": event.action,
            "target": {"type": event.target_type, "id": event.target_id},
            "actor": event.actor,
            "at": at,
        },
    }


def message_id(event: AuditEvent) -> str:
    """`webhook-id`: the same for every attempt at one change, so a receiver can drop a
    repeat (delivery is at least once)."""
    return f"msg_{event.workspace_id}_{event.seq}"


def matches(event_types: Sequence[str], action: str) -> bool:
    """Whether an endpoint selecting `event_types` receives `action` (none: all)."""
    if not event_types:
        return True
    for pattern in event_types:
        if pattern == "*" or pattern == action:
            return True
        if pattern.endswith(".*") and action.startswith(pattern[:-1]):
            return True
    return False


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(endpoint: EndpointRow, msg_id: str, timestamp: datetime, body: bytes, *, now: datetime) -> str:
    """The `webhook-signature` header: the current secret's signature, and the previous
    secret's while its grace period lasts."""
    signatures = [Webhook(endpoint.secret).sign(msg_id, timestamp, body)]
    if endpoint.previous_secret and endpoint.previous_secret_until is not None and now < endpoint.previous_secret_until:
        signatures.append(Webhook(endpoint.previous_secret).sign(msg_id, timestamp, body))
    return " ".join(signatures)


# -- where a delivery may go ----------------------------------------------------------------


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global


def check_url(url: str, *, allow_private: bool) -> str:
    """An endpoint URL as stored: http(s), with a host; a literal private address
    refused unless allowed (names are checked before each delivery: they may move)."""
    value = url.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # a port out of range raises here
    except ValueError as exc:
        raise InvalidInputError(f"{value!r} is not a URL: {exc}", fix="Send an absolute https:// URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(
            f"a webhook endpoint is an http:// or https:// URL with a host, not {value[:200]!r}", fix="Send an absolute https:// URL."
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidInputError("a webhook URL carries no user or password", fix="Verify deliveries by their signature instead.")
    if not allow_private:
        try:
            private = _private(parts.hostname)
        except ValueError:
            private = parts.hostname == "localhost" or parts.hostname.endswith(".localhost")
        if private:
            raise InvalidInputError(
                f"{parts.hostname} is not a public address: webhooks go to public addresses only",
                fix="Use the receiver's public name, or have the operator allow private addresses (ROLEGATE_WEBHOOKS_ALLOW_PRIVATE=1).",
            )
    return value


def refuse_private_address(url: str) -> None:
    """Before a delivery: every address the host resolves to must be public (a name may
    have been pointed at an internal service since it was registered). Raises OSError,
    which the sender records as the attempt's failure."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        if _private(str(info[4][0])):
            raise OSError(f"{host} resolves to {info[4][0]}, not a public address (ROLEGATE_WEBHOOKS_ALLOW_PRIVATE is off)")


# -- managing endpoints -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndpointView:
    """An endpoint as shown (never its secrets), with where delivery stands."""

    endpoint: EndpointRow
    cursors: tuple[CursorRow, ...] = ()

    @property
    def rotating_until(self) -> datetime | None:
        until = self.endpoint.previous_secret_until
        return until if self.endpoint.previous_secret and until is not None and until > utcnow() else None


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    """A new endpoint, or a rotated one: its secret is shown this once."""

    view: EndpointView
    secret: str


@dataclass(frozen=True, slots=True)
class EndpointChange:
    """What an update sets; None leaves it as it is."""

    url: str | None = None
    description: str | None = None
    event_types: Sequence[str] | None = None
    enabled: bool | None = None


def shown_url(url: str) -> str:
    """An endpoint's URL as its audit events show it: the origin, and `/…` for a path
    or query. Those are often the receiver's credential (an incoming-webhook token),
    and every reader of a workspace's audit log sees these events, where the webhooks
    API shows the URL to the organization's site administrators only."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin if parts.path in ("", "/") and not parts.query and not parts.fragment else f"{origin}/…"


def url_fingerprint(url: str) -> str:
    """Which URL it was, without showing it: the first 12 hex digits of its SHA-256
    (a path or query changed is an audit event, though both show as `/…`)."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def endpoint_json(endpoint: EndpointRow) -> dict[str, Any]:
    """An endpoint as its audit events show it: never a secret, nor its URL's path or
    query (`shown_url`)."""
    return {
        "id": endpoint.id,
        "url": shown_url(endpoint.url),
        "url_fingerprint": url_fingerprint(endpoint.url),
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "enabled": endpoint.enabled,
    }


def _authorize(uow: UnitOfWork, actor: Actor, organization_id: str) -> None:
    """The platform (an organization-wide admin key the door matched to the
    organization) or a site administrator of it; for anyone else the organization's
    endpoints do not exist."""
    if actor.is_platform:
        if uow.sites.organization_name(organization_id) is not None:
            return
    elif actor.site_user_id is not None and uow.sites.is_admin(organization_id, actor.site_user_id):
        return
    raise NotFoundError(f"no organization {organization_id!r}", decision=None, fix="Use an API key or a site administrator of that organization.")


def _endpoint(uow: UnitOfWork, organization_id: str, endpoint_id: str) -> EndpointRow:
    found = uow.webhooks.endpoint(organization_id, endpoint_id)
    if found is None:
        raise NotFoundError(f"no webhook endpoint {endpoint_id!r}", decision=None, fix="List the organization's endpoints for their ids.")
    return found


def _wake_sender(uow: UnitOfWork) -> None:
    """After the commit, the webhook sender of this process looks at once: while no
    endpoint was enabled it looked only every poll, not at each commit."""
    if uow.on_webhooks is not None:
        uow.after_commit(uow.on_webhooks)


def _event_types(values: Sequence[str]) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(v.strip() for v in values))
    bad = [v for v in cleaned if not _EVENT_TYPE.fullmatch(v)]
    if bad or len(cleaned) > MAX_EVENT_TYPES:
        raise InvalidInputError(
            f"event types are actions such as 'role.update', families such as 'member.*', or '*' (at most {MAX_EVENT_TYPES}); not {', '.join(map(repr, bad[:5]))}",
            fix="Send e.g. [\"role.update\", \"member.*\"], or [] for every change.",
        )
    return () if "*" in cleaned else cleaned


def create_endpoint(
    uow: UnitOfWork,
    *,
    actor: Actor,
    organization_id: str,
    url: str,
    event_types: Sequence[str] = (),
    description: str = "",
    enabled: bool = True,
    allow_private: bool = False,
) -> CreatedEndpoint:
    """Register an endpoint. It receives the changes committed from now on: its cursor
    in each existing workspace starts at the workspace's newest event (a workspace
    created later starts at its first)."""
    at = utcnow()
    row = EndpointRow(
        new_id(), organization_id, check_url(url, allow_private=allow_private), description.strip(), _event_types(event_types),
        enabled, new_secret(), None, None, None, None, at, at,
    )
    with uow:
        _authorize(uow, actor, organization_id)
        workspaces = lock_organization(uow, organization_id)
        uow.webhooks.add_endpoint(row, at)
        audit_organization(uow, organization_id, actor, "webhook.create", TARGET_TYPE, row.id, None, endpoint_json(row), locked=workspaces)
        last = uow.webhooks.last_seqs(workspaces)  # its own event included: it gets the changes after it
        for workspace_id in workspaces:
            uow.webhooks.add_cursor(workspace_id, row.id, last.get(workspace_id, 0), at)
        if enabled:
            _wake_sender(uow)
        uow.commit()
    return CreatedEndpoint(EndpointView(row), row.secret)


def list_endpoints(uow: UnitOfWork, *, actor: Actor, organization_id: str) -> list[EndpointView]:
    with uow:
        _authorize(uow, actor, organization_id)
        endpoints = uow.webhooks.endpoints(organization_id)
        cursors = uow.webhooks.cursors([e.id for e in endpoints])
    return [EndpointView(e, tuple(c for (_, eid), c in sorted(cursors.items()) if eid == e.id)) for e in endpoints]


def get_endpoint(uow: UnitOfWork, *, actor: Actor, organization_id: str, endpoint_id: str) -> EndpointView:
    with uow:
        _authorize(uow, actor, organization_id)
        found = _endpoint(uow, organization_id, endpoint_id)
        cursors = uow.webhooks.cursors([endpoint_id])
    return EndpointView(found, tuple(c for _, c in sorted(cursors.items())))


def update_endpoint(
    uow: UnitOfWork,
    *,
    actor: Actor,
    organization_id: str,
    endpoint_id: str,
    change: EndpointChange,
    allow_private: bool = False,
) -> EndpointView:
    """Change what was sent. Enabling a disabled endpoint resumes delivery where each
    workspace's cursor stopped (nothing missed), at once: waiting retries are due now."""
    at = utcnow()
    values: dict[str, Any] = {}
    if change.url is not None:
        values["url"] = check_url(change.url, allow_private=allow_private)
    if change.description is not None:
        values["description"] = change.description.strip()
    if change.event_types is not None:
        values["event_types"] = _event_types(change.event_types)
    with uow:
        _authorize(uow, actor, organization_id)
        workspaces = lock_organization(uow, organization_id)
        found = _endpoint(uow, organization_id, endpoint_id)
        if change.enabled is not None:
            values["enabled"] = change.enabled
            if change.enabled and not found.enabled:
                values["disabled_reason"] = None
                values["failing_since"] = None
                uow.webhooks.retry_now(endpoint_id, at)
                _wake_sender(uow)
        if values:
            uow.webhooks.update_endpoint(endpoint_id, at, **values)
        updated = _endpoint(uow, organization_id, endpoint_id)
        before, after = endpoint_json(found), endpoint_json(updated)
        if before != after:
            audit_organization(uow, organization_id, actor, "webhook.update", TARGET_TYPE, endpoint_id, before, after, locked=workspaces)
        cursors = uow.webhooks.cursors([endpoint_id])
        uow.commit()
    return EndpointView(updated, tuple(c for _, c in sorted(cursors.items())))


def delete_endpoint(uow: UnitOfWork, *, actor: Actor, organization_id: str, endpoint_id: str) -> None:
    with uow:
        _authorize(uow, actor, organization_id)
        workspaces = lock_organization(uow, organization_id)
        found = _endpoint(uow, organization_id, endpoint_id)
        uow.webhooks.delete_endpoint(endpoint_id)
        audit_organization(uow, organization_id, actor, "webhook.delete", TARGET_TYPE, endpoint_id, endpoint_json(found), None, locked=workspaces)
        uow.commit()


def rotate_secret(
    uow: UnitOfWork, *, actor: Actor, organization_id: str, endpoint_id: str, grace: timedelta = ROTATION_GRACE
) -> CreatedEndpoint:
    """A new secret signs from now on; the current one keeps signing beside it for
    `grace` (0: stops at once), so no delivery goes out that the receiver, holding
    either secret, cannot verify."""
    at = utcnow()
    secret = new_secret()
    with uow:
        _authorize(uow, actor, organization_id)
        workspaces = lock_organization(uow, organization_id)
        found = _endpoint(uow, organization_id, endpoint_id)
        uow.webhooks.update_endpoint(
            endpoint_id, at, secret=secret, previous_secret=found.secret if grace > timedelta(0) else None, previous_secret_until=at + grace
        )
        updated = _endpoint(uow, organization_id, endpoint_id)
        # Only that the secret changed, and until when the previous one signs: never a secret.
        until = EndpointView(updated).rotating_until
        after = {"id": endpoint_id, "secret_changed": True, "previous_secret_valid_until": until.isoformat() if until is not None else None}
        audit_organization(uow, organization_id, actor, "webhook.rotate_secret", TARGET_TYPE, endpoint_id, {"id": endpoint_id}, after, locked=workspaces)
        uow.commit()
    return CreatedEndpoint(EndpointView(updated), secret)


def endpoint_deliveries(
    uow: UnitOfWork,
    *,
    actor: Actor,
    organization_id: str,
    endpoint_id: str,
    limit: int = 50,
    before: tuple[datetime, str] | None = None,
) -> list[DeliveryRow]:
    """The attempts made for the endpoint, newest first."""
    with uow:
        _authorize(uow, actor, organization_id)
        _endpoint(uow, organization_id, endpoint_id)
        return uow.webhooks.deliveries(endpoint_id, limit=limit, before=before)


def retry_delivery(uow: UnitOfWork, *, actor: Actor, organization_id: str, endpoint_id: str, delivery_id: str) -> DeliveryRow:
    """A failed attempt's change is tried again at once (its workspace's cursor, held
    for a backoff, becomes due now). A change already delivered is not sent again."""
    at = utcnow()
    with uow:
        _authorize(uow, actor, organization_id)
        _endpoint(uow, organization_id, endpoint_id)
        found = uow.webhooks.delivery(endpoint_id, delivery_id)
        if found is None:
            raise NotFoundError(f"no delivery {delivery_id!r}", decision=None, fix="List the endpoint's deliveries for their ids.")
        uow.webhooks.retry_now(endpoint_id, at, workspace_id=found.workspace_id)
        uow.commit()
    return found


@dataclass(frozen=True, slots=True)
class WebhooksPage:
    """The admin UI's Webhooks page: the organization's endpoints and recent attempts."""

    organization_id: str
    endpoints: tuple[EndpointView, ...]
    deliveries: dict[str, tuple[DeliveryRow, ...]]


def webhooks_page(uow: UnitOfWork, *, actor: Actor, organization_id: str, recent: int = 10) -> WebhooksPage:
    with uow:
        _authorize(uow, actor, organization_id)
        endpoints = uow.webhooks.endpoints(organization_id)
        cursors = uow.webhooks.cursors([e.id for e in endpoints])
        recent_by = {e.id: tuple(uow.webhooks.deliveries(e.id, limit=recent)) for e in endpoints}
    views = tuple(EndpointView(e, tuple(c for (_, eid), c in sorted(cursors.items()) if eid == e.id)) for e in endpoints)
    return WebhooksPage(organization_id, views, recent_by)
