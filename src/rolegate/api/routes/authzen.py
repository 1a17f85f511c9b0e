"""OpenID AuthZEN Authorization API 1.0 (https://openid.net/specs/authorization-api-1_0.html):
the PDP metadata, access evaluation(s) and the subject, resource and action searches.

The paths are the specification's defaults, at the root, so a PEP configured with
Rolegate's base URL finds them. A key reaching one workspace decides in it; a key
reaching an organization names the workspace in `Rolegate-Workspace` (else 400),
and one it does not reach is a 404, as everywhere. The key needs the `decide` right.

The evaluation is the hot path: the body is parsed here with `model_validate_json`
(no framework validation per request), decided on the cached snapshot like `/check`,
and answered with a constant body. Record-level decisions and the email directory
(read once per workspace revision) go to the thread pool. Shape errors are 400s, as
the specification asks; an unknown action or a resource of the wrong type is the
problem `/check` answers, except inside `evaluations`, where it is that evaluation's
`{"decision": false, "context": {"error": ...}}`.
"""

from __future__ import annotations

import json
from typing import Any, Final, TypeVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from rolegate.api.deps import PUBLIC_OPERATION, Access, authenticated, decide_access
from rolegate.api.limits import OFF_LOOP_BYTES, ApiRoute
from rolegate.api.schemas.authzen import (
    ActionSearchIn,
    DecisionOut,
    EvaluationIn,
    EvaluationsIn,
    EvaluationsOut,
    MetadataOut,
    ResourceSearchIn,
    SearchOut,
    SubjectSearchIn,
)
from rolegate.domain.errors import RolegateError
from rolegate.engine import Snapshot
from rolegate.metrics import DECISIONS, STALE_ANSWERS
from rolegate.services.authzen import (
    USER,
    Directory,
    Evaluation,
    Outcome,
    Subjects,
    evaluate,
    evaluate_all,
    evaluate_in_memory,
    load_directory,
    needs_records,
    search_actions,
    search_resources,
    search_subjects,
)

__all__ = ["WORKSPACE_HEADER", "decide_evaluation", "router", "subjects_of"]

router = APIRouter(tags=["authzen"], route_class=ApiRoute)

WORKSPACE_HEADER: Final = "Rolegate-Workspace"
_JSON = "application/json"
_DECIDED = {True: b'{"decision":true}', False: b'{"decision":false}'}
_COUNTED = {
    True: DECISIONS.labels("authzen_evaluation", "allowed"),
    False: DECISIONS.labels("authzen_evaluation", "denied"),
}
_BATCH_ALLOWED = DECISIONS.labels("authzen_evaluations", "allowed")
_BATCH_DENIED = DECISIONS.labels("authzen_evaluations", "denied")

M = TypeVar("M", bound=BaseModel)


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON Schema with its `$defs` put in place: the document's own
    components do not hold request models this module parses itself."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    inlined: dict[str, Any] = walk(schema)
    return inlined


def _doc(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "security": [{"ApiKey": []}],
        "parameters": [
            {
                "name": WORKSPACE_HEADER,
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 36},
                "description": "The workspace, for a key that reaches an organization (a workspace's own key needs none).",
            }
        ],
        "requestBody": {"required": True, "content": {_JSON: {"schema": _inline(model.model_json_schema())}}},
    }


async def _access(request: Request) -> Access:
    caller = await authenticated(request)
    # Read (and limited: 413) once the key is valid and before anything else is
    # refused, as on every route; `_parse` gets it from Starlette's cache.
    await request.body()
    # A header naming another workspace than the key's own is that workspace: a 404.
    named = request.headers.get(WORKSPACE_HEADER)
    if named is not None and not 0 < len(named) <= 36:
        raise RolegateError(
            f"`{WORKSPACE_HEADER}` is a workspace id (36 characters at most)",
            fix="Send the id, or no header with a key of one workspace.",
        )
    workspace = named or caller.key.workspace_id
    if workspace is None:
        raise RolegateError(
            f"this API key reaches an organization: name the workspace in `{WORKSPACE_HEADER}` (a workspace id)",
            fix="Or use a key of that workspace.",
        )
    return await decide_access(caller, workspace)


async def _parse(request: Request, model: type[M]) -> M:
    body = await request.body()
    try:
        if len(body) > OFF_LOOP_BYTES:
            return await run_in_threadpool(model.model_validate_json, body)
        return model.model_validate_json(body)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:5])
        raise RolegateError(
            f"the request does not fit the AuthZEN API: {where}", fix="See /docs for the request's shape."
        ) from None


async def _snapshot(access: Access) -> Snapshot:
    cache = access.rolegate.snapshots
    snap = cache.fresh(access.workspace_id, None)
    if snap is None:
        snap = await run_in_threadpool(cache.get, access.workspace_id)
    return snap


def _stale(access: Access, snap: Snapshot) -> dict[str, str] | None:
    """What an answer from an unconfirmed snapshot says about itself, as on `/check`."""
    cache = access.rolegate.snapshots
    if not cache.degraded:
        return None
    age = cache.unconfirmed_for(access.workspace_id)
    if age is None:
        return None
    STALE_ANSWERS.inc()
    return {
        "Rolegate-Stale": "true",
        "Rolegate-Revision": str(snap.revision),
        "Rolegate-Stale-Age-Ms": str(int(age * 1000)),
    }


def subjects_of(app: FastAPI) -> Subjects:
    """The app's directory of subjects by email (one per app: the fast path reads it too)."""
    held: Subjects | None = getattr(app.state, "authzen_subjects", None)
    if held is None:
        held = app.state.authzen_subjects = Subjects()
    return held


async def _directory(request: Request, access: Access, revision: int) -> Directory:
    subjects = subjects_of(request.app)
    found = subjects.current(access.workspace_id, revision)
    if found is None:
        rolegate, workspace_id = access.rolegate, access.workspace_id
        found = await run_in_threadpool(
            subjects.get, workspace_id, revision, lambda: load_directory(rolegate.reader(), workspace_id=workspace_id)
        )
    return found


async def _member(request: Request, access: Access, snap: Snapshot, subject_type: str, subject_id: str) -> str | None:
    if subject_type != USER:
        return None
    if "@" not in subject_id:
        return subject_id  # a member id: the snapshot knows it, or denies
    return (await _directory(request, access, snap.revision)).member(subject_type, subject_id)


async def _decide(snap: Snapshot, member: str | None, action: str, resource_type: str, resource_id: str) -> bool:
    held = evaluate_in_memory(snap, member, action, resource_type, resource_id)
    return held if held is not None else await run_in_threadpool(evaluate, snap, member, action, resource_type, resource_id)


@router.get(
    "/.well-known/authzen-configuration",
    response_model=MetadataOut,
    summary="AuthZEN PDP metadata",
    openapi_extra=PUBLIC_OPERATION,
)
async def metadata(request: Request) -> MetadataOut:
    """Where the AuthZEN endpoints are, under the base URL this request used."""
    base = str(request.base_url).rstrip("/")
    return MetadataOut(
        policy_decision_point=base,
        access_evaluation_endpoint=f"{base}/access/v1/evaluation",
        access_evaluations_endpoint=f"{base}/access/v1/evaluations",
        search_subject_endpoint=f"{base}/access/v1/search/subject",
        search_resource_endpoint=f"{base}/access/v1/search/resource",
        search_action_endpoint=f"{base}/access/v1/search/action",
    )


@router.post(
    "/access/v1/evaluation",
    response_model=DecisionOut,
    summary="AuthZEN: may this subject do this action on this resource?",
    openapi_extra=_doc(EvaluationIn),
)
async def evaluation(request: Request) -> Response:
    """`{"decision": true|false}`. The subject is a member (`{type: "user", id: <member
    id or email>}`); the action one of the product schema; the resource a record of the
    action's object type (its owner, for scope `assigned`, is the record's assignee)."""
    access = await _access(request)
    body = await _parse(request, EvaluationIn)
    snap = await _snapshot(access)
    member = await _member(request, access, snap, body.subject.type, body.subject.id)
    allowed = await _decide(snap, member, body.action.name, body.resource.type, body.resource.id)
    return Response(decide_evaluation(allowed), media_type=_JSON, headers=_stale(access, snap))


def decide_evaluation(allowed: bool) -> bytes:
    """The answer of one evaluation, counted (the route's and the fast path's)."""
    _COUNTED[allowed].inc()
    return _DECIDED[allowed]


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, bool):
        return {"decision": outcome}
    return {
        "decision": False,
        "context": {"error": {"status": outcome.status, "code": outcome.code.value, "message": str(outcome)}},
    }


def _any_record(snap: Snapshot, items: list[Evaluation]) -> bool:
    for item in items:
        try:
            if needs_records(snap, item.member, item.action):
                return True
        except RolegateError:
            continue  # that evaluation answers its error
    return False


@router.post(
    "/access/v1/evaluations",
    response_model=EvaluationsOut,
    response_model_exclude_none=True,
    summary="AuthZEN: many evaluations on one snapshot",
    openapi_extra=_doc(EvaluationsIn),
)
async def evaluations(request: Request) -> Response:
    """Each of `evaluations` takes the top-level `subject`, `action`, `resource` it
    omits; `options.evaluations_semantic`: `execute_all` (default),
    `deny_on_first_deny`, `permit_on_first_permit` (the answer stops at the deciding
    evaluation). Without `evaluations` it is one evaluation, answered `{"decision"}`."""
    access = await _access(request)
    body = await _parse(request, EvaluationsIn)
    snap = await _snapshot(access)
    if not body.evaluations:
        if body.subject is None or body.action is None or body.resource is None:
            raise RolegateError(
                "an evaluation needs a subject, an action and a resource",
                fix="Send them, or a non-empty `evaluations`.",
            )
        one = await _member(request, access, snap, body.subject.type, body.subject.id)
        decided = await _decide(snap, one, body.action.name, body.resource.type, body.resource.id)
        _COUNTED[decided].inc()
        return Response(_DECIDED[decided], media_type=_JSON, headers=_stale(access, snap))
    directory: Directory | None = None
    items: list[Evaluation] = []
    for i, item in enumerate(body.evaluations):
        subject = item.subject or body.subject
        action = item.action or body.action
        resource = item.resource or body.resource
        if subject is None or action is None or resource is None:
            missing = ", ".join(
                n for n, v in (("subject", subject), ("action", action), ("resource", resource)) if v is None
            )
            raise RolegateError(
                f"evaluations[{i}] has no {missing}, nor does the request",
                fix="Give it in the evaluation or at the top level.",
            )
        member: str | None = None
        if subject.type == USER:
            if "@" in subject.id:
                directory = directory or await _directory(request, access, snap.revision)
                member = directory.member(subject.type, subject.id)
            else:
                member = subject.id
        items.append(Evaluation(member, action.name, resource.type, resource.id))
    semantic = body.options.evaluations_semantic if body.options is not None else "execute_all"
    if _any_record(snap, items):
        outcomes = await run_in_threadpool(evaluate_all, snap, items, semantic)
    else:
        outcomes = evaluate_all(snap, items, semantic)
    permits = sum(o is True for o in outcomes)
    _BATCH_ALLOWED.inc(permits)
    _BATCH_DENIED.inc(len(outcomes) - permits)
    answer = EvaluationsOut(evaluations=[DecisionOut.model_validate(_outcome_json(o)) for o in outcomes])
    return Response(answer.model_dump_json(exclude_none=True), media_type=_JSON, headers=_stale(access, snap))


@router.post(
    "/access/v1/search/subject",
    response_model=SearchOut,
    summary="AuthZEN: which members may do this action on this resource",
    openapi_extra=_doc(SubjectSearchIn),
)
async def search_subject(request: Request) -> Response:
    """The active members (`{type: "user", id: <member id>}`, no email) for
    whom the evaluation would be `true`; `page.limit` (100 by default, 1,000 at most)
    and `page.token` (`next_token` of the previous page; empty: the last page)."""
    access = await _access(request)
    body = await _parse(request, SubjectSearchIn)
    snap = await _snapshot(access)
    directory = await _directory(request, access, snap.revision)
    page = body.page
    found = await run_in_threadpool(
        lambda: search_subjects(
            snap,
            directory,
            subject_type=body.subject.type,
            action=body.action.name,
            resource_type=body.resource.type,
            resource_id=body.resource.id,
            token=page.token if page else None,
            limit=page.limit if page else None,
        )
    )
    results = [{"type": USER, "id": mid} for mid in found.items]
    return _search_answer(access, snap, found.next_token, results)


@router.post(
    "/access/v1/search/resource",
    response_model=SearchOut,
    summary="AuthZEN: which records may this member act on",
    openapi_extra=_doc(ResourceSearchIn),
)
async def search_resource(request: Request) -> Response:
    """The records of `resource.type` in the record index the member may `action`, in
    id order (the filter of `/lookup`, applied in the database); pages as above."""
    access = await _access(request)
    body = await _parse(request, ResourceSearchIn)
    snap = await _snapshot(access)
    member = await _member(request, access, snap, body.subject.type, body.subject.id)
    page = body.page
    found = await run_in_threadpool(
        lambda: search_resources(
            access.rolegate.reader(),
            snap,
            workspace_id=access.workspace_id,
            member=member,
            action=body.action.name,
            resource_type=body.resource.type,
            token=page.token if page else None,
            limit=page.limit if page else None,
        )
    )
    results = [{"type": body.resource.type, "id": rid} for rid in found.items]
    return _search_answer(access, snap, found.next_token, results)


@router.post(
    "/access/v1/search/action",
    response_model=SearchOut,
    summary="AuthZEN: which actions may this member do on this resource",
    openapi_extra=_doc(ActionSearchIn),
)
async def search_action(request: Request) -> Response:
    """The actions of the product schema on `resource.type` the evaluation allows on
    this resource; a type that is no object of the schema asks for the actions on no
    object (workspace-wide ones, e.g. administering roles)."""
    access = await _access(request)
    body = await _parse(request, ActionSearchIn)
    snap = await _snapshot(access)
    member = await _member(request, access, snap, body.subject.type, body.subject.id)
    page = body.page
    found = await run_in_threadpool(
        lambda: search_actions(
            snap,
            member,
            resource_type=body.resource.type,
            resource_id=body.resource.id,
            token=page.token if page else None,
            limit=page.limit if page else None,
        )
    )
    return _search_answer(access, snap, found.next_token, [{"name": name} for name in found.items])


def _search_answer(access: Access, snap: Snapshot, next_token: str, results: list[dict[str, Any]]) -> Response:
    body = {"page": {"next_token": next_token, "count": len(results)}, "results": results}
    return Response(json.dumps(body, separators=(",", ":")), media_type=_JSON, headers=_stale(access, snap))
