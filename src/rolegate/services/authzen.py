"""OpenID AuthZEN Authorization API 1.0 over a workspace's snapshot.

AuthZEN speaks of a subject, an action and a resource; Rolegate of a member, an action
of the product schema and a record:

- subject `{type: "user", id}`: `id` is a member id, or the email address of the
  member's user (case-insensitive). Any other type, or an id that names no member of
  the workspace, is denied (never an error: a PEP learns nothing about who exists).
  Emails are resolved through a `Directory` read once per workspace revision, so a
  decision reads no more of the database than `/check` does.
- action `{name}`: an action of the schema; an unknown one is `unknown_action`.
- resource `{type, id}`: the record `(type, id)` of the record index when the action
  is on that object type (its scope `assigned` is "own"); an action on no object
  ignores the resource. `properties` (e.g. the Todo interop's `ownerID`) are not
  trusted: who owns a record is what the host last wrote to the record index.

Everything here is pure but for the record index the snapshot reads (record-level
checks) and `load_directory` / `search_resources`, which read the store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Generic, TypeVar

from rolegate.domain.errors import InvalidRecordError, RolegateError, StoreUnavailableError
from rolegate.domain.roles import MemberStatus
from rolegate.engine import Decision, RecordRef, Snapshot
from rolegate.services.assignments import visible_records
from rolegate.services.availability import UNAVAILABLE_ERRORS
from rolegate.store.uow import UnitOfWork

__all__ = [
    "DEFAULT_PAGE",
    "DIRECTORY_TTL",
    "USER",
    "Directory",
    "Evaluation",
    "Outcome",
    "Page",
    "Subjects",
    "evaluate",
    "evaluate_all",
    "evaluate_in_memory",
    "load_directory",
    "needs_records",
    "search_actions",
    "search_resources",
    "search_subjects",
]

T = TypeVar("T")

USER = "user"
"""The one subject type: a member of the workspace."""

DEFAULT_PAGE = 100
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Directory:
    """The workspace's members by email, at one revision."""

    revision: int
    by_email: Mapping[str, str]
    members: tuple[tuple[str, str, MemberStatus], ...]
    """(member id, email, status) in the order the members were added."""

    def member(self, subject_type: str, subject_id: str) -> str | None:
        if subject_type != USER:
            return None
        return self.by_email.get(subject_id.lower(), subject_id) if "@" in subject_id else subject_id


def load_directory(uow: UnitOfWork, *, workspace_id: str) -> Directory:
    """The members and their emails, with the revision read in the same transaction."""
    with uow:
        revision = int(uow.workspaces.revision(workspace_id) or 0)
        infos = uow.members.all(workspace_id)
    members = tuple((i.member.id, i.email, i.member.status) for i in infos)
    return Directory(revision, MappingProxyType({email.lower(): mid for mid, email, _ in members}), members)


UNREACHABLE: tuple[type[Exception], ...] = (StoreUnavailableError, *UNAVAILABLE_ERRORS)

DIRECTORY_TTL = 10.0
"""Seconds a directory serves without reading again: a user's email changes without a
revision of the workspaces they belong to."""


class Subjects:
    """The newest `Directory` of each workspace this process has read (bounded). A
    directory serves a snapshot at its revision or an older one for `ttl` seconds; a
    newer snapshot means the members may have changed, and the caller reads the
    directory again (keeping the last one to answer while the store is unreachable)."""

    def __init__(
        self, max_workspaces: int = 10_000, ttl: float = DIRECTORY_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max_workspaces
        self._ttl = ttl
        self._clock = clock
        self._held: dict[str, tuple[Directory, float]] = {}
        self._lock = threading.Lock()
        self._stripes = tuple(threading.Lock() for _ in range(64))  # bounded, whatever the number of workspaces

    def current(self, workspace_id: str, revision: int) -> Directory | None:
        held = self._held.get(workspace_id)
        if held is None or held[0].revision < revision or self._clock() - held[1] > self._ttl:
            return None
        return held[0]

    def last(self, workspace_id: str) -> Directory | None:
        """The directory last read, however old: for answers while the store is down."""
        held = self._held.get(workspace_id)
        return held[0] if held is not None else None

    def get(self, workspace_id: str, revision: int, load: Callable[[], Directory]) -> Directory:
        """The current directory, read with `load` when there is none: once at a time
        per workspace (the requests that arrive meanwhile wait for that read, not
        each its own); while the store is unreachable, the last one read."""
        with self._stripes[hash(workspace_id) % len(self._stripes)]:
            found = self.current(workspace_id, revision)
            if found is not None:
                return found
            try:
                loaded = load()
            except UNREACHABLE:
                last = self.last(workspace_id)
                if last is None:
                    raise
                return last  # the snapshot decides from its cache meanwhile: so do emails
            return self.remember(workspace_id, loaded)

    def remember(self, workspace_id: str, directory: Directory) -> Directory:
        with self._lock:
            if workspace_id not in self._held and len(self._held) >= self._max:
                del self._held[next(iter(self._held))]
            self._held[workspace_id] = (directory, self._clock())
        return directory


def needs_records(snap: Snapshot, member: str | None, action: str) -> bool:
    """Whether deciding reads the record index (so the door runs it off the event loop)."""
    if member is None:
        return False
    return bool(snap.check(member, action).plan)


def evaluate(snap: Snapshot, member: str | None, action: str, resource_type: str, resource_id: str) -> bool:
    """One AuthZEN decision. Raises `UnknownActionError` for an action the schema lacks
    and `InvalidRecordError` for a resource of another type than the action's object.
    May read the record index (a worker thread)."""
    allowed = _evaluate(snap, member, action, resource_type, resource_id, snap.check)
    assert allowed is not None  # `check` always decides
    return allowed


def evaluate_in_memory(snap: Snapshot, member: str | None, action: str, resource_type: str, resource_id: str) -> bool | None:
    """`evaluate` without I/O (on the event loop): None when a record it needs is not in
    memory (then `evaluate`, in a worker thread)."""
    return _evaluate(snap, member, action, resource_type, resource_id, snap.check_in_memory)


def _evaluate(
    snap: Snapshot, member: str | None, action: str, resource_type: str, resource_id: str, on_record: Callable[[str, str, RecordRef], Decision | None]
) -> bool | None:
    if member is None:
        snap.check("", action)  # an unknown action is an error whoever asks
        return False
    decision = snap.check(member, action)
    if decision.object_type is None:
        return decision.allowed
    if resource_type != decision.object_type:
        raise InvalidRecordError(
            f"action {action!r} is on {decision.object_type!r} resources, not on {resource_type!r}",
            fix=f"Send a resource of type {decision.object_type!r}.",
        )
    if not decision.allowed or not decision.plan:
        return decision.allowed
    on_record_decision = on_record(member, action, RecordRef(resource_type, resource_id))
    return None if on_record_decision is None else on_record_decision.allowed


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One evaluation of a batch, its defaults applied; `member` None: no member."""

    member: str | None
    action: str
    resource_type: str
    resource_id: str


Outcome = bool | RolegateError
"""A decision, or the error of that evaluation alone (the batch still answers)."""


def evaluate_all(snap: Snapshot, items: Sequence[Evaluation], semantic: str = "execute_all") -> list[Outcome]:
    """The batch in order, per `options.evaluations_semantic`: `deny_on_first_deny`
    stops after the first denial or error, `permit_on_first_permit` after the first
    permit; the answer lists the evaluations made."""
    stop_on: bool | None = {"deny_on_first_deny": False, "permit_on_first_permit": True}.get(semantic)
    out: list[Outcome] = []
    for item in items:
        outcome: Outcome
        try:
            outcome = evaluate(snap, item.member, item.action, item.resource_type, item.resource_id)
        except RolegateError as exc:
            outcome = exc
        out.append(outcome)
        if stop_on is not None and (outcome is stop_on or (stop_on is False and not isinstance(outcome, bool))):
            break
    return out


# -- search ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_token: str
    """Empty when nothing follows (the specification's end of the result set)."""


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12]


def _offset(token: str | None, fingerprint: str) -> int:
    """Where a page token continues; a token of another query is refused (400)."""
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        tag, _, number = text.partition(":")
        offset = int(number)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        offset, tag = -1, ""
    if tag != fingerprint or offset < 0:
        raise RolegateError(
            "the page token is not one this search returned",
            fix="Send the request of the previous page unchanged, with its `next_token`.",
        )
    return offset


def _token(fingerprint: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{fingerprint}:{offset}".encode()).decode().rstrip("=")


def _size(limit: int | None) -> int:
    return DEFAULT_PAGE if not limit else min(limit, MAX_PAGE)


def search_subjects(
    snap: Snapshot,
    directory: Directory,
    *,
    subject_type: str,
    action: str,
    resource_type: str,
    resource_id: str,
    token: str | None = None,
    limit: int | None = None,
) -> Page[str]:
    """The ids of the active members who may `action` the resource, in the order they
    were added (never their emails: a decide key reads no one's personal data)."""
    fingerprint = _fingerprint("subject", subject_type, action, resource_type, resource_id)
    start = _offset(token, fingerprint)
    if subject_type != USER:
        evaluate(snap, None, action, resource_type, resource_id)  # errors as for an evaluation
        return Page((), "")
    allowed = [
        mid
        for mid, _email, status in directory.members
        if status is MemberStatus.ACTIVE and evaluate(snap, mid, action, resource_type, resource_id)
    ]
    end = start + _size(limit)
    return Page(tuple(allowed[start:end]), _token(fingerprint, end) if end < len(allowed) else "")


def search_actions(
    snap: Snapshot,
    member: str | None,
    *,
    resource_type: str,
    resource_id: str,
    token: str | None = None,
    limit: int | None = None,
) -> Page[str]:
    """The actions on `resource_type` the member may do on the resource, in the
    schema's order. A resource type that is no object of the schema stands for the
    workspace itself: the actions on no object."""
    fingerprint = _fingerprint("action", member or "", resource_type, resource_id)
    start = _offset(token, fingerprint)
    on = resource_type if resource_type in snap.schema.objects else None
    names = [a.key for a in snap.schema.actions.values() if a.object_type == on]
    allowed = [name for name in names if evaluate(snap, member, name, on or resource_type, resource_id)]
    end = start + _size(limit)
    return Page(tuple(allowed[start:end]), _token(fingerprint, end) if end < len(allowed) else "")


def search_resources(
    uow: UnitOfWork,
    snap: Snapshot,
    *,
    workspace_id: str,
    member: str | None,
    action: str,
    resource_type: str,
    token: str | None = None,
    limit: int | None = None,
) -> Page[str]:
    """The ids of the `resource_type` records the member may `action`, in id order,
    from the record index (`lookup`'s filter applied in SQL)."""
    decision = snap.check(member or "", action)
    if decision.object_type != resource_type:
        raise InvalidRecordError(
            f"action {action!r} is on {decision.object_type or 'no object'}, not on {resource_type!r}",
            fix="Search the resource type of the action.",
        )
    if member is None:
        return Page((), "")
    page = visible_records(
        uow,
        snap,
        workspace_id=workspace_id,
        member=member,
        action=action,
        object_type=resource_type,
        cursor=token or None,
        limit=_size(limit),
    )
    return Page(page.ids, page.next_cursor or "")
