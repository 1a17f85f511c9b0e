"""What routes receive: the authenticated API key, the workspace it reaches, the acting
member, and a unit of work that reports the revision its commit made. The only module
that uses FastAPI's `Depends`.

Authentication is on the hot path of every decision, so both lookups it needs are
cached in memory: a key for `KEY_TTL` seconds after it was last read from the store,
and a workspace's organization for as long as the process lives (it never changes).
A key that fails is never cached, so a new key works at once; a revoked key stops
working within `KEY_TTL` while the database is reachable.

While it is not, a key verified before keeps working for at most the outage bound
(`ROLEGATE_MAX_OUTAGE_MS`) after it was last verified, and the store is asked again
once per key per staleness interval, not on every request; a key never verified
here gets 503 (it cannot be checked), never 401. At most `MAX_KEYS` keys are held
(the oldest verified goes first), so a flood of keys cannot grow the process.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

from fastapi import Depends, Header, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from rolegate.api.problems import ApiError, ApiProblem
from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import NotFoundError, StoreUnavailableError
from rolegate.domain.paging import CURSOR_PATTERN, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from rolegate.domain.rules.directory_rules import directory_actor
from rolegate.domain.workspace import Actor
from rolegate.services.actors import acting_party, acting_party_held
from rolegate.services.api_keys import ApiKeyRow, KeyRight, authenticate, organization_of, reaches
from rolegate.services.commands import NO_NUL
from rolegate.services.context import UnitOfWork
from rolegate.services.workspaces import workspace_revision

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "KEY_TTL",
    "PageCursor",
    "PageLimit",
    "PUBLIC_OPERATION",
    "AdminAccess",
    "AnyAccess",
    "DecideAccess",
    "PlatformAccess",
    "ScimAccess",
    "ScimContext",
    "Access",
    "AdminContext",
    "Auth",
    "Caller",
    "Platform",
    "Writes",
    "authenticated",
]

PUBLIC_OPERATION: Final[dict[str, Any]] = {"security": []}
"""`openapi_extra` of a route anyone may call: its document asks for no API key."""

KEY_TTL = 10.0
MAX_KEYS = 10_000

WorkspaceIdParam = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL, description="The workspace id.")]


class _Verified:
    """A key the store accepted at `verified_at`; trusted without asking until `until`."""

    __slots__ = ("row", "until", "verified_at")

    def __init__(self, row: ApiKeyRow, verified_at: float, until: float) -> None:
        self.row = row
        self.verified_at = verified_at
        self.until = until


class Auth:
    """API key and workspace -> organization lookups, cached; one per app."""

    def __init__(
        self,
        rolegate: Rolegate,
        *,
        key_ttl: float = KEY_TTL,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rolegate = rolegate
        self.key_ttl = key_ttl
        self.max_keys = max_keys
        self.max_outage = rolegate.settings.max_outage_ms / 1000
        self.retry_every = rolegate.settings.max_staleness_ms / 1000
        self._clock = clock
        self._keys: dict[bytes, _Verified] = {}
        self._orgs: dict[str, str] = {}
        self._lock = threading.Lock()

    async def key(self, token: str) -> ApiKeyRow | None:
        digest = hashlib.sha256(token.encode()).digest()
        hit = self._keys.get(digest)
        now = self._clock()
        if hit is not None and hit.until > now:
            return hit.row
        try:
            row = await run_in_threadpool(self._authenticate, token)
        except StoreUnavailableError:
            if hit is None or now - hit.verified_at > self.max_outage:
                raise
            hit.until = min(
                now + self.retry_every, hit.verified_at + self.max_outage
            )  # ask again next interval, not per request
            return hit.row
        with self._lock:
            self._keys.pop(digest, None)  # re-inserted last: the dict's order is the order of verification
            if row is not None:
                while len(self._keys) >= self.max_keys:
                    del self._keys[next(iter(self._keys))]
                self._keys[digest] = _Verified(row, now, now + self.key_ttl)
        return row

    def cached_key(self, token: str) -> ApiKeyRow | None:
        """The key if it was verified within its TTL, else None (then `key`): the
        decisions' fast path (`api.fast`), no I/O and no await."""
        hit = self._keys.get(hashlib.sha256(token.encode()).digest())
        if hit is not None and hit.until > self._clock():
            return hit.row
        return None

    def cached_reach(self, key: ApiKeyRow, workspace_id: str) -> bool:
        """True when `key` is known to reach the workspace without asking the store;
        False means "ask" (`_reach`), not "refused"."""
        if key.workspace_id is not None:
            return key.workspace_id == workspace_id
        org = self._orgs.get(workspace_id)
        return org is not None and reaches(key, organization_id=org, workspace_id=workspace_id)

    def _authenticate(self, token: str) -> ApiKeyRow | None:
        return authenticate(self.rolegate.reader(), token)

    async def organization_of(self, workspace_id: str) -> str | None:
        org = self._orgs.get(workspace_id)
        if org is None:
            org = await run_in_threadpool(self._load_org, workspace_id)
        return org

    def _load_org(self, workspace_id: str) -> str | None:
        org = organization_of(self.rolegate.reader(), workspace_id)
        if org is None:
            return None
        with self._lock:
            if len(self._orgs) > 100_000:
                self._orgs.clear()
            self._orgs[workspace_id] = org
        return org


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated API key."""

    auth: Auth
    key: ApiKeyRow


async def authenticated(request: Request) -> Caller:
    """The caller's API key (`Authorization: Bearer ...`), else 401. A dependency without
    parameters, so it runs (and refuses) before any parameter is validated; `async`, as
    FastAPI runs a plain `def` dependency in the thread pool, a hop per request. The
    OpenAPI security scheme is declared by `app.py`."""
    auth: Auth = request.app.state.auth
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            ApiProblem.UNAUTHENTICATED,
            401,
            "Send an API key: `Authorization: Bearer rg_<prefix>_<secret>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    row = await auth.key(token.strip())
    if row is None:
        raise ApiError(
            ApiProblem.UNAUTHENTICATED,
            401,
            "This API key is not valid (malformed, unknown or revoked). Check it, or create a new one.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return Caller(auth, row)


def _require(key: ApiKeyRow, right: KeyRight) -> None:
    if right.value not in key.rights:
        raise ApiError(
            ApiProblem.KEY_FORBIDDEN,
            403,
            f"This API key lacks the {right.value!r} right. Use a key with {right.value!r} (keys have `decide`, `admin` and/or `scim`).",
        )


@dataclass(frozen=True, slots=True)
class Access:
    """An API key that reaches one workspace."""

    rolegate: Rolegate
    key: ApiKeyRow
    workspace_id: str


async def _reach(auth: Auth, key: ApiKeyRow, workspace_id: str) -> Access:
    """404 for a workspace the key does not reach, exactly as for one that does not
    exist: a key never learns about other tenants."""
    if key.workspace_id is not None:
        ok = key.workspace_id == workspace_id  # the key's own workspace exists (keys cascade with it)
    else:
        org = await auth.organization_of(workspace_id)
        ok = org is not None and reaches(key, organization_id=org, workspace_id=workspace_id)
    if not ok:
        raise NotFoundError(
            f"no workspace {workspace_id!r}",
            decision=None,
            fix="Check the workspace id and that your API key covers it.",
        )
    return Access(auth.rolegate, key, workspace_id)


async def reach(caller: Caller, workspace_id: str) -> Access:
    """Another workspace the same key must reach (copying across a site): 404 if not."""
    return await _reach(caller.auth, caller.key, workspace_id)


async def any_access(caller: Annotated[Caller, Depends(authenticated)], workspace_id: WorkspaceIdParam) -> Access:
    return await _reach(caller.auth, caller.key, workspace_id)


async def decide_access(caller: Annotated[Caller, Depends(authenticated)], workspace_id: WorkspaceIdParam) -> Access:
    _require(caller.key, KeyRight.DECIDE)
    return await _reach(caller.auth, caller.key, workspace_id)


@dataclass(slots=True)
class Writes:
    """Units of work whose commits report the revision they made, so a route can
    return it (the client passes it back as `min_revision`)."""

    rolegate: Rolegate
    workspace_id: str
    revision: int | None = field(default=None)

    def uow(self, *, batched: bool = False) -> UnitOfWork:
        """`batched`: the service changes this workspace alone and commits once, last:
        its unit may share the transaction of the workspace's other queued writes
        (`store.write_batches`)."""
        snapshots = self.rolegate.snapshots
        batches = self.rolegate.write_batches
        return UnitOfWork(
            self.rolegate.engine,
            on_revision=self._committed,
            on_pending=snapshots.expect,
            on_mail=self.rolegate.wake_mail,
            gate=batches.gate(self.workspace_id) if batched and batches is not None else None,
        )

    def _committed(self, workspace_id: str, revision: int) -> None:
        self.rolegate.snapshots.committed(workspace_id, revision)
        if workspace_id == self.workspace_id and (self.revision is None or revision > self.revision):
            self.revision = revision

    def current_revision(self) -> int:
        """The revision this request's last commit made; the workspace's own when the
        request changed nothing (an idempotent repeat)."""
        if self.revision is not None:
            return self.revision
        return workspace_revision(self.rolegate.reader(), workspace_id=self.workspace_id)


@dataclass(frozen=True, slots=True)
class AdminContext:
    """An admin call on one workspace: the key, the acting member, and writes."""

    access: Access
    actor: Actor
    writes: Writes

    @property
    def workspace_id(self) -> str:
        return self.access.workspace_id

    @property
    def rolegate(self) -> Rolegate:
        return self.access.rolegate

    def uow(self, *, batched: bool = False) -> UnitOfWork:
        return self.writes.uow(batched=batched)

    def reader(self) -> UnitOfWork:
        """A unit of work for a read use case (SQLite: no write lock)."""
        return self.access.rolegate.reader()

    def revision(self) -> int:
        return self.writes.current_revision()


async def admin_context(
    caller: Annotated[Caller, Depends(authenticated)],
    workspace_id: WorkspaceIdParam,
    actor: Annotated[
        str,
        Header(
            alias="Rolegate-Actor",
            min_length=1,
            max_length=47,
            pattern=NO_NUL,
            description=(
                "The id of the member on whose behalf the call is made; the workspace's preset authorizes them (N12, C1, K13, T10, E7). "
                "Or `site-admin:<user id>`: a site administrator, who holds every admin right in each workspace of their site (E1). "
                "Anyone else (a member of another workspace, an unknown id, a disabled member) is refused: 403 `actor_refused`."
            ),
        ),
    ],
) -> AdminContext:
    """The one place an admin call's acting party is resolved: the key must reach the
    workspace (else 404), the header must be well formed (else 422 `request_invalid`),
    and the party must be who may act there (`services.actors.acting_party`, else 403
    `actor_refused`), all before the route runs a use case."""
    _require(caller.key, KeyRight.ADMIN)
    access = await _reach(caller.auth, caller.key, workspace_id)
    claimed = actor_from_header(actor)
    rolegate = caller.auth.rolegate
    acting = acting_party_held(rolegate.snapshots, workspace_id=workspace_id, claimed=claimed)
    if acting is None:
        acting = await run_in_threadpool(lambda: acting_party(rolegate.reader(), workspace_id=workspace_id, claimed=claimed))
    return AdminContext(access, acting, Writes(rolegate, workspace_id))


SITE_ADMIN_PREFIX = "site-admin:"
_MALFORMED = "Rolegate-Actor is a member id (36 characters at most) or `site-admin:<user id>` (a user id of 36 characters at most)."


def actor_from_header(value: str) -> Actor:
    """`Rolegate-Actor` parsed: a member id, or `site-admin:<user id>` (E1). Only its
    form is checked here (422); who it names is `acting_party`'s to check."""
    if value.startswith(SITE_ADMIN_PREFIX):
        user_id = value[len(SITE_ADMIN_PREFIX) :]
        if not user_id or len(user_id) > 36:
            raise ApiError(ApiProblem.REQUEST_INVALID, 422, _MALFORMED)
        return Actor.site_admin(user_id)
    if len(value) > 36:
        raise ApiError(ApiProblem.REQUEST_INVALID, 422, _MALFORMED)
    return Actor.member(value)


@dataclass(frozen=True, slots=True)
class Platform:
    """A platform call (creating workspaces): an organization-wide admin key, no member."""

    rolegate: Rolegate
    key: ApiKeyRow

    @property
    def actor(self) -> Actor:
        return Actor.system(f"api-key:{self.key.prefix}")


async def platform_access(caller: Annotated[Caller, Depends(authenticated)]) -> Platform:
    key = caller.key
    _require(key, KeyRight.ADMIN)
    if key.workspace_id is not None:
        raise ApiError(
            ApiProblem.KEY_FORBIDDEN,
            403,
            "This API key is scoped to one workspace; creating workspaces needs an organization-wide admin key.",
        )
    return Platform(caller.auth.rolegate, key)


CallerAccess = Annotated[Caller, Depends(authenticated)]
"""The authenticated key itself (FastAPI runs `authenticated` once per request)."""
AnyAccess = Annotated[Access, Depends(any_access)]
"""Any key (decide or admin) that reaches the workspace."""
DecideAccess = Annotated[Access, Depends(decide_access)]
AdminAccess = Annotated[AdminContext, Depends(admin_context)]
PlatformAccess = Annotated[Platform, Depends(platform_access)]


@dataclass(frozen=True, slots=True)
class PlatformWorkspace:
    """A platform call on one workspace (billing: features, seat capacities)."""

    platform: Platform
    access: Access
    writes: Writes


async def platform_workspace_access(
    caller: Annotated[Caller, Depends(authenticated)], workspace_id: WorkspaceIdParam
) -> PlatformWorkspace:
    platform = await platform_access(caller)
    access = await _reach(caller.auth, caller.key, workspace_id)
    return PlatformWorkspace(platform, access, Writes(caller.auth.rolegate, workspace_id))


PlatformWorkspaceAccess = Annotated[PlatformWorkspace, Depends(platform_workspace_access)]


# A page of a list (members, roles, invitations): `limit` items after `cursor`, the
# `next_cursor` of the previous page (`domain.paging`).
PageLimit = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page (at most {MAX_PAGE_SIZE}).")
]
PageCursor = Annotated[
    str | None,
    Query(max_length=200, pattern=CURSOR_PATTERN, description="`next_cursor` of the previous page; leave it out for the first."),
]
@dataclass(frozen=True, slots=True)
class ScimContext:
    """A SCIM call (issue 17): a key with the `scim` right that reaches the workspace,
    acting as the directory (`platform:scim:<key prefix>` in the audit log)."""

    access: Access
    actor: Actor
    writes: Writes

    @property
    def workspace_id(self) -> str:
        return self.access.workspace_id

    def uow(self, *, batched: bool = False) -> UnitOfWork:
        return self.writes.uow(batched=batched)

    def reader(self) -> UnitOfWork:
        return self.access.rolegate.reader()


async def scim_access(caller: Annotated[Caller, Depends(authenticated)], workspace_id: WorkspaceIdParam) -> ScimContext:
    _require(caller.key, KeyRight.SCIM)
    access = await _reach(caller.auth, caller.key, workspace_id)
    return ScimContext(access, directory_actor(caller.key.prefix), Writes(caller.auth.rolegate, workspace_id))


ScimAccess = Annotated[ScimContext, Depends(scim_access)]
"""A key with the `scim` right on a workspace it reaches (else 403, 404)."""
