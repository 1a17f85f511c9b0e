"""Single-use link tokens (invitations, password resets): 256 random bits shown once,
in the email; only their SHA-256 is stored, so the database never holds a usable link."""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["hash_token", "new_token", "same_hash"]


def new_token() -> tuple[str, str]:
    """(the token for the link, its hash for the database)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant time, so comparing never tells how much of a hash matched."""
    return hmac.compare_digest(a.encode(), b.encode())
