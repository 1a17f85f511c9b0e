"""The identity provider's client secret at rest: encrypted with a key derived from
`ROLEGATE_SECRET_KEY` (Fernet: AES-128-CBC and HMAC-SHA256, from `cryptography`, which
authlib already needs), never shown again once configured.

Without ROLEGATE_SECRET_KEY there is no key that survives a restart, so the secret is
stored as it is (marked `plain:`) and the README says to set the key in production;
a secret encrypted under another key cannot be read and says so."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from rolegate.domain.errors import UnavailableError

__all__ = ["open_secret", "seal_secret"]

_FERNET = "fernet:"
_PLAIN = "plain:"


def _fernet(secret_key: str) -> Fernet:
    # A key of its own for this use: the session cookies' signing key is not reused as is.
    digest = hashlib.sha256(b"rolegate.sso.client_secret\x00" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal_secret(secret: str, secret_key: str | None) -> str:
    if not secret_key:
        return _PLAIN + secret
    return _FERNET + _fernet(secret_key).encrypt(secret.encode()).decode()


def open_secret(stored: str, secret_key: str | None) -> str:
    if stored.startswith(_PLAIN):
        return stored[len(_PLAIN) :]
    if stored.startswith(_FERNET) and secret_key:
        try:
            return _fernet(secret_key).decrypt(stored[len(_FERNET) :].encode()).decode()
        except InvalidToken:
            pass
    raise UnavailableError(
        "the identity provider's client secret cannot be read with this ROLEGATE_SECRET_KEY",
        fix="Run with the ROLEGATE_SECRET_KEY it was configured under, or configure the client secret again.",
    )
