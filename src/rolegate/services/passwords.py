"""Password hashing with argon2id (argon2-cffi's defaults).

`verify_password` costs one argon2 verification whatever it is given: a user without a
password, or with a hash that cannot be read, is checked against a decoy hash, so the
time of a login tells nothing about the account (unknown, invited, or with a password)."""

from __future__ import annotations

from contextlib import suppress
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["hash_password", "verify_password"]

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _decoy_hash() -> str:
    # Made with the same parameters as real hashes, so verifying it costs the same.
    return hash_password("no account ever matches this")


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        _spend(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except InvalidHashError:
        _spend(password)
        return False
    except VerificationError:
        return False


def _spend(password: str) -> None:
    with suppress(VerificationError):
        _hasher.verify(_decoy_hash(), password)
