"""Logging in (the admin UI): a user's email and password; a membership of a workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rolegate.domain.workspace import Workspace
from rolegate.services.passwords import verify_password
from rolegate.store.repositories import MemberInfo  # re-exported: the doors show memberships
from rolegate.store.uow import UnitOfWork

__all__ = ["MemberInfo", "Membership", "User", "authenticate_user", "get_user", "user_in"]


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    session_version: int = 0
    """C8: sessions made before the last password reset carry an older generation."""


@dataclass(frozen=True, slots=True)
class Membership:
    """A user's membership of one workspace (any status)."""

    workspace: Workspace
    member: MemberInfo


def authenticate_user(uow: UnitOfWork, *, email: str, password: str) -> User | None:
    """The user whose email and password these are, else None. An unknown email and a
    user without a password (invited, not yet accepted) cost the same one argon2
    verification as a wrong password (`verify_password`), so timing does not tell which."""
    with uow:
        row = uow.users.by_email(email)
    if not verify_password(row.password_hash if row is not None else None, password) or row is None:
        return None
    return _user(row)


def _user(row: Any) -> User:
    return User(str(row.id), str(row.email), str(row.name or ""), int(getattr(row, "session_version", 0) or 0))


def get_user(uow: UnitOfWork, user_id: str) -> User | None:
    with uow:
        return user_in(uow, user_id)


def user_in(uow: UnitOfWork, user_id: str) -> User | None:
    """The user, read in the caller's open transaction."""
    row = uow.users.get(user_id)
    return _user(row) if row is not None else None
