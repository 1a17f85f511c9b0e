"""The OpenID Connect client's checks on what a provider answers, with tokens signed
here (a provider that misbehaves on purpose): the discovery document's issuer, the ID
token's signature, issuer, audience, expiry and nonce, and the email claims."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import joserfc.jwk
import joserfc.jwt
import pytest

from rolegate.services.sso_oidc import OidcClient, SsoRefused

ISSUER = "https://idp.example.com"
CLIENT = "rolegate"
NONCE = "the-nonce"
KEY = joserfc.jwk.RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER_KEY = joserfc.jwk.RSAKey.generate_key(2048, parameters={"kid": "k1"})


def provider(*, issuer: str = ISSUER, id_token: str = "") -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": issuer,
                    "authorization_endpoint": f"{ISSUER}/authorize",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                },
            )
        if path == "/jwks":
            return httpx.Response(200, json={"keys": [KEY.as_dict(private=False)]})
        if path == "/token":
            form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            assert form["grant_type"] == "authorization_code"
            assert form["code_verifier"]
            assert request.headers["authorization"].startswith("Basic ")
            return httpx.Response(200, json={"access_token": "a", "token_type": "Bearer", "id_token": id_token})
        return httpx.Response(404)

    return httpx.MockTransport(handle)


def token(key: joserfc.jwk.RSAKey = KEY, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "u1",
        "aud": CLIENT,
        "exp": now + 300,
        "iat": now,
        "nonce": NONCE,
        "email": "ann@acme.test",
        "email_verified": True,
        "name": "Ann",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return joserfc.jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


def validate(id_token: str, *, nonce: str = NONCE) -> Any:
    client = OidcClient(transport=provider())
    return client.validate_id_token(client.discover(ISSUER), id_token, client_id=CLIENT, nonce=nonce)


def test_a_good_token_gives_the_identity() -> None:
    identity = validate(token())
    assert (identity.subject, identity.email, identity.email_verified, identity.name) == ("u1", "ann@acme.test", True, "Ann")
    assert validate(token(email_verified="true")).email_verified  # some providers send a string
    assert not validate(token(email_verified=None)).email_verified
    assert not validate(token(email_verified=False)).email_verified
    # Entra ID: no email_verified, but the optional claim xms_edov (domain owner verified).
    assert validate(token(email_verified=None, xms_edov=True)).email_verified
    assert not validate(token(email_verified=None, xms_edov=False)).email_verified


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "https://evil.example.com"}, "bad_iss"),
        ({"aud": "another-app"}, "bad_aud"),
        ({"aud": ["another-app", CLIENT]}, "bad_aud"),  # several audiences: azp must be us
        ({"exp": int(time.time()) - 3600}, "bad_exp"),
        ({"exp": None}, "bad_exp"),
        ({"nonce": "another-sign-in"}, "bad_nonce"),
        ({"nonce": None}, "bad_nonce"),
        ({"sub": None}, "bad_sub"),
    ],
)
def test_a_token_that_does_not_hold_is_refused(claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(SsoRefused) as refused:
        validate(token(**claims))
    assert refused.value.reason == reason


def test_several_audiences_with_us_as_the_authorized_party_hold() -> None:
    assert validate(token(aud=["another-app", CLIENT], azp=CLIENT)).subject == "u1"


def test_a_token_signed_by_another_key_is_refused() -> None:
    with pytest.raises(SsoRefused) as refused:
        validate(token(OTHER_KEY))
    assert refused.value.reason == "bad_signature"


def test_an_unsigned_token_is_refused() -> None:
    header = json.dumps({"alg": "none"}).encode()
    body = json.dumps({"iss": ISSUER, "sub": "u1", "aud": CLIENT, "nonce": NONCE}).encode()
    import base64

    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    with pytest.raises(SsoRefused):
        validate(f"{b64(header)}.{b64(body)}.")


def test_a_discovery_document_of_another_issuer_is_refused() -> None:
    """Mix-up: the document at the configured issuer must name exactly that issuer."""
    client = OidcClient(transport=provider(issuer="https://evil.example.com"))
    with pytest.raises(SsoRefused) as refused:
        client.discover(ISSUER)
    assert refused.value.reason == "issuer_mismatch"


def test_the_code_exchange_sends_the_pkce_verifier_and_validates_the_token() -> None:
    client = OidcClient(transport=provider(id_token=token()))
    request = client.authorization_request(ISSUER, client_id=CLIENT, redirect_uri="https://rolegate.test/sso/callback")
    url = httpx.URL(request.url)
    assert url.params["code_challenge_method"] == "S256"
    assert url.params["state"] == request.state
    assert url.params["nonce"] == request.nonce
    assert url.params["scope"] == "openid email profile"
    identity = client.exchange(
        ISSUER, client_id=CLIENT, client_secret="s", code="c", redirect_uri="https://rolegate.test/sso/callback", code_verifier=request.code_verifier, nonce=NONCE
    )
    assert identity.email == "ann@acme.test"
    # An ID token for another sign-in (its nonce) is refused at the exchange too.
    with pytest.raises(SsoRefused):
        client.exchange(ISSUER, client_id=CLIENT, client_secret="s", code="c", redirect_uri="x", code_verifier="v", nonce="other")
