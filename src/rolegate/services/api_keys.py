"""API keys: who calls the HTTP API, on which workspaces, with which rights.

A key reads `rg_<prefix>_<secret>`. The prefix (public, unique) finds the row; only
the SHA-256 of the secret is stored. The secret is 256 random bits, so a fast hash is
enough (a slow password hash protects low-entropy secrets, which these are not), and
it is compared in constant time. The plaintext is returned once, at creation.

A key belongs to an organization and reaches either all its workspaces or one of
them. Its rights: `decide` (check, batch, fields, lookup), `admin` (roles,
members, records, audit; the acting member is then authorized by the workspace's
own preset, so a key never grants more than that member may do) and `scim` (the
SCIM 2.0 provisioning endpoints, `/scim/v2/workspaces/{id}/...`, nothing else).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from rolegate.domain.errors import NotFoundError, RolegateError
from rolegate.services.context import new_id
from rolegate.store.availability import reachable
from rolegate.store.repositories import ApiKeyRow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "ApiKeyRow",
    "KeyRight",
    "authenticate",
    "create_api_key",
    "list_api_keys",
    "organization_of",
    "parse_key",
    "reaches",
    "revoke_api_key",
]

KEY_PREFIX = "rg"
_KEY = re.compile(r"rg_([0-9a-f]{12})_([A-Za-z0-9_-]{20,200})")
_DUMMY_DIGEST = hashlib.sha256(b"no such key").hexdigest()


class KeyRight(StrEnum):
    DECIDE = "decide"
    ADMIN = "admin"
    SCIM = "scim"
    """Provisioning over SCIM 2.0 (issue 17): the bearer token a directory (Okta, Entra
    ID) holds; it acts as the directory, attributed `scim:<prefix>` in the audit log."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(token: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    match = _KEY.fullmatch(token)
    return (match.group(1), match.group(2)) if match else None


def create_api_key(
    uow: UnitOfWork,
    *,
    organization_id: str,
    workspace_id: str | None = None,
    rights: Iterable[str],
    name: str,
) -> str:
    """Store a new key and return its plaintext, which is shown only this once."""
    wanted = frozenset(rights)
    unknown = sorted(wanted - {r.value for r in KeyRight})
    if unknown or not wanted:
        raise RolegateError(
            f"unknown API key rights: {', '.join(unknown)}" if unknown else "an API key needs at least one right",
            fix=f"Use {', '.join(repr(r.value) for r in KeyRight)} (one or more).",
        )
    with uow:
        if not uow.workspaces.organization_exists(organization_id):
            raise NotFoundError(f"no organization {organization_id!r}", decision=None, fix="Check the organization id.")
        if workspace_id is not None:
            ws = uow.workspaces.get(workspace_id)
            if ws is None or ws.organization_id != organization_id:
                raise NotFoundError(
                    f"no workspace {workspace_id!r} in this organization", decision=None, fix="Check the workspace id."
                )
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        uow.api_keys.add(
            ApiKeyRow(
                id=new_id(),
                prefix=prefix,
                secret_hash=_digest(secret),
                name=name.strip() or f"key {prefix}",
                organization_id=organization_id,
                workspace_id=workspace_id,
                rights=wanted,
                revoked=False,
            )
        )
        uow.commit()
    return f"{KEY_PREFIX}_{prefix}_{secret}"


def list_api_keys(uow: UnitOfWork, *, organization_id: str) -> list[ApiKeyRow]:
    """The organization's keys, oldest first, revoked ones included (their secrets
    were never stored, so nothing here can call the API)."""
    with uow:
        if not uow.workspaces.organization_exists(organization_id):
            raise NotFoundError(f"no organization {organization_id!r}", decision=None, fix="Check the organization id.")
        return uow.api_keys.of_organization(organization_id)


def revoke_api_key(uow: UnitOfWork, *, organization_id: str, prefix: str) -> ApiKeyRow:
    """Revoke the key with this prefix (the part after `rg_`): every later request with
    it is a 401. Revoking twice is harmless; a key of another organization is not found."""
    with uow:
        row = uow.api_keys.by_prefix(prefix)
        if row is None or row.organization_id != organization_id:
            raise NotFoundError(
                f"no API key with prefix {prefix!r} in organization {organization_id!r}",
                decision=None,
                fix="List the organization's keys (`rolegate keys list`) and pass the prefix shown there.",
            )
        uow.api_keys.revoke(row.id, datetime.now(UTC))
        uow.commit()
    return row


def authenticate(uow: UnitOfWork, token: str) -> ApiKeyRow | None:
    """The key row for a presented token, or None (malformed, unknown, wrong secret,
    revoked): the caller answers 401 alike, so nothing tells which. A database that
    cannot be reached raises StoreUnavailableError."""
    parsed = parse_key(token)
    if parsed is None:
        return None
    prefix, secret = parsed
    with reachable(), uow:
        row = uow.api_keys.by_prefix(prefix)
    digest = _digest(secret)
    if row is None:
        hmac.compare_digest(_DUMMY_DIGEST, digest)  # same work whether the prefix exists or not
        return None
    if not hmac.compare_digest(row.secret_hash, digest) or row.revoked:
        return None
    return row


def reaches(key: ApiKeyRow, *, organization_id: str, workspace_id: str) -> bool:
    """Does `key` reach this workspace (of this organization)?"""
    if key.organization_id != organization_id:
        return False
    return key.workspace_id is None or key.workspace_id == workspace_id


def organization_of(uow: UnitOfWork, workspace_id: str) -> str | None:
    """The organization of a workspace (None: no such workspace), to check a key
    reaches it. StoreUnavailableError when the database cannot be reached."""
    with reachable(), uow:
        ws = uow.workspaces.get(workspace_id)
    return ws.organization_id if ws is not None else None
