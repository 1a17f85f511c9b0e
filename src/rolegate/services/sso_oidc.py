"""The OpenID Connect client: discovery, the authorization request (Authorization Code
with PKCE, state and nonce), the code exchange and the ID token's validation.

authlib makes the request's parts (PKCE S256 challenge, random state, nonce and
verifier, the authorization URI); the ID token is verified with joserfc, the JOSE
library authlib itself now points to (its `authlib.jose` is deprecated): signature
against the provider's JWKS, then `iss`, `aud`, `exp`, `iat` and `nonce`. HTTP goes
through httpx with short timeouts; nothing here touches the store."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import joserfc.jwk
import joserfc.jwt
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc.errors import JoseError

from rolegate.domain.errors import ForbiddenError, UnavailableError

__all__ = ["SCOPES", "AuthorizationRequest", "Discovery", "IdentityClaims", "OidcClient", "SsoRefused"]

SCOPES = "openid email profile"
TIMEOUT = httpx.Timeout(10.0)
DISCOVERY_TTL = 300.0
"""Seconds a provider's discovery document and keys are kept (a key rotation is seen
within this, or at once when a token names a key we do not hold)."""
LEEWAY = 60
"""Seconds of clock difference tolerated on `exp` and `iat`."""


class SsoRefused(ForbiddenError):
    """A sign-in through the identity provider that makes no session (403). `reason`
    is a stable word for tests and logs; the message is what the person reads."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, fix="Sign in again from the login page, or ask your administrator.")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class IdentityClaims:
    subject: str
    email: str | None
    email_verified: bool
    name: str


def _bool_claim(value: object) -> bool:
    # Some providers send "true" as a string (older Entra ID and Cognito tokens).
    return value is True or (isinstance(value, str) and value.lower() == "true")


class OidcClient:
    """One per process: discovery documents and key sets cached per issuer."""

    def __init__(self, *, transport: httpx.BaseTransport | None = None) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self._discovery: dict[str, tuple[float, Discovery]] = {}
        self._keys: dict[str, tuple[float, joserfc.jwk.KeySet]] = {}

    def _http(self) -> httpx.Client:
        return httpx.Client(timeout=TIMEOUT, transport=self._transport, follow_redirects=False)

    def _get_json(self, url: str) -> Mapping[str, Any]:
        try:
            with self._http() as http:
                response = http.get(url, headers={"Accept": "application/json"})
                response.raise_for_status()
                data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise UnavailableError(f"the identity provider did not answer ({url}): {exc}", fix="Try again later.") from exc
        if not isinstance(data, dict):
            raise UnavailableError(f"the identity provider's answer at {url} is not a JSON object", fix="Check the issuer URL.")
        return data

    def discover(self, issuer: str) -> Discovery:
        now = time.monotonic()
        with self._lock:
            cached = self._discovery.get(issuer)
        if cached is not None and now - cached[0] < DISCOVERY_TTL:
            return cached[1]
        data = self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        # OpenID Connect Discovery 1.0, 4.3: the document's issuer is exactly the one
        # configured, or it is another provider's document (mix-up).
        if data.get("issuer") != issuer:
            raise SsoRefused("issuer_mismatch", "The identity provider's discovery document names another issuer.")
        try:
            found = Discovery(
                issuer=issuer,
                authorization_endpoint=str(data["authorization_endpoint"]),
                token_endpoint=str(data["token_endpoint"]),
                jwks_uri=str(data["jwks_uri"]),
            )
        except KeyError as exc:
            raise UnavailableError(f"the identity provider's discovery document lacks {exc}", fix="Check the issuer URL.") from exc
        with self._lock:
            self._discovery[issuer] = (now, found)
        return found

    def _key_set(self, discovery: Discovery, *, refresh: bool = False) -> joserfc.jwk.KeySet:
        now = time.monotonic()
        with self._lock:
            cached = self._keys.get(discovery.jwks_uri)
        if cached is not None and not refresh and now - cached[0] < DISCOVERY_TTL:
            return cached[1]
        keys = joserfc.jwk.KeySet.import_key_set(dict(self._get_json(discovery.jwks_uri)))  # type: ignore[arg-type]
        with self._lock:
            self._keys[discovery.jwks_uri] = (now, keys)
        return keys

    def authorization_request(self, issuer: str, *, client_id: str, redirect_uri: str, login_hint: str | None = None) -> AuthorizationRequest:
        discovery = self.discover(issuer)
        state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
        extra: dict[str, str] = {"nonce": nonce, "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
        if login_hint:
            extra["login_hint"] = login_hint
        url = prepare_grant_uri(
            discovery.authorization_endpoint, client_id, "code", redirect_uri=redirect_uri, scope=SCOPES, state=state, **extra
        )
        return AuthorizationRequest(str(url), state, nonce, verifier)

    def exchange(
        self, issuer: str, *, client_id: str, client_secret: str, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> IdentityClaims:
        """The code for tokens (client_secret_basic, with the PKCE verifier), then the ID
        token's signature and claims; SsoRefused for any token that does not hold."""
        discovery = self.discover(issuer)
        try:
            with self._http() as http:
                response = http.post(
                    discovery.token_endpoint,
                    data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": code_verifier},
                    auth=(client_id, client_secret),
                    headers={"Accept": "application/json"},
                )
        except httpx.HTTPError as exc:
            raise UnavailableError(f"the identity provider's token endpoint did not answer: {exc}", fix="Try again later.") from exc
        if response.status_code != 200:
            raise SsoRefused("token_refused", "The identity provider refused the sign-in code.")
        try:
            id_token = response.json()["id_token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SsoRefused("no_id_token", "The identity provider sent no ID token.") from exc
        return self.validate_id_token(discovery, str(id_token), client_id=client_id, nonce=nonce)

    def validate_id_token(self, discovery: Discovery, id_token: str, *, client_id: str, nonce: str, now: int | None = None) -> IdentityClaims:
        try:
            try:
                token = joserfc.jwt.decode(id_token, self._key_set(discovery), algorithms=["RS256", "ES256", "PS256"])
            except JoseError:
                # A key the cached set does not hold: the provider may have rotated.
                token = joserfc.jwt.decode(id_token, self._key_set(discovery, refresh=True), algorithms=["RS256", "ES256", "PS256"])
        except (JoseError, ValueError) as exc:
            raise SsoRefused("bad_signature", "The ID token's signature does not verify.") from exc
        claims = token.claims
        registry = joserfc.jwt.JWTClaimsRegistry(
            now=now,
            leeway=LEEWAY,
            iss={"essential": True, "value": discovery.issuer},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise SsoRefused(f"bad_{getattr(exc, 'claim', 'claim')}", f"The ID token does not hold: {exc.description or exc.error}.") from exc
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != client_id):
            raise SsoRefused("bad_aud", "The ID token was issued for another application.")
        if not isinstance(claims.get("nonce"), str) or not _same(str(claims["nonce"]), nonce):
            raise SsoRefused("bad_nonce", "The ID token does not answer this sign-in (nonce).")
        email = claims.get("email")
        return IdentityClaims(
            subject=str(claims["sub"]),
            email=str(email) if isinstance(email, str) else None,
            # Entra ID sends no `email_verified`; its optional claim `xms_edov` says the
            # address's domain is verified by the tenant that owns it.
            email_verified=_bool_claim(claims.get("email_verified")) or _bool_claim(claims.get("xms_edov")),
            name=str(claims.get("name") or "")[:200],
        )


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
