"""The operator's way in (`rolegate org create`): a new organization and its first,
organization-wide API key, without which the HTTP API cannot be used."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization
from rolegate.store.uow import UnitOfWork

__all__ = ["OrganizationCreated", "create_organization_with_key"]


@dataclass(frozen=True, slots=True)
class OrganizationCreated:
    organization_id: str
    api_key: str
    """The first key's plaintext, shown only this once (stored hashed)."""


def create_organization_with_key(
    uow: UnitOfWork, *, actor: Actor, name: str, rights: Iterable[str]
) -> OrganizationCreated:
    org = create_organization(uow, actor=actor, name=name.strip())
    key = create_api_key(uow, organization_id=org, rights=rights, name=f"{name.strip()} first key")
    return OrganizationCreated(org, key)
