"""Single sign-on rules: domains, verification records, who may sign in, who keeps a
password, where a first sign-in makes a member."""

from __future__ import annotations

import pytest

from rolegate.domain.sso import (
    DomainClaim,
    JitWorkspace,
    LoginRefusal,
    SsoPolicy,
    email_domain,
    issuer_host,
    jit_targets,
    normalize_domain,
    password_login_allowed,
    sso_actor_name,
    sso_login_refusal,
    txt_proves,
    valid_issuer,
    verification_record,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Acme.COM", "acme.com"),
        (" acme.com. ", "acme.com"),
        ("mail.acme.co.uk", "mail.acme.co.uk"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("acme", None),  # one label: no domain an organization can prove
        ("-acme.com", None),
        ("acme-.com", None),
        ("10.0.0.1", None),  # an address, not a domain
        ("acme..com", None),
        ("a" * 64 + ".com", None),
        (("a" * 60 + ".") * 5 + "com", None),  # over 253 characters
        ("acme.com/evil", None),
        ("", None),
    ],
)
def test_normalize_domain(raw: str, expected: str | None) -> None:
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("ann@Acme.com", "acme.com"),
        ('"a@b"@acme.com', "acme.com"),  # the last @ separates the domain
        ("@acme.com", None),
        ("ann.acme.com", None),
        ("ann@localhost", None),
    ],
)
def test_email_domain(email: str, expected: str | None) -> None:
    assert email_domain(email) == expected


def test_a_txt_record_proves_only_its_own_token() -> None:
    assert verification_record("tok") == "rolegate-verification=tok"
    assert txt_proves(["v=spf1 -all", '"rolegate-verification=tok"'], "tok")
    assert not txt_proves(["rolegate-verification=other"], "tok")
    assert not txt_proves([], "tok")


def test_the_actor_of_a_sign_in_is_the_issuer_host() -> None:
    assert issuer_host("https://Acme.okta.com/oauth2/default") == "acme.okta.com"
    assert issuer_host("http://localhost:8123") == "localhost:8123"
    assert issuer_host("not a url") == "not a url"
    assert sso_actor_name("https://login.microsoftonline.com/tid/v2.0") == "sso:login.microsoftonline.com"


@pytest.mark.parametrize(
    ("issuer", "ok"),
    [
        ("https://acme.okta.com", True),
        ("https://login.microsoftonline.com/tid/v2.0", True),
        ("http://localhost:5000", True),
        ("http://127.0.0.1:5000", True),
        ("http://idp.example.com", False),  # plain http off the loopback
        ("https://idp.example.com/?tenant=1", False),
        ("https://idp.example.com/#x", False),
        ("ftp://idp.example.com", False),
        ("https://", False),
    ],
)
def test_valid_issuer(issuer: str, ok: bool) -> None:
    assert valid_issuer(issuer) is ok


ORG = "org-a"
VERIFIED = DomainClaim(ORG, "acme.com", verified=True)


@pytest.mark.parametrize(
    ("email", "verified", "claims", "refusal"),
    [
        ("ann@acme.com", True, [VERIFIED], None),
        ("ann@ACME.com", True, [VERIFIED], None),
        (None, True, [VERIFIED], LoginRefusal.EMAIL_MISSING),
        ("ann", True, [VERIFIED], LoginRefusal.EMAIL_MISSING),
        ("ann@acme.com", False, [VERIFIED], LoginRefusal.EMAIL_UNVERIFIED),
        # Another organization's verified domain is foreign to this one.
        ("ann@acme.com", True, [DomainClaim("org-b", "acme.com", verified=True)], LoginRefusal.FOREIGN_DOMAIN),
        ("ann@other.com", True, [VERIFIED], LoginRefusal.FOREIGN_DOMAIN),
        ("ann@acme.com", True, [], LoginRefusal.FOREIGN_DOMAIN),
        ("ann@acme.com", True, [DomainClaim(ORG, "acme.com", verified=False)], LoginRefusal.UNVERIFIED_DOMAIN),
    ],
)
def test_sso_login_refusal(email: str | None, verified: bool, claims: list[DomainClaim], refusal: LoginRefusal | None) -> None:
    assert sso_login_refusal(organization_id=ORG, email=email, email_verified=verified, claims=claims) == refusal


@pytest.mark.parametrize(
    ("policy", "admin_of", "break_glass", "allowed"),
    [
        (None, set(), False, True),
        (SsoPolicy(ORG, sso_required=False), set(), False, True),
        (SsoPolicy(ORG, sso_required=True), set(), False, False),
        (SsoPolicy(ORG, sso_required=True), {ORG}, False, False),  # break-glass off: SSO for everyone
        (SsoPolicy(ORG, sso_required=True), {ORG}, True, True),
        (SsoPolicy(ORG, sso_required=True), {"org-b"}, True, False),  # another site's administrator
        (SsoPolicy(ORG, sso_required=True), set(), True, False),
    ],
)
def test_password_login_allowed(policy: SsoPolicy | None, admin_of: set[str], break_glass: bool, allowed: bool) -> None:
    assert password_login_allowed(policy, site_admin_of=admin_of, break_glass=break_glass) is allowed


def test_jit_targets_skip_workspaces_where_the_person_is_a_member() -> None:
    configured = [JitWorkspace("w1", None), JitWorkspace("w2", "r-viewer")]
    assert jit_targets(configured, member_of={"w1"}) == [JitWorkspace("w2", "r-viewer")]
    assert jit_targets(configured, member_of=set()) == configured
    assert jit_targets([], member_of={"w1"}) == []
