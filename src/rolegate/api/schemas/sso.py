"""Single sign-on (OpenID Connect) per organization: its provider, domains and
just-in-time workspaces. The client secret goes in, never out."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from rolegate.services.commands import Id, _In, text

__all__ = ["SsoConfigIn", "SsoDomainIn", "SsoDomainOut", "SsoJitIn", "SsoJitOut", "SsoSettingsOut"]


class SsoConfigIn(_In):
    """What is omitted stays as it was; a first configuration needs the issuer, the
    client id and the client secret."""

    issuer: Annotated[str, text(500, min_length=1)] | None = None
    client_id: Annotated[str, text(300, min_length=1)] | None = None
    client_secret: Annotated[str, text(2000, min_length=1)] | None = None
    sso_required: bool | None = None


class SsoDomainIn(_In):
    domain: Annotated[str, text(253, min_length=1)]


class SsoDomainOut(BaseModel):
    domain: str
    verified: bool
    txt_record: str
    """Publish this TXT record on the domain, then verify (CLI or admin UI)."""


class SsoJitIn(_In):
    enabled: bool = True
    role_id: Id | None = None
    """None: the workspace's default role."""


class SsoJitOut(BaseModel):
    workspace_id: str
    enabled: bool
    role_id: str | None


class SsoSettingsOut(BaseModel):
    organization_id: str
    issuer: str | None
    client_id: str | None
    has_client_secret: bool
    sso_required: bool
    redirect_path: str
    domains: list[SsoDomainOut]
    jit: list[SsoJitOut]
