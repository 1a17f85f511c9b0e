"""OpenID AuthZEN Authorization API 1.0: requests and responses.

Unknown keys are ignored, as the specification asks of receivers (forward
compatibility); `properties` and `context` are accepted and not used: Rolegate decides
from its own snapshot and record index, never from attributes the caller asserts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rolegate.services.commands import NO_NUL

__all__ = [
    "ActionIn",
    "ActionOut",
    "ActionSearchIn",
    "DecisionOut",
    "EvaluationIn",
    "EvaluationItemIn",
    "EvaluationsIn",
    "EvaluationsOut",
    "MetadataOut",
    "PageIn",
    "PageOut",
    "ResourceIn",
    "ResourceOut",
    "ResourceSearchIn",
    "SearchOut",
    "SubjectIn",
    "SubjectOut",
    "SubjectSearchIn",
]

Text = Annotated[str, Field(min_length=1, max_length=320, pattern=NO_NUL)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
Properties = dict[str, Any]


class _Entity(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SubjectIn(_Entity):
    type: Name = Field(description="`user`: a member of the workspace.")
    id: Text = Field(description="The member's id, or the email address of the member's user.")
    properties: Properties | None = None


class ResourceIn(_Entity):
    type: Name = Field(description="An object type of the product schema (`todo`), the action's own.")
    id: Name = Field(description="The record's id in the host product (`PUT .../records/{type}/{id}`).")
    properties: Properties | None = None


class ActionIn(_Entity):
    name: Name = Field(description="An action of the product schema.")
    properties: Properties | None = None


class EvaluationIn(_Entity):
    subject: SubjectIn
    action: ActionIn
    resource: ResourceIn
    context: Properties | None = None


class EvaluationItemIn(_Entity):
    """One evaluation of a batch: what it omits comes from the request's top level."""

    subject: SubjectIn | None = None
    action: ActionIn | None = None
    resource: ResourceIn | None = None
    context: Properties | None = None


class EvaluationsOptionsIn(_Entity):
    evaluations_semantic: Literal["execute_all", "deny_on_first_deny", "permit_on_first_permit"] = "execute_all"


class EvaluationsIn(_Entity):
    subject: SubjectIn | None = None
    action: ActionIn | None = None
    resource: ResourceIn | None = None
    context: Properties | None = None
    evaluations: list[EvaluationItemIn] | None = Field(default=None, max_length=10_000)
    options: EvaluationsOptionsIn | None = None


class DecisionOut(BaseModel):
    decision: bool
    context: Properties | None = Field(
        default=None, description="Only on an evaluation that failed: `{error: {status, code, message}}`."
    )


class EvaluationsOut(BaseModel):
    evaluations: list[DecisionOut] | None = None
    decision: bool | None = Field(
        default=None, description="Only for a request without `evaluations` (one evaluation)."
    )


class PageIn(_Entity):
    token: Annotated[str, Field(max_length=1000, pattern=NO_NUL)] | None = None
    limit: Annotated[int, Field(ge=0, le=1000)] | None = None


class SearchSubjectIn(_Entity):
    type: Name
    id: Text | None = None  # ignored, as the specification says


class SearchResourceIn(_Entity):
    type: Name
    id: Name | None = None  # ignored, as the specification says


class SubjectSearchIn(_Entity):
    subject: SearchSubjectIn
    action: ActionIn
    resource: ResourceIn
    context: Properties | None = None
    page: PageIn | None = None


class ResourceSearchIn(_Entity):
    subject: SubjectIn
    action: ActionIn
    resource: SearchResourceIn
    context: Properties | None = None
    page: PageIn | None = None


class ActionSearchIn(_Entity):
    subject: SubjectIn
    resource: ResourceIn
    context: Properties | None = None
    page: PageIn | None = None


class PageOut(BaseModel):
    next_token: str = Field(description="Empty when no result follows.")
    count: int


class SubjectOut(BaseModel):
    type: str
    id: str = Field(description="The member's id.")


class ResourceOut(BaseModel):
    type: str
    id: str


class ActionOut(BaseModel):
    name: str


class SearchOut(BaseModel):
    page: PageOut
    results: list[SubjectOut] | list[ResourceOut] | list[ActionOut]


class MetadataOut(BaseModel):
    policy_decision_point: str
    access_evaluation_endpoint: str
    access_evaluations_endpoint: str
    search_subject_endpoint: str
    search_resource_endpoint: str
    search_action_endpoint: str
