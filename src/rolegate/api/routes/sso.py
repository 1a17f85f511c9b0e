"""Single sign-on over the API, with an organization-wide admin key: the organization's
provider, domain claims and just-in-time workspaces. Proving a domain (DNS) is done
from the CLI or the admin UI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from rolegate.api.deps import PlatformAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas.sso import SsoConfigIn, SsoDomainIn, SsoDomainOut, SsoJitIn, SsoJitOut, SsoSettingsOut
from rolegate.domain.errors import NotFoundError
from rolegate.services import sso
from rolegate.services.commands import NO_NUL

router = APIRouter(tags=["sso"], route_class=ApiRoute)

IdPath = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL)]


def _own_organization(platform: PlatformAccess, organization_id: str) -> None:
    if platform.key.organization_id != organization_id:
        raise NotFoundError(f"no organization {organization_id!r}", decision=None, fix="Use an API key of that organization.")


def _out(view: sso.SsoSettingsView) -> SsoSettingsOut:
    return SsoSettingsOut(
        organization_id=view.organization_id,
        issuer=view.issuer,
        client_id=view.client_id,
        has_client_secret=view.has_secret,
        sso_required=view.sso_required,
        redirect_path=sso.CALLBACK_PATH,
        domains=[SsoDomainOut(domain=d.domain, verified=d.verified, txt_record=d.record) for d in view.domains],
        jit=[SsoJitOut(workspace_id=j.workspace_id, enabled=True, role_id=j.role_id) for j in view.jit],
    )


@router.get("/v1/organizations/{organization_id}/sso", response_model=SsoSettingsOut, summary="Single sign-on settings")
def get_sso(platform: PlatformAccess, organization_id: IdPath) -> SsoSettingsOut:
    """The organization's identity provider (never its client secret), domains and
    just-in-time workspaces."""
    _own_organization(platform, organization_id)
    return _out(sso.sso_settings(platform.rolegate.reader(), actor=platform.actor, organization_id=organization_id))


@router.put("/v1/organizations/{organization_id}/sso", response_model=SsoSettingsOut, summary="Configure single sign-on")
async def put_sso(platform: PlatformAccess, organization_id: IdPath, body: SsoConfigIn) -> SsoSettingsOut:
    """Set the identity provider (OpenID Connect issuer, client id, client secret, SSO
    required). The secret is stored encrypted and never returned. Audited in every
    workspace of the organization."""
    _own_organization(platform, organization_id)
    rg = platform.rolegate
    view = await run_in_threadpool(
        lambda: sso.configure_sso(
            rg.uow(),
            actor=platform.actor,
            organization_id=organization_id,
            issuer=body.issuer,
            client_id=body.client_id,
            client_secret=body.client_secret,
            sso_required=body.sso_required,
            secret_key=rg.settings.secret_key,
        )
    )
    return _out(view)


@router.post("/v1/organizations/{organization_id}/sso/domains", response_model=SsoDomainOut, status_code=201, summary="Claim an email domain")
def claim_domain(platform: PlatformAccess, organization_id: IdPath, body: SsoDomainIn) -> SsoDomainOut:
    """Claim a domain for single sign-on: publish the TXT record returned, then verify it
    (`rolegate sso verify-domain`, or the admin UI). Claiming again returns the same record."""
    _own_organization(platform, organization_id)
    d = sso.claim_domain(platform.rolegate.uow(), actor=platform.actor, organization_id=organization_id, domain=body.domain)
    return SsoDomainOut(domain=d.domain, verified=d.verified, txt_record=d.record)


@router.put(
    "/v1/organizations/{organization_id}/sso/workspaces/{workspace_id}", response_model=SsoJitOut, summary="Just-in-time membership in a workspace"
)
def put_jit(platform: PlatformAccess, organization_id: IdPath, workspace_id: IdPath, body: SsoJitIn) -> SsoJitOut:
    """Whether a first sign-in makes the person a member of this workspace of the
    organization, with `role_id` (None: the workspace's default role)."""
    _own_organization(platform, organization_id)
    done = sso.set_jit_workspace(
        platform.rolegate.uow(), actor=platform.actor, workspace_id=workspace_id, enabled=body.enabled, role_id=body.role_id, organization_id=organization_id
    )
    return SsoJitOut(workspace_id=workspace_id, enabled=done is not None, role_id=done.role_id if done else None)
