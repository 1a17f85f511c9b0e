"""Errors raised by Rolegate, and the one table of problem types.

The tree (HTTP status and problem code of each class; a subclass keeps its parent's
unless it says otherwise)::

    RolegateError                     400 bad_request      base of everything Rolegate raises on purpose
    ├── InvalidInputError             422 invalid_input    input that does not fit the product schema
    │   ├── SchemaError               422 schema_invalid   a product schema has problems (all of them listed)
    │   ├── UnknownActionError        422 unknown_action   an action the product schema does not declare
    │   └── InvalidRecordError        422 invalid_record   a record that does not fit the action or the schema
    ├── ForbiddenError                403 forbidden        the acting party may not do this
    │   ├── PermissionDeniedError     403 permission_denied  `require` on a denied decision (carries the
    │   │   │                                            Decision), or an actor without the admin right (rule_id)
    │   │   └── NotFoundError         404 not_found        no such thing, or not for this caller: never told apart
    │   │       └── HiddenRecordError 404 not_found        denied, and the member may not even see the record
    │   ├── ActorRefusedError         403 actor_refused    the named acting party is no member of the workspace
    │   │                                                  (nor a site administrator of its organization), or disabled
    │   └── LoginRequiredError        403 login_required   an invitation for an existing login, not logged in as it
    ├── ConflictError                 409 conflict         the change does not fit the workspace's current state
    │   ├── RuleViolationError        409 rule_violation   a change refused by one or more rules (Violations)
    │   └── RevisionNotReachedError   409 revision_not_reached  `min_revision` newer than this database has yet
    ├── TokenInvalidError             410 token_invalid    a link's token unknown, used, revoked or expired
    ├── FeedResyncError               410 feed_resync      a change feed cursor older than the oldest kept change
    ├── RateLimitedError              429 rate_limited     too many login or reset attempts (carries retry_after)
    └── UnavailableError              503 unavailable      Rolegate cannot answer now (carries retry_after)
        └── StoreUnavailableError     503 store_unavailable  the database cannot be reached (carries kind)

Every error says what to do instead (`fix`) and carries what refused it as data:
`rule_id` (the refusing rule, or None), `violations` (each rule that refused a change),
`retry_after` (seconds, or None). No door parses any of them out of a message.

`PROBLEM_TYPES` is the one table from problem code to HTTP status and title: the
classes above, and the problems of the doors' frameworks (`FrameworkProblem`: API
keys, request validation, HTTP methods, body limits, CSRF). The API
(`api/problems.py`) and the admin UI (`web/errors.py`) both read it; `docs/errors.md`
lists every code in it (`tests/api/test_errors_doc.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from rolegate.domain.words import count_of, duration_of

if TYPE_CHECKING:
    from rolegate.domain.violations import Violation

__all__ = [
    "PROBLEM_TYPES",
    "ActorRefusedError",
    "ConflictError",
    "ErrorCode",
    "FeedResyncError",
    "ForbiddenError",
    "FrameworkProblem",
    "HiddenRecordError",
    "InvalidInputError",
    "InvalidRecordError",
    "LoginRequiredError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProblemType",
    "RateLimitedError",
    "RevisionNotReachedError",
    "RolegateError",
    "RuleViolationError",
    "SchemaError",
    "SchemaProblem",
    "StoreUnavailableError",
    "TokenInvalidError",
    "UnavailableError",
    "UnknownActionError",
    "http_problem",
]


class ErrorCode(StrEnum):
    SCHEMA_INVALID = "schema_invalid"
    UNKNOWN_ACTION = "unknown_action"
    INVALID_RECORD = "invalid_record"
    INVALID_INPUT = "invalid_input"
    FORBIDDEN = "forbidden"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    RULE_VIOLATION = "rule_violation"
    REVISION_NOT_REACHED = "revision_not_reached"
    BAD_REQUEST = "bad_request"
    TOKEN_INVALID = "token_invalid"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    STORE_UNAVAILABLE = "store_unavailable"
    LOGIN_REQUIRED = "login_required"
    ACTOR_REFUSED = "actor_refused"
    FEED_RESYNC = "feed_resync"


class FrameworkProblem(StrEnum):
    """Problem codes of the doors themselves, not of the domain: the API's keys and
    readiness, the HTTP framework's refusals, the admin UI's CSRF check."""

    UNAUTHENTICATED = "unauthenticated"
    KEY_FORBIDDEN = "key_forbidden"
    REQUEST_INVALID = "request_invalid"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    BODY_TOO_LARGE = "body_too_large"
    HTTP_ERROR = "http_error"
    INTERNAL_ERROR = "internal_error"
    NOT_READY = "not_ready"
    CSRF_FAILED = "csrf_failed"


class RolegateError(Exception):
    code: ClassVar[ErrorCode] = ErrorCode.BAD_REQUEST
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    # What refused, as data (the doors render these; none is ever parsed from the message).
    rule_id: str | None = None
    violations: tuple[Violation, ...] = ()
    retry_after: int | None = None

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        """What happened, then what to do: two sentences (the API's `detail`)."""
        if not self.fix:
            return self.message
        if not self.message:
            return self.fix
        end = "" if self.message.endswith((".", "!", "?", ":")) else "."
        return f"{self.message}{end} {self.fix}"


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One problem of a product schema: where it is, what is wrong, and a hint."""

    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        return f"{text} ({self.hint})" if self.hint else text


class InvalidInputError(RolegateError):
    """Input that does not fit the product schema or the record index."""

    code = ErrorCode.INVALID_INPUT
    status = 422
    title = "Invalid input"


class SchemaError(InvalidInputError):
    code = ErrorCode.SCHEMA_INVALID
    title = "Product schema problem"

    def __init__(self, problems: Sequence[SchemaProblem], *, source: str = "") -> None:
        self.problems = tuple(problems)
        self.source = source
        where = f" in {source}" if source else ""
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(
            f"{count_of(len(self.problems), 'problem')}{where}:\n{lines}",
            fix="Fix each listed path; `rolegate schema validate FILE` re-checks it.",
        )


class UnknownActionError(InvalidInputError):
    code = ErrorCode.UNKNOWN_ACTION
    title = "Unknown action"

    def __init__(self, action: str, suggestion: str | None = None) -> None:
        self.action = action
        super().__init__(
            f"unknown action {action!r}",
            fix=f"The product schema has no such action; did you mean {suggestion!r}?"
            if suggestion
            else "The product schema has no such action; declare it under `actions:`.",
        )


class InvalidRecordError(InvalidInputError):
    code = ErrorCode.INVALID_RECORD
    title = "Invalid record"


class ForbiddenError(RolegateError):
    """The acting party may not do this."""

    code = ErrorCode.FORBIDDEN
    status = 403
    title = "Forbidden"


class PermissionDeniedError(ForbiddenError):
    code = ErrorCode.PERMISSION_DENIED
    title = "Permission denied"

    def __init__(self, message: str, *, decision: object, fix: str = "", rule_id: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.decision = decision
        self.rule_id = rule_id


class NotFoundError(PermissionDeniedError):
    """No such thing, or none this caller may know of: the two are never told apart
    (a denial of what one may not see must not reveal that it exists)."""

    code = ErrorCode.NOT_FOUND
    status = 404
    title = "Not found"


class HiddenRecordError(NotFoundError):
    """Denied, and the member may not even see the record: answered as not found, and
    carries the Decision (the caller in process may still explain it)."""


class ActorRefusedError(ForbiddenError):
    """A door named an acting party who may not act in this workspace: no member of it
    (whether they exist elsewhere or nowhere: the two are never told apart), not a site
    administrator of its organization, or a disabled member. Refused before any use
    case runs, so nothing is written or audited under that name. `rule_id` is the
    workspace product's site rule (E1) when the name was a site administrator's, and
    none where that product states no such rule."""

    code = ErrorCode.ACTOR_REFUSED
    title = "Acting party refused"

    def __init__(self, message: str, *, fix: str = "", rule_id: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.rule_id = rule_id


class LoginRequiredError(ForbiddenError):
    """An invitation addressed to an identity someone already uses: the link alone is
    not enough (it may have been read by someone else); that person must be logged in."""

    code = ErrorCode.LOGIN_REQUIRED
    title = "Log in first"

    def __init__(self, message: str, *, email: str, fix: str = "") -> None:
        super().__init__(message, fix=fix)
        self.email = email


class ConflictError(RolegateError):
    """The change or read does not fit the workspace as it is now."""

    code = ErrorCode.CONFLICT
    status = 409
    title = "Conflict"


class RuleViolationError(ConflictError):
    code = ErrorCode.RULE_VIOLATION
    title = "Refused by a rule"

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        first = self.violations[0]
        self.rule_id = first.rule_id
        super().__init__("; ".join(str(v) for v in self.violations), fix=first.fix)


class RevisionNotReachedError(ConflictError):
    """A read asked for a revision (its own write) that this database replica has not seen yet."""

    code = ErrorCode.REVISION_NOT_REACHED
    title = "Revision not reached yet"

    def __init__(self, workspace_id: str, current: int, wanted: int) -> None:
        super().__init__(
            f"workspace {workspace_id!r} is at revision {current} here, not yet {wanted}",
            fix="Retry shortly: the write has not reached this database replica yet.",
        )
        self.current = current
        self.wanted = wanted


class TokenInvalidError(RolegateError):
    """A link's token (invitation, password reset) that is unknown, already used,
    revoked or expired: single-use secrets never work twice."""

    code = ErrorCode.TOKEN_INVALID
    status = 410
    title = "Link not valid"


class FeedResyncError(RolegateError):
    """A change feed cursor older than the oldest change still kept (the audit log was
    pruned past it): answering from there would skip changes silently. The consumer
    downloads the workspace's snapshot and resumes from its revision."""

    code = ErrorCode.FEED_RESYNC
    status = 410
    title = "Change feed must resync"

    def __init__(self, workspace_id: str, after: int, oldest: int) -> None:
        super().__init__(
            f"changes of workspace {workspace_id!r} after revision {after} are no longer all kept (the oldest kept change is at revision {oldest})",
            fix=f"Download the snapshot (GET /v1/workspaces/{workspace_id}/snapshot) and resume the feed from its revision.",
        )
        self.workspace_id = workspace_id
        self.after = after
        self.oldest = oldest


class RateLimitedError(RolegateError):
    """Too many attempts from one account or one address; retry after `retry_after` seconds."""

    code = ErrorCode.RATE_LIMITED
    status = 429
    title = "Too many attempts"
    retry_after: int

    def __init__(self, message: str, *, retry_after: int, fix: str = "") -> None:
        super().__init__(message, fix=fix or f"Wait {duration_of(retry_after)}, then try again.")
        self.retry_after = retry_after


class UnavailableError(RolegateError):
    """Rolegate cannot answer now; transient: retry after `retry_after` seconds."""

    code = ErrorCode.UNAVAILABLE
    status = 503
    title = "Unavailable"
    retry_after: int

    def __init__(self, message: str, *, retry_after: int = 2, fix: str = "") -> None:
        super().__init__(message, fix=fix or f"Retry after {duration_of(retry_after)}.")
        self.retry_after = retry_after


class StoreUnavailableError(UnavailableError):
    """The database cannot be reached (refused, dropped, restarting, timed out): the
    request was not carried out, or could not be answered from what this process
    holds. Transient by nature; `kind` names the failure for logs (one line per kind),
    `retry_after` says when to try again."""

    code = ErrorCode.STORE_UNAVAILABLE
    title = "Database unavailable"

    def __init__(self, kind: str, *, retry_after: int = 2, detail: str = "") -> None:
        super().__init__(
            f"the database is unreachable ({kind}){': ' + detail if detail else ''}; the request could not be completed",
            retry_after=retry_after,
            fix=f"Retry after {duration_of(retry_after)} (a change cut off while committing may have been applied: read it back before repeating it).",
        )
        self.kind = kind


# -- the table -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProblemType:
    """A problem code, the HTTP status it is answered with (None: the status of the
    HTTP error itself), and its title (the code in words)."""

    code: str
    status: int | None
    title: str


_FRAMEWORK: tuple[ProblemType, ...] = (
    ProblemType(FrameworkProblem.UNAUTHENTICATED.value, 401, "API key missing or invalid"),
    ProblemType(FrameworkProblem.KEY_FORBIDDEN.value, 403, "API key may not do this"),
    ProblemType(FrameworkProblem.REQUEST_INVALID.value, 422, "Invalid request"),
    ProblemType(FrameworkProblem.METHOD_NOT_ALLOWED.value, 405, "Method not allowed"),
    ProblemType(FrameworkProblem.BODY_TOO_LARGE.value, 413, "Request body too large"),
    ProblemType(FrameworkProblem.HTTP_ERROR.value, None, "HTTP error"),
    ProblemType(FrameworkProblem.INTERNAL_ERROR.value, 500, "Internal error"),
    ProblemType(FrameworkProblem.NOT_READY.value, 503, "Not ready"),
    ProblemType(FrameworkProblem.CSRF_FAILED.value, 403, "The form could not be checked"),
)


def _error_classes(cls: type[RolegateError] = RolegateError) -> Iterator[type[RolegateError]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _error_classes(sub)


def _table() -> dict[str, ProblemType]:
    table: dict[str, ProblemType] = {}
    for cls in _error_classes():
        kind = ProblemType(cls.code.value, cls.status, cls.title)
        # Classes sharing a code (NotFoundError, HiddenRecordError) answer alike: the
        # first (the parent) stands for them; tests/api/test_errors_doc.py checks the rest.
        table.setdefault(kind.code, kind)
    for kind in _FRAMEWORK:
        table[kind.code] = kind
    return table


PROBLEM_TYPES: Mapping[str, ProblemType] = _table()
"""Every problem code Rolegate answers with: its HTTP status and title."""

_HTTP_CODES: Mapping[int, str] = {
    404: ErrorCode.NOT_FOUND,
    405: FrameworkProblem.METHOD_NOT_ALLOWED,
    413: FrameworkProblem.BODY_TOO_LARGE,
}


def http_problem(status: int) -> ProblemType:
    """The problem for an HTTP framework's own error (no route, wrong method, body too
    large, anything else: `http_error` with its status)."""
    kind = PROBLEM_TYPES[_HTTP_CODES.get(status, FrameworkProblem.HTTP_ERROR)]
    return ProblemType(kind.code, status, kind.title)
