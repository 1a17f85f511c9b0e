"""A person's own login: sign-in, password resets, email changes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rolegate.services.commands import Email, _In

__all__ = ["EmailChangedOut", "QueuedOut", "SetPasswordEmailIn"]


class EmailChangedOut(BaseModel):
    email: str


class SetPasswordEmailIn(_In):
    email: Email = Field(
        description="A person of this organization without a password (an owner created over the API, a site administrator)."
    )


class QueuedOut(BaseModel):
    detail: str
