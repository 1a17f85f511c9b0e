"""Single sign-on for the admin UI with OpenID Connect, per organization.

A site administrator (or the platform) configures the organization's identity
provider, claims email domains and proves them (a DNS TXT record), and names the
workspaces where a first sign-in makes a member (just in time). A person signs in by
email: its domain finds the organization that proved it, the browser goes to that
organization's provider (Authorization Code with PKCE, state and nonce), and the
callback validates everything before a session starts (`services/sso_oidc.py`).

The person's login (`users` row) is theirs: a sign-in links to it only when the
provider vouches for the address (`email_verified`) and its domain is one this
organization proved (`domain.sso.sso_login_refusal`). "SSO required" turns the
password off for the people of the organization's domains, except its site
administrators while ROLEGATE_SSO_BREAK_GLASS=1 (`domain.sso.password_login_allowed`).

Audit: configuration changes are audit events in every workspace of the organization
(the actor is the administrator); a just-in-time member is a `member.add` event whose
actor is the identity provider (`platform:sso:<issuer host>`); every sign-in is a
security event (`login.sso`, its detail `sso:<issuer host>`) like password logins."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rolegate.domain.errors import ConflictError, InvalidInputError, NotFoundError, RolegateError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.rules.team_rules import default_member_role
from rolegate.domain.sso import (
    JitWorkspace,
    LoginRefusal,
    SsoPolicy,
    email_domain,
    jit_targets,
    normalize_domain,
    password_login_allowed,
    sso_actor_name,
    sso_login_refusal,
    txt_proves,
    valid_issuer,
    verification_record,
)
from rolegate.domain.workspace import Actor
from rolegate.services.context import audit_organization, load_state, record_change
from rolegate.services.login_protection import LoginGuard, log_in, security_event
from rolegate.services.logins import User, user_in
from rolegate.services.members import add_member_locked, ensure_user
from rolegate.services.sso_oidc import OidcClient, SsoRefused
from rolegate.services.sso_secrets import open_secret, seal_secret
from rolegate.services.tokens import hash_token
from rolegate.services.web_sessions import SessionPolicy, start_session
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_sso import SsoDomain, SsoFlow, SsoProviderRow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "CALLBACK_PATH",
    "FLOW_TTL",
    "DomainView",
    "SsoLogin",
    "SsoRefused",
    "SsoRequiredError",
    "SsoSettingsView",
    "SsoStart",
    "TxtLookup",
    "begin_sso_login",
    "claim_domain",
    "complete_sso_login",
    "configure_sso",
    "dns_txt_records",
    "oidc_client",
    "password_log_in",
    "remove_domain",
    "set_jit_workspace",
    "sso_settings",
    "verify_domain",
]

CALLBACK_PATH = "/sso/callback"
FLOW_TTL = timedelta(minutes=10)
"""How long a sign-in may stay at the identity provider before its state is refused."""

TxtLookup = Callable[[str], Sequence[str]]
"""A domain's TXT records' texts (DNS in production; a dict in tests and development)."""

_client = OidcClient()


def oidc_client() -> OidcClient:
    """The process's OpenID Connect client (discovery documents and keys cached)."""
    return _client


class SsoRequiredError(SsoRefused):
    """A password login for a person whose organization requires single sign-on."""

    def __init__(self) -> None:
        super().__init__(
            "sso_required",
            "Your organization signs you in with single sign-on: use \u201cSign in with SSO\u201d below.",
        )


# -- configuration (site administrators, or the platform) ----------------------------------


@dataclass(frozen=True, slots=True)
class DomainView:
    domain: str
    verified: bool
    record: str
    """The TXT record to publish on the domain: `rolegate-verification=<token>`."""


@dataclass(frozen=True, slots=True)
class SsoSettingsView:
    organization_id: str
    issuer: str | None
    client_id: str | None
    has_secret: bool
    sso_required: bool
    domains: tuple[DomainView, ...]
    jit: tuple[JitWorkspace, ...]

    @property
    def actor_name(self) -> str | None:
        return sso_actor_name(self.issuer) if self.issuer else None


def _require_admin(uow: UnitOfWork, actor: Actor, organization_id: str) -> None:
    """Only the platform or a site administrator of this organization; anyone else is
    told the organization does not exist (a refusal reveals no other tenant)."""
    if not uow.workspaces.organization_exists(organization_id) or actor.member_id is not None or (
        actor.site_user_id is not None and not uow.sites.is_admin(organization_id, actor.site_user_id)
    ):
        raise NotFoundError(f"no organization {organization_id!r}", decision=None, fix="Check the organization id.")


def _domain_view(d: SsoDomain) -> DomainView:
    return DomainView(d.domain, d.verified_at is not None, verification_record(d.token))


def _settings_in(uow: UnitOfWork, organization_id: str) -> SsoSettingsView:
    p = uow.sso.provider(organization_id)
    return SsoSettingsView(
        organization_id=organization_id,
        issuer=p.issuer if p else None,
        client_id=p.client_id if p else None,
        has_secret=p is not None,
        sso_required=bool(p and p.sso_required),
        domains=tuple(_domain_view(d) for d in uow.sso.domains(organization_id)),
        jit=tuple(uow.sso.jit_workspaces(organization_id)),
    )


def sso_settings(uow: UnitOfWork, *, actor: Actor, organization_id: str) -> SsoSettingsView:
    """The organization's SSO settings (never the client secret)."""
    with uow:
        _require_admin(uow, actor, organization_id)
        return _settings_in(uow, organization_id)


def _provider_json(p: SsoProviderRow | None) -> dict[str, object] | None:
    if p is None:
        return None
    return {"issuer": p.issuer, "client_id": p.client_id, "sso_required": p.sso_required}


def configure_sso(
    uow: UnitOfWork,
    *,
    actor: Actor,
    organization_id: str,
    issuer: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    sso_required: bool | None = None,
    secret_key: str | None,
) -> SsoSettingsView:
    """Set the organization's provider; what is None stays as it was (a first
    configuration needs the issuer, the client id and the secret). The secret is
    stored encrypted and never returned; the audit event says only that it changed."""
    if issuer is not None and not valid_issuer(issuer.strip()):
        raise InvalidInputError(
            f"{issuer!r} is no issuer URL", fix="Give the provider's issuer: https://..., no query (http only on localhost, for development)."
        )
    with uow:
        _require_admin(uow, actor, organization_id)
        old = uow.sso.provider(organization_id)
        if old is None and not (issuer and client_id and client_secret):
            raise InvalidInputError("a first SSO configuration needs the issuer, the client id and the client secret", fix="Give all three.")
        new = SsoProviderRow(
            organization_id=organization_id,
            issuer=issuer.strip() if issuer else old.issuer if old else "",
            client_id=client_id.strip() if client_id else old.client_id if old else "",
            client_secret=seal_secret(client_secret, secret_key) if client_secret else old.client_secret if old else "",
            sso_required=sso_required if sso_required is not None else bool(old and old.sso_required),
        )
        if new.sso_required and not any(d.verified_at is not None for d in uow.sso.domains(organization_id)):
            raise ConflictError(
                "SSO cannot be required before the organization has proved an email domain",
                fix="Claim a domain and verify it first (rolegate sso claim-domain / verify-domain).",
            )
        uow.sso.save_provider(new)
        after = {**(_provider_json(new) or {}), "client_secret_changed": bool(client_secret)}
        audit_organization(uow, organization_id, actor, "sso.configure", "sso", organization_id, _provider_json(old), after)
        uow.commit()
        return _settings_in(uow, organization_id)


def claim_domain(uow: UnitOfWork, *, actor: Actor, organization_id: str, domain: str) -> DomainView:
    """Start a claim: the TXT record to publish. Claiming again returns the same record."""
    d = normalize_domain(domain)
    if d is None:
        raise InvalidInputError(f"{domain!r} is no domain name", fix="Give a domain such as example.com.")
    with uow:
        _require_admin(uow, actor, organization_id)
        mine = [c for c in uow.sso.claims_on(d) if c.organization_id == organization_id]
        if mine:
            return _domain_view(mine[0])
        owner = uow.sso.verified_owner(d)
        if owner is not None:
            raise ConflictError(f"{d} is verified by another organization", fix="Its owner must remove its claim first.")
        uow.sso.add_claim(organization_id, d, secrets.token_urlsafe(24))
        audit_organization(uow, organization_id, actor, "sso.claim_domain", "sso", d, None, {"domain": d})
        uow.commit()
        return _domain_view(next(c for c in uow.sso.claims_on(d) if c.organization_id == organization_id))


def dns_txt_records(domain: str) -> list[str]:
    """The domain's TXT records from DNS (dnspython). None found is an empty list."""
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(domain, "TXT", lifetime=5.0)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers, dns.exception.Timeout):
        return []
    return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]


def verify_domain(uow: UnitOfWork, *, actor: Actor, organization_id: str, domain: str, lookup: TxtLookup = dns_txt_records) -> DomainView:
    """Prove a claim: the domain's TXT records must hold the claim's record. At most
    one organization proves a domain (a unique index decides a race)."""
    d = normalize_domain(domain) or ""
    with uow:
        _require_admin(uow, actor, organization_id)
        claim = next((c for c in uow.sso.claims_on(d) if c.organization_id == organization_id), None)
        if claim is None:
            raise NotFoundError(f"this organization has no claim on {domain!r}", decision=None, fix="Claim the domain first.")
        if claim.verified_at is not None:
            return _domain_view(claim)
        token = claim.token
    records = list(lookup(d))  # DNS outside any transaction
    if not txt_proves(records, token):
        raise ConflictError(
            f"no TXT record {verification_record(token)!r} on {d}",
            fix="Publish the TXT record at the domain's DNS and try again once it is visible (minutes to hours).",
        )
    with uow:
        _require_admin(uow, actor, organization_id)
        owner = uow.sso.verified_owner(d)
        if owner is not None and owner != organization_id:
            raise ConflictError(f"{d} is verified by another organization", fix="Its owner must remove its claim first.")
        if not uow.sso.mark_verified(organization_id, d, utcnow()):
            raise ConflictError(f"{d} is verified by another organization", fix="Its owner must remove its claim first.")
        audit_organization(uow, organization_id, actor, "sso.verify_domain", "sso", d, {"domain": d, "verified": False}, {"domain": d, "verified": True})
        uow.commit()
        return _domain_view(next(c for c in uow.sso.claims_on(d) if c.organization_id == organization_id))


def remove_domain(uow: UnitOfWork, *, actor: Actor, organization_id: str, domain: str) -> bool:
    d = normalize_domain(domain) or ""
    with uow:
        _require_admin(uow, actor, organization_id)
        if not uow.sso.remove_claim(organization_id, d):
            return False
        audit_organization(uow, organization_id, actor, "sso.remove_domain", "sso", d, {"domain": d}, None)
        uow.commit()
        return True


def set_jit_workspace(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, enabled: bool, role_id: str | None = None, organization_id: str | None = None
) -> JitWorkspace | None:
    """Whether a first sign-in through the organization's provider makes the person a
    member of this workspace, and with which role (None: the workspace's default role).
    `organization_id`: the caller's organization (an API key's); another's workspace is
    not found."""
    with uow:
        ws = uow.workspaces.get(workspace_id)
        try:
            if ws is None or (organization_id is not None and ws.organization_id != organization_id):
                raise NotFoundError("", decision=None)
            _require_admin(uow, actor, ws.organization_id)
        except NotFoundError:
            # The same answer as for no workspace at all: another tenant's workspace
            # (or its organization's id) is never revealed.
            raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Check the workspace id.") from None
        state = load_state(uow, workspace_id)
        if role_id is not None:
            state.role(role_id)  # NotFoundError for a role of no such id here
        before = next(({"role": j.role_id} for j in uow.sso.jit_workspaces(ws.organization_id) if j.workspace_id == workspace_id), None)
        if enabled:
            uow.sso.set_jit(workspace_id, role_id)
        else:
            uow.sso.clear_jit(workspace_id)
        after = {"role": role_id} if enabled else None
        record_change(uow, workspace_id, actor, "sso.jit", "workspace", workspace_id, before, after)
        uow.commit()
        return JitWorkspace(workspace_id, role_id) if enabled else None


# -- signing in ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SsoStart:
    url: str
    """Where the browser goes: the provider's authorization endpoint."""
    state: str
    """Also kept in the browser's session cookie: the callback must come back to the
    browser that started it (no login CSRF)."""


_NO_SSO = "No single sign-on is set up for this email's domain: log in with your password."


def begin_sso_login(
    uow: UnitOfWork, *, email: str, redirect_uri: str, next_path: str = "/", client: OidcClient | None = None, now: datetime | None = None
) -> SsoStart:
    """The provider of the organization that proved the email's domain, and a new flow
    (state, nonce, PKCE verifier) kept server-side by the state's hash."""
    at = now or utcnow()
    domain = email_domain(email)
    with uow:
        owner = uow.sso.verified_owner(domain) if domain else None
        provider = uow.sso.provider(owner) if owner else None
        if provider is None:
            # The address typed does not lead to single sign-on: the form's input (422),
            # the same answer for a domain nobody proved and one without a provider.
            raise InvalidInputError(_NO_SSO, fix="Log in with your password, or ask your administrator.")
        assert owner is not None
        request = (client or _client).authorization_request(provider.issuer, client_id=provider.client_id, redirect_uri=redirect_uri, login_hint=email.strip())
        uow.sso.purge_flows(at - FLOW_TTL)
        uow.sso.add_flow(
            hash_token(request.state), SsoFlow(owner, request.nonce, request.code_verifier, next_path[:500]), expires_at=at + FLOW_TTL
        )
        uow.commit()
    return SsoStart(request.url, request.state)


@dataclass(frozen=True, slots=True)
class SsoLogin:
    user: User
    session_id: str
    next_path: str
    joined: tuple[str, ...]
    """The workspaces this sign-in made the person a member of (just in time)."""


_MESSAGES = {
    LoginRefusal.EMAIL_MISSING: "The identity provider sent no email address.",
    LoginRefusal.EMAIL_UNVERIFIED: "The identity provider has not verified this email address.",
    LoginRefusal.FOREIGN_DOMAIN: "This email's domain does not belong to the organization of this identity provider.",
    LoginRefusal.UNVERIFIED_DOMAIN: "This organization has not proved it holds this email's domain yet.",
}


def complete_sso_login(
    uow: Callable[[], UnitOfWork],
    *,
    state: str,
    code: str,
    browser_state: str | None,
    redirect_uri: str,
    secret_key: str | None,
    policy: SessionPolicy,
    replaces: str | None = None,
    ip: str = "",
    error: str | None = None,
    client: OidcClient | None = None,
    now: datetime | None = None,
) -> SsoLogin:
    """The callback: the state must be this browser's and unspent, the code is
    exchanged (PKCE) and the ID token validated (signature, iss, aud, exp, nonce), the
    email checked against the organization's proved domains; then the person's login
    (made if new), their memberships just in time (seats hold, all or nothing), and a
    session. Every refusal is a security event."""
    at = now or utcnow()
    oidc = client or _client
    if not state or browser_state is None or not secrets.compare_digest(state.encode(), browser_state.encode()):
        _refused(uow, "state", at, ip)
        raise SsoRefused("bad_state", "This sign-in did not start in this browser, or has expired: start again.")
    with uow() as u:
        flow = u.sso.spend_flow(hash_token(state), at)
        provider = u.sso.provider(flow.organization_id) if flow is not None else None
        u.commit()
    if flow is None or provider is None:
        _refused(uow, "state", at, ip)
        raise SsoRefused("bad_state", "This sign-in did not start here, was used already, or has expired: start again.")
    actor_name = sso_actor_name(provider.issuer)
    if error or not code:
        _refused(uow, "provider_error", at, ip, detail=f"{actor_name} {error or 'no code'}"[:300])
        raise SsoRefused("provider_error", "The identity provider did not sign you in.")
    try:
        identity = oidc.exchange(
            provider.issuer,
            client_id=provider.client_id,
            client_secret=open_secret(provider.client_secret, secret_key),
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=flow.code_verifier,
            nonce=flow.nonce,
        )
    except SsoRefused as exc:
        _refused(uow, exc.reason, at, ip, detail=actor_name)
        raise
    with uow() as u:
        domain = email_domain(identity.email or "")
        claims = [c.claim for c in u.sso.claims_on(domain)] if domain else []
        refusal = sso_login_refusal(
            organization_id=flow.organization_id, email=identity.email, email_verified=identity.email_verified, claims=claims
        )
    if refusal is not None:
        _refused(uow, refusal.value, at, ip, email=identity.email or "", detail=actor_name)
        raise SsoRefused(refusal.value, _MESSAGES[refusal])
    assert identity.email is not None
    email = identity.email.strip().lower()
    actor = Actor.system(actor_name)
    joined: list[str] = []
    try:
        with uow() as u:
            user_id = ensure_user(u, email, identity.name, None)
            configured = u.sso.jit_workspaces(flow.organization_id)
            # Every workspace locked first (in id order: two sign-ins never wait on each
            # other crosswise), then who is a member: two first sign-ins of one person at
            # once make one membership, the second sees it.
            states = {j.workspace_id: load_state(u, j.workspace_id) for j in configured}
            member_of = {ws for ws in states if u.members.by_user(ws, user_id) is not None}
            for target in jit_targets(configured, member_of=member_of):
                ws_state = states[target.workspace_id]
                # A configured role deleted since: the workspace's default role, the
                # narrowest (never a wider one by accident).
                role_id = target.role_id if target.role_id in ws_state.roles else None
                role_id = role_id or default_member_role(ws_state.schema, ws_state.roles.values(), ws_state.workspace.features).id
                add_member_locked(
                    u, ws_state, actor=actor, email=email, role_id=role_id, name=identity.name, password=None, status=MemberStatus.ACTIVE, assigns_role=False
                )
                joined.append(target.workspace_id)
            security_event(u, "login.sso", user_id=user_id, email=email, ip=ip, detail=actor_name, now=at)
            u.commit()
    except RolegateError as exc:
        # A full workspace (the seat rule) or another refusal: nothing was made.
        _refused(uow, "jit", at, ip, email=email, detail=f"{actor_name} {exc.message}"[:300])
        raise
    with uow() as u:
        user = user_in(u, user_id)
    assert user is not None
    session_id = start_session(uow(), user_id=user.id, policy=policy, replaces=replaces, now=at)
    return SsoLogin(user, session_id, flow.next_path, tuple(joined))


def _refused(uow: Callable[[], UnitOfWork], reason: str, at: datetime, ip: str, *, email: str = "", detail: str = "") -> None:
    with uow() as u:
        security_event(u, f"login.sso_refused.{reason}"[:64], email=email, ip=ip, detail=detail, now=at)
        u.commit()


def password_log_in(
    uow: Callable[[], UnitOfWork], guard: LoginGuard, *, email: str, password: str, ip: str, break_glass: bool, now: datetime | None = None
) -> User | None:
    """The password form: `login_protection.log_in` unless the email's organization
    requires SSO (SsoRequiredError, before any password is checked). Break-glass: that
    organization's site administrators still log in with their password, and the
    security event says `login.break_glass`."""
    at = now or utcnow()
    domain = email_domain(email)
    with uow() as u:
        owner = u.sso.verified_owner(domain) if domain else None
        provider = u.sso.provider(owner) if owner else None
    policy = SsoPolicy(provider.organization_id, provider.sso_required) if provider is not None else None
    if password_login_allowed(policy, site_admin_of=(), break_glass=False):
        return log_in(uow, guard, email=email, password=password, ip=ip, now=at)
    assert policy is not None
    if not break_glass:
        with uow() as u:
            security_event(u, "login.sso_required", email=email, ip=ip, now=at)
            u.commit()
        raise SsoRequiredError()
    user = log_in(uow, guard, email=email, password=password, ip=ip, now=at)
    if user is None:
        return None
    with uow() as u:
        administered = u.sites.organizations_administered(user.id)
        allowed = password_login_allowed(policy, site_admin_of=administered, break_glass=True)
        security_event(u, "login.break_glass" if allowed else "login.sso_required", user_id=user.id, email=email, ip=ip, now=at)
        u.commit()
    if not allowed:
        raise SsoRequiredError()
    return user

