"""Decisions: check, check/batch, explain, fields/filter, lookup. Read-only, from the cached
snapshot of the workspace (`min_revision` to read one's own writes): no SQL on the way
except for record-level checks (the record index) and, once per new revision, the
snapshot's compilation.

These routes are `async`: a decision without a record is two dict lookups, so it runs
on the event loop; checks with records read the record index in the thread pool, and
so does a snapshot that must be revalidated (past the staleness bound, after a
reconnect) or loaded: that reads the database, which may be slow or gone, and the
loop keeps answering from the cache meanwhile.

While the database is unreachable the cached snapshot keeps deciding; such answers
carry `Rolegate-Stale: true`, `Rolegate-Revision` and `Rolegate-Stale-Age-Ms` (how long
since the database last confirmed that revision). Fresh answers carry none of them.
Bodies are rendered here, not through the response models (which document them): a
batch renders each distinct decision once (`_fragments`, held by the snapshot).

Each answer counts its decisions in `rolegate_decisions_total` (route, result) on
counter children bound at import: one increment per check, two per batch (its
allowed and denied totals, added up as it renders).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from rolegate.api.deps import Access, DecideAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.problems import rolegate_problem
from rolegate.api.schemas.decisions import (
    BatchCheckIn,
    BatchCheckOut,
    CheckIn,
    CheckOut,
    ExplainIn,
    ExplainOut,
    FieldsFilterIn,
    FieldsFilterOut,
    LookupIn,
    LookupOut,
    ReasonOut,
)
from rolegate.domain.errors import RolegateError
from rolegate.engine import Decision, RecordRef, Snapshot
from rolegate.metrics import DECISIONS, STALE_ANSWERS
from rolegate.services.explain import explain_decision
from rolegate.services.snapshots import SnapshotCache

router = APIRouter(prefix="/v1/workspaces/{workspace_id}", tags=["decisions"], route_class=ApiRoute)

_JSON = "application/json"

_CHECKED = {True: DECISIONS.labels("check", "allowed"), False: DECISIONS.labels("check", "denied")}
_BATCH_ALLOWED = DECISIONS.labels("check_batch", "allowed")
_BATCH_DENIED = DECISIONS.labels("check_batch", "denied")
_FILTERED = DECISIONS.labels("fields_filter", "filtered")
_LOOKED_UP = {op: DECISIONS.labels("lookup", op) for op in ("all", "none", "filtered")}


def _fragments(snap: Snapshot) -> dict[int, str]:
    """The JSON of the snapshot's decisions without their revision, by decision id,
    rendered once each: decisions without a record are built when the snapshot compiles
    and shared by every check (denials on records once per depth and relation), so a
    batch mostly joins ready strings. Held by the snapshot (`Snapshot.memo`), they go
    with it: a cache shared by every revision kept the decisions of old ones alive (the
    RSS growth under writes, issue 18)."""
    held: dict[int, str] | None = snap.memo.get("json")
    if held is None:
        held = snap.memo.setdefault("json", {})
    return held


def _fragment(held: dict[int, str], d: Decision) -> str:
    text = held.get(id(d))
    if text is None:
        text = held[id(d)] = render(d)
    return text


def render(d: Decision) -> str:
    return json.dumps(
        {
            "action": d.action,
            "allowed": d.allowed,
            "scope": d.scope.label,
            "reasons": [{"code": r.code.value, "message": r.message, "permission": r.permission, "rule": r.rule_id} for r in d.reasons],
        },
        separators=(",", ":"),
    )


def _with_revision(fragment: str, revision: int) -> str:
    return f'{fragment[:-1]},"revision":{revision}}}'


async def decision_snapshot(access: Access, min_revision: int | None) -> Snapshot:
    """The snapshot to decide on: the held one when it may decide now (no I/O, on the
    loop), else a revalidation or load in the thread pool, never on the event loop (a
    compile there would stall every other request)."""
    cache = access.rolegate.snapshots
    snap = cache.current(access.workspace_id, min_revision)
    if snap is None:
        snap = await run_in_threadpool(cache.get, access.workspace_id, min_revision=min_revision)
    return snap


def stale_headers(access: Access, snap: Snapshot) -> dict[str, str] | None:
    """What an answer from an unconfirmed snapshot says about itself (None when fresh)."""
    return stale_notice(access.rolegate.snapshots, access.workspace_id, snap)


def stale_notice(cache: SnapshotCache, workspace_id: str, snap: Snapshot) -> dict[str, str] | None:
    if not cache.degraded:
        return None
    age = cache.unconfirmed_for(workspace_id)
    if age is None:
        return None
    STALE_ANSWERS.inc()
    return {"Rolegate-Stale": "true", "Rolegate-Revision": str(snap.revision), "Rolegate-Stale-Age-Ms": str(int(age * 1000))}


def decide_one(snap: Snapshot, body: CheckIn) -> bytes:
    """The answer of `/check` without a record, from the pre-rendered decision."""
    decision = snap.check(body.member, body.action)
    _CHECKED[decision.allowed].inc()
    return _checked_body(snap, decision)


def decide_record(snap: Snapshot, body: CheckIn) -> bytes:
    """The answer of `/check` on a record (may read the record index: a worker thread)."""
    assert body.record is not None
    decision = snap.check(body.member, body.action, RecordRef(body.record.type, body.record.id))
    _CHECKED[decision.allowed].inc()
    return _checked_body(snap, decision)


def decide_record_in_memory(snap: Snapshot, body: CheckIn) -> bytes | None:
    """`decide_record` when the records it needs are in memory (on the event loop);
    None when they must be read (then `decide_record`, in a worker thread)."""
    assert body.record is not None
    decision = snap.check_in_memory(body.member, body.action, RecordRef(body.record.type, body.record.id))
    if decision is None:
        return None
    _CHECKED[decision.allowed].inc()
    return _checked_body(snap, decision)


def _checked_body(snap: Snapshot, d: Decision) -> bytes:
    """The whole body of a `/check` answer on one of the snapshot's decisions, encoded
    once (`Snapshot.memo`, as `_fragments`): a repeated check sends the same bytes."""
    bodies: dict[int, bytes] | None = snap.memo.get("check")
    if bodies is None:
        bodies = snap.memo.setdefault("check", {})
    body = bodies.get(id(d))
    if body is None:
        body = bodies[id(d)] = _with_revision(_fragment(_fragments(snap), d), d.revision).encode()
    return body


@router.post("/check", response_model=CheckOut, summary="May this member do this action (on this record)?")
async def check(body: CheckIn, access: DecideAccess) -> Response:
    """Without a record: whether the action is granted at all, and with which scope.
    With a record (`{type, id}`, upserted through `PUT .../records`): whether it is
    granted on that record (assignment, C7 parents). `reasons` say why; `revision`
    is the revision decided at."""
    snap = await decision_snapshot(access, body.min_revision)
    if body.record is None:
        answer = decide_one(snap, body)
    else:
        held = decide_record_in_memory(snap, body)
        answer = held if held is not None else await run_in_threadpool(decide_record, snap, body)
    return Response(answer, media_type=_JSON, headers=stale_headers(access, snap))


@router.post("/explain", response_model=ExplainOut, summary="Why may (or may not) this member do this action?")
async def explain(body: ExplainIn, access: DecideAccess, response: Response) -> ExplainOut:
    """The decision of `/check` for the same question, with the chain of reasons the
    engine gives in process: the member's role and level, then each reason (its code,
    the seed rule that decided, the permission), and `lines` in words. A `decide` key,
    like `/check`; an unknown action or a bad record is refused like there."""
    snap = await decision_snapshot(access, body.min_revision)
    response.headers.update(stale_headers(access, snap) or {})
    ref = RecordRef(body.record.type, body.record.id) if body.record is not None else None
    answer = await run_in_threadpool(explain_decision, snap, body.member, body.action, ref)
    return ExplainOut(
        action=answer.action,
        allowed=answer.allowed,
        scope=answer.scope,
        reasons=[ReasonOut(code=r.code, message=r.message, permission=r.permission, rule=r.rule) for r in answer.reasons],
        revision=answer.revision,
        member=answer.member_id,
        role=answer.role_id,
        role_name=answer.role_name,
        level=answer.level,
        lines=list(answer.lines),
    )


def decide_batch(snap: Snapshot, body: BatchCheckIn) -> bytes | Response:
    """The body of a `check/batch` answer, or the problem naming the first check that
    failed (the whole batch fails). May read the record index: a worker thread."""
    answer = _decide_batch(snap, body, snap.check)
    assert answer is not None  # `check` always decides
    return answer


def decide_batch_in_memory(snap: Snapshot, body: BatchCheckIn) -> bytes | Response | None:
    """`decide_batch` when every record it needs is in memory (on the event loop);
    None when one must be read (then `decide_batch`, in a worker thread)."""
    return _decide_batch(snap, body, snap.check_in_memory)


def _decide_batch(snap: Snapshot, body: BatchCheckIn, on_record: Callable[[str, str, RecordRef], Decision | None]) -> bytes | Response | None:
    check = snap.check
    held = _fragments(snap)
    parts: list[str] = []
    append = parts.append
    allowed = 0
    for i, item in enumerate(body.checks):
        try:
            record = item.get("record")
            if record is None:
                d = check(item["member"], item["action"])
            else:
                found = on_record(item["member"], item["action"], RecordRef(record["type"], record["id"]))
                if found is None:
                    return None
                d = found
            append(_fragment(held, d))
        except RolegateError as exc:
            return rolegate_problem(exc, pointer=f"checks[{i}]")
        allowed += d.allowed
    _BATCH_ALLOWED.inc(allowed)
    _BATCH_DENIED.inc(len(parts) - allowed)
    return f'{{"results":[{",".join(parts)}],"revision":{snap.revision}}}'.encode()


def decide_plain_batch(snap: Snapshot, body: BatchCheckIn) -> bytes | Response:
    """`decide_batch` for a batch without records (`api.fast.parse_batch` made sure):
    the same answer with less work per check; a check that fails is named by
    `decide_batch`."""
    check = snap.check
    held = _fragments(snap)
    parts: list[str] = []
    append = parts.append
    allowed = 0
    try:
        for item in body.checks:
            d = check(item["member"], item["action"])
            text = held.get(id(d))
            append(text if text is not None else _fragment(held, d))
            allowed += d.allowed
    except RolegateError:
        return decide_batch(snap, body)
    _BATCH_ALLOWED.inc(allowed)
    _BATCH_DENIED.inc(len(parts) - allowed)
    return f'{{"results":[{",".join(parts)}],"revision":{snap.revision}}}'.encode()


def batch_has_records(body: BatchCheckIn) -> bool:
    """Whether a batch reads the record index (then it runs in a worker thread)."""
    return any(item.get("record") is not None for item in body.checks)


@router.post("/check/batch", response_model=BatchCheckOut, summary="Many checks on one snapshot")
async def check_batch(body: BatchCheckIn, access: DecideAccess) -> Response:
    """Every check is decided on the same snapshot (one revision), in order. An unknown
    action or a bad record fails the whole batch, naming the check (`checks[i]`)."""
    snap = await decision_snapshot(access, body.min_revision)
    if batch_has_records(body):
        in_memory = decide_batch_in_memory(snap, body)
        answer = in_memory if in_memory is not None else await run_in_threadpool(decide_batch, snap, body)
    else:
        answer = decide_plain_batch(snap, body)
    if isinstance(answer, Response):
        return answer
    return Response(answer, media_type=_JSON, headers=stale_headers(access, snap))


@router.post("/fields/filter", response_model=FieldsFilterOut, summary="Remove the fields a member may not read")
async def filter_fields(body: FieldsFilterIn, access: DecideAccess, response: Response) -> FieldsFilterOut:
    """K12: a field with no access disappears; undeclared fields are dropped too (K8).
    One `record`, or a page of `records` (the readable set is looked up once)."""
    snap = await decision_snapshot(access, body.min_revision)
    response.headers.update(stale_headers(access, snap) or {})
    if body.records is not None:
        filtered = snap.filter_records(body.member, body.object, body.records)
        _FILTERED.inc(len(filtered))
        return FieldsFilterOut(records=filtered, revision=snap.revision)
    assert body.record is not None  # exactly one of the two (FieldsFilterIn)
    _FILTERED.inc()
    return FieldsFilterOut(record=snap.filter_fields(body.member, body.object, body.record), revision=snap.revision)


@router.post("/lookup", response_model=LookupOut, summary="Which records of a type may this member act on: a filter")
async def lookup(body: LookupIn, access: DecideAccess, response: Response) -> LookupOut:
    """A storage-neutral filter to apply to your own database, never a list of ids:
    `{op: "all"}`, `{op: "none"}`, `{op: "assignee", path, member, include: [assigned,
    unassigned, others]}` (on the record `path` steps up), or `{op: "and", args}`."""
    snap = await decision_snapshot(access, body.min_revision)
    response.headers.update(stale_headers(access, snap) or {})
    found = snap.lookup(body.member, body.action, body.object)
    _LOOKED_UP["none" if found.nothing else "filtered" if found.terms else "all"].inc()
    out = found.to_json()
    return LookupOut.model_validate({**out, "revision": snap.revision})
