"""Single sign-on rules (OpenID Connect): which organization an email belongs to, when an
organization may claim an email domain, who may sign in through its identity provider,
who still may use a password, and where a first login makes a member (just in time).

No I/O here: the services read the claims, the DNS and the store, and ask these."""

from __future__ import annotations

import hmac
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

__all__ = [
    "VERIFICATION_PREFIX",
    "DomainClaim",
    "JitWorkspace",
    "LoginRefusal",
    "SsoPolicy",
    "email_domain",
    "issuer_host",
    "jit_targets",
    "normalize_domain",
    "password_login_allowed",
    "sso_actor_name",
    "sso_login_refusal",
    "txt_proves",
    "valid_issuer",
    "verification_record",
]

VERIFICATION_PREFIX = "rolegate-verification="
"""The DNS TXT record an organization publishes on a domain to prove it holds it."""

# A DNS name of at least two labels, each 1-63 letters, digits or inner hyphens; the last
# label is not all digits (no IP address passes for a domain).
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+(?!\d+$){_LABEL}$")


def normalize_domain(domain: str) -> str | None:
    """The domain in the form it is stored and compared (lower case, no trailing dot),
    or None when it is no domain name."""
    d = domain.strip().lower().rstrip(".")
    if len(d) > 253 or not _DOMAIN.match(d):
        return None
    return d


def email_domain(email: str) -> str | None:
    """The domain of an email address (after the last @), normalized; None when none."""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local:
        return None
    return normalize_domain(domain)


def verification_record(token: str) -> str:
    """The TXT record's text that proves a claim: `rolegate-verification=<token>`."""
    return VERIFICATION_PREFIX + token


def txt_proves(records: Iterable[str], token: str) -> bool:
    """Whether one of a domain's TXT records is the claim's verification record
    (compared in constant time: the token is the claim's secret until published)."""
    expected = verification_record(token).encode()
    return any(hmac.compare_digest(r.strip().strip('"').encode(), expected) for r in records)


def issuer_host(issuer: str) -> str:
    """The identity provider's host (with its port when it names one): what audit
    events name as the actor of a sign-in."""
    parts = urlsplit(issuer)
    return parts.netloc.lower() or issuer


def sso_actor_name(issuer: str) -> str:
    """The audit log's actor of what an identity provider caused: `sso:<issuer host>`."""
    return f"sso:{issuer_host(issuer)}"


def valid_issuer(issuer: str) -> bool:
    """An issuer is an https URL without query or fragment (OpenID Connect Discovery
    1.0, section 2); http only on the loopback, for development and tests."""
    parts = urlsplit(issuer)
    if parts.query or parts.fragment or not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and parts.hostname in {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True, slots=True)
class DomainClaim:
    """An organization's claim on an email domain; only a verified one counts."""

    organization_id: str
    domain: str
    verified: bool


@dataclass(frozen=True, slots=True)
class SsoPolicy:
    """An organization's sign-in policy, as far as a login needs it."""

    organization_id: str
    sso_required: bool


class LoginRefusal(StrEnum):
    """Why a sign-in through an identity provider makes no session."""

    EMAIL_MISSING = "email_missing"
    EMAIL_UNVERIFIED = "email_unverified"
    FOREIGN_DOMAIN = "foreign_domain"
    UNVERIFIED_DOMAIN = "unverified_domain"


def sso_login_refusal(
    *, organization_id: str, email: str | None, email_verified: bool, claims: Collection[DomainClaim]
) -> LoginRefusal | None:
    """Whether the organization's identity provider may sign this person in. A person's
    login (the `users` row) is theirs: it is linked only when the provider vouches for
    the address (`email_verified`) and the address's domain is one this organization
    proved it holds. `claims`: the claims on the address's domain (any organization)."""
    domain = email_domain(email) if email else None
    if domain is None:
        return LoginRefusal.EMAIL_MISSING
    if not email_verified:
        return LoginRefusal.EMAIL_UNVERIFIED
    own = [c for c in claims if c.organization_id == organization_id and c.domain == domain]
    if not own:
        return LoginRefusal.FOREIGN_DOMAIN
    if not any(c.verified for c in own):
        return LoginRefusal.UNVERIFIED_DOMAIN
    return None


def password_login_allowed(policy: SsoPolicy | None, *, site_admin_of: Collection[str], break_glass: bool) -> bool:
    """A password opens a session unless the email's domain belongs to an organization
    that requires single sign-on. Break-glass (ROLEGATE_SSO_BREAK_GLASS=1): that
    organization's site administrators keep their password, for when the identity
    provider is down or misconfigured."""
    if policy is None or not policy.sso_required:
        return True
    return break_glass and policy.organization_id in site_admin_of


@dataclass(frozen=True, slots=True)
class JitWorkspace:
    """A workspace where a first sign-in makes the person a member; `role_id` None:
    the workspace's default role (E7's `default_member_role`)."""

    workspace_id: str
    role_id: str | None


def jit_targets(configured: Iterable[JitWorkspace], *, member_of: Collection[str]) -> list[JitWorkspace]:
    """The workspaces where this sign-in adds the person: those configured for
    just-in-time membership where they are not a member yet (in any status: a disabled
    member stays disabled, an invited one keeps their invitation)."""
    return [j for j in configured if j.workspace_id not in member_of]
