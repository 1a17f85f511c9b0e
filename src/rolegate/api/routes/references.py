"""References to members in the host product (C6): the host tells Rolegate which places
of the product name a member (a playbook task ...), so that member is not disabled or
deleted while named, and a transfer moves the references with the records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from rolegate.api.deps import AdminAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas.references import ReferenceOut, ReferencesIn, ReferencesOut, ReferencesWrittenOut
from rolegate.services.commands import NO_NUL
from rolegate.services.references import ReferenceWrite, list_references, put_references

__all__ = ["router"]

router = APIRouter(prefix="/v1/workspaces/{workspace_id}/references", tags=["references"], route_class=ApiRoute)

MemberFilter = Annotated[
    str | None, Query(max_length=36, pattern=NO_NUL, description="Only the references naming this member.")
]


@router.get("", response_model=ReferencesOut, summary="List the references to members")
def get_all(ctx: AdminAccess, member: MemberFilter = None) -> ReferencesOut:
    """Needs the view-roles right, as the team does (T10)."""
    found = list_references(ctx.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id, member=member)
    items = [ReferenceOut(id=r.id, kind=r.kind, label=r.label, member=r.member_id) for r in found.references]
    return ReferencesOut(items=items, revision=found.revision)


@router.post("/bulk", response_model=ReferencesWrittenOut, summary="Create, change or remove up to 10,000 references")
def put_many(body: ReferencesIn, ctx: AdminAccess) -> ReferencesWrittenOut:
    """C6: all or nothing, one revision, one audit event (`references.put`). Each names a
    member of the workspace, or `null` to remove it; an unknown member is a 422.
    Repeating an id in the call: the last one wins. Needs the assign-records right."""
    refs = [ReferenceWrite(r.id, r.kind, r.label, r.member) for r in body.references]
    done = put_references(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, references=refs)
    return ReferencesWrittenOut(saved=done.saved, removed=done.removed, revision=done.revision)
