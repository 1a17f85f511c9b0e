"""Errors raised by Rolegate.

The tree::

    RolegateError                 base of everything Rolegate raises on purpose
    ├── SchemaError               a product schema has problems (all of them listed)
    ├── UnknownActionError        an action the product schema does not declare
    ├── InvalidRecordError        a record that does not fit the action or the schema
    ├── PermissionDeniedError     `require` on a denied decision (carries the Decision),
    │   │                         or an actor without the admin right (carries rule_id)
    │   └── NotFoundError         denied and the member may not even see the record
    ├── RevisionNotReachedError   `min_revision` newer than what this database has yet
    ├── RuleViolationError        a change refused by one or more rules (Violations)
    ├── TokenInvalidError         an invitation, password reset or email change link unknown, used, revoked or expired
    ├── LoginRequiredError        an invitation for an existing login, accepted without being logged in as it
    ├── ActorRefusedError         the named acting party is no member of the workspace (nor a site
    │                             administrator of its organization), or a disabled member
    ├── RateLimitedError          too many login or password reset attempts (carries retry_after)
    └── StoreUnavailableError     the database cannot be reached now (carries retry_after, kind)

Every error has a stable ``code`` (``ErrorCode``) and says what to do instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rolegate.domain.violations import Violation

__all__ = [
    "ActorRefusedError",
    "ErrorCode",
    "InvalidRecordError",
    "NotFoundError",
    "PermissionDeniedError",
    "RevisionNotReachedError",
    "RolegateError",
    "RateLimitedError",
    "RuleViolationError",
    "SchemaError",
    "TokenInvalidError",
    "LoginRequiredError",
    "SchemaProblem",
    "StoreUnavailableError",
    "UnknownActionError",
]


class ErrorCode(StrEnum):
    SCHEMA_INVALID = "schema_invalid"
    UNKNOWN_ACTION = "unknown_action"
    INVALID_RECORD = "invalid_record"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    RULE_VIOLATION = "rule_violation"
    REVISION_NOT_REACHED = "revision_not_reached"
    BAD_REQUEST = "bad_request"
    TOKEN_INVALID = "token_invalid"
    RATE_LIMITED = "rate_limited"
    STORE_UNAVAILABLE = "store_unavailable"
    LOGIN_REQUIRED = "login_required"
    ACTOR_REFUSED = "actor_refused"


class RolegateError(Exception):
    code: ErrorCode = ErrorCode.BAD_REQUEST

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} {self.fix}".strip()


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One problem of a product schema: where it is, what is wrong, and a hint."""

    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        return f"{text} ({self.hint})" if self.hint else text


class SchemaError(RolegateError):
    code = ErrorCode.SCHEMA_INVALID

    def __init__(self, problems: Sequence[SchemaProblem], *, source: str = "") -> None:
        self.problems = tuple(problems)
        self.source = source
        where = f" in {source}" if source else ""
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(
            f"{len(self.problems)} problem(s){where}:\n{lines}",
            fix="Fix each listed path; `rolegate schema validate FILE` re-checks it.",
        )


class UnknownActionError(RolegateError):
    code = ErrorCode.UNKNOWN_ACTION

    def __init__(self, action: str, suggestion: str | None = None) -> None:
        self.action = action
        hint = f"did you mean {suggestion!r}?" if suggestion else "declare it under `actions:`"
        super().__init__(f"unknown action {action!r}", fix=f"The product schema has no such action; {hint}")


class InvalidRecordError(RolegateError):
    code = ErrorCode.INVALID_RECORD


class PermissionDeniedError(RolegateError):
    code = ErrorCode.PERMISSION_DENIED

    def __init__(self, message: str, *, decision: object, fix: str = "", rule_id: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.decision = decision
        self.rule_id = rule_id


class NotFoundError(PermissionDeniedError):
    """Denied, and the member may not even see the record: do not reveal it exists."""

    code = ErrorCode.NOT_FOUND


class RevisionNotReachedError(RolegateError):
    """A read asked for a revision (its own write) that this database replica has not seen yet."""

    code = ErrorCode.REVISION_NOT_REACHED

    def __init__(self, workspace_id: str, current: int, wanted: int) -> None:
        super().__init__(
            f"workspace {workspace_id!r} is at revision {current} here, not yet {wanted}",
            fix="Retry shortly: the write has not reached this database replica yet.",
        )
        self.current = current
        self.wanted = wanted


class RuleViolationError(RolegateError):
    code = ErrorCode.RULE_VIOLATION

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        first = self.violations[0]
        super().__init__("; ".join(str(v) for v in self.violations), fix=first.fix)

    @property
    def rule_id(self) -> str:
        return self.violations[0].rule_id


class TokenInvalidError(RolegateError):
    """A link's token (invitation, password reset) that is unknown, already used,
    revoked or expired: single-use secrets never work twice."""

    code = ErrorCode.TOKEN_INVALID


class LoginRequiredError(RolegateError):
    """An invitation addressed to an identity someone already uses: the link alone is
    not enough (it may have been read by someone else); that person must be logged in."""

    code = ErrorCode.LOGIN_REQUIRED

    def __init__(self, message: str, *, email: str, fix: str = "") -> None:
        super().__init__(message, fix=fix)
        self.email = email


class ActorRefusedError(RolegateError):
    """A door named an acting party who may not act in this workspace: no member of it
    (whether they exist elsewhere or nowhere: the two are never told apart), not a site
    administrator of its organization, or a disabled member. Refused before any use
    case runs, so nothing is written or audited under that name. `rule_id` is E1 when
    the name was a site administrator's (it depends on the name's form only)."""

    code = ErrorCode.ACTOR_REFUSED

    def __init__(self, message: str, *, fix: str = "", rule_id: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.rule_id = rule_id


class RateLimitedError(RolegateError):
    """Too many attempts from one account or one address; retry after `retry_after` seconds."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: int, fix: str = "") -> None:
        super().__init__(message, fix=fix or f"Wait {retry_after} seconds, then try again.")
        self.retry_after = retry_after


class StoreUnavailableError(RolegateError):
    """The database cannot be reached (refused, dropped, restarting, timed out): the
    request was not carried out, or could not be answered from what this process
    holds. Transient by nature; `kind` names the failure for logs (one line per kind),
    `retry_after` says when to try again."""

    code = ErrorCode.STORE_UNAVAILABLE

    def __init__(self, kind: str, *, retry_after: int = 2, detail: str = "") -> None:
        super().__init__(
            f"the database is unreachable ({kind}){': ' + detail if detail else ''}; the request could not be completed",
            fix=f"Retry after {retry_after} seconds (a change cut off while committing may have been applied: read it back before repeating it).",
        )
        self.kind = kind
        self.retry_after = retry_after
