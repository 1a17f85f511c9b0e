"""SCIM 2.0 documents (issue 17): the discovery endpoints' bodies, the payloads read
with `scim2-models` (never parsed by hand), and the admin API's group -> role mapping."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    Group,
    InvalidSyntaxException,
    ListResponse,
    Patch,
    PatchOp,
    Required,
    ResourceType,
    ResponseParameters,
    Schema,
    ScimPolicy,
    SearchRequest,
    ServiceProviderConfig,
    Sort,
    User,
)

from rolegate.services.commands import NO_NUL
from rolegate.services.scim import MAX_RESULTS

__all__ = [
    "GroupRoleIn",
    "GroupRoleOut",
    "GroupRolesOut",
    "SCIM_MEDIA_TYPE",
    "parse_group",
    "parse_json",
    "parse_patch",
    "parse_search",
    "response_parameters",
    "parse_user",
    "resource_types",
    "schemas",
    "service_provider_config",
]

SCIM_MEDIA_TYPE = "application/scim+json"

POLICY = ScimPolicy(unknown=ScimPolicy.Unknown.ignore)
"""Identity providers send attributes Rolegate does not declare (Entra ID's enterprise
extension, Okta's custom profile attributes): they are dropped, not refused."""

DOCS = "https://github.com/rolegate/rolegate#provisioning-with-scim"


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise InvalidSyntaxException(detail="The body is not JSON.") from None


def parse_user(body: bytes, *, ctx: Context) -> User[Any]:
    return User.model_validate(parse_json(body), scim_ctx=ctx, scim_policy=POLICY)


def parse_group(body: bytes, *, ctx: Context) -> Group:
    return Group.model_validate(parse_json(body), scim_ctx=ctx, scim_policy=POLICY)


def parse_patch(body: bytes, model: type[User[Any]] | type[Group]) -> PatchOp[Any]:
    patch_model: Any = PatchOp.__class_getitem__(model)
    op: PatchOp[Any] = patch_model.model_validate(parse_json(body), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY)
    return op


def dump(resource: Any, ctx: Context, params: ResponseParameters[Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = resource.model_dump(scim_ctx=ctx, response_parameters=params)
    return data


def response_parameters(model: type[User[Any]] | type[Group], attributes: str | None, excluded: str | None) -> ResponseParameters[Any] | None:
    """RFC 7644 §3.9: `attributes` / `excludedAttributes` (comma-separated), checked
    against the model by scim2-models."""
    if not attributes and not excluded:
        return None
    kind: Any = ResponseParameters.__class_getitem__(model)
    params: ResponseParameters[Any] = kind.model_validate({"attributes": attributes or None, "excludedAttributes": excluded or None})
    return params


def parse_search(body: bytes, model: type[User[Any]] | type[Group]) -> SearchRequest[Any]:
    """RFC 7644 §3.4.3: POST .../.search."""
    kind: Any = SearchRequest.__class_getitem__(model)
    request: SearchRequest[Any] = kind.model_validate(parse_json(body), scim_ctx=Context.SEARCH_REQUEST, scim_policy=POLICY)
    return request


def _located(doc: dict[str, Any], kind: str, base_url: str, ident: str) -> dict[str, Any]:
    doc["meta"] = {"resourceType": kind, "location": f"{base_url}/{kind}s/{ident}" if kind != "ServiceProviderConfig" else f"{base_url}/ServiceProviderConfig"}
    return doc


def service_provider_config(base_url: str) -> dict[str, Any]:
    """RFC 7643 §5: PATCH, filters (up to `MAX_RESULTS` results); no bulk, sort, ETags
    or password changes (a member's password is theirs, never the directory's)."""
    spc = ServiceProviderConfig(
        documentation_uri=DOCS,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Rolegate API key",
                description="An API key with the scim right: Authorization: Bearer rg_<prefix>_<secret>.",
                spec_uri="https://www.rfc-editor.org/rfc/rfc6750",
                documentation_uri=DOCS,
                primary=True,
            )
        ],
    )
    return _located(dump(spc, Context.RESOURCE_QUERY_RESPONSE), "ServiceProviderConfig", base_url, "")


def _user_schema() -> Schema:
    """The core User schema, with `emails` required: a member is known by an email
    address (C2), and it is the userName only where the directory sends one there."""
    schema = User.to_schema()
    for attribute in schema.attributes or []:
        if attribute.name == "emails":
            attribute.required = Required.true
            for sub in attribute.sub_attributes or []:
                if sub.name == "value":
                    sub.required = Required.true
    return schema


def schemas(base_url: str) -> list[dict[str, Any]]:
    out = []
    for schema in (_user_schema(), Group.to_schema()):
        out.append(_located(dump(schema, Context.RESOURCE_QUERY_RESPONSE), "Schema", base_url, str(schema.id)))
    return out


def resource_types(base_url: str) -> list[dict[str, Any]]:
    out = []
    for model in (User, Group):
        rt = ResourceType.from_resource(model)
        out.append(_located(dump(rt, Context.RESOURCE_QUERY_RESPONSE), "ResourceType", base_url, str(rt.id)))
    return out


def listed(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A ListResponse of documents served whole (the discovery endpoints)."""
    return {
        "schemas": [str(ListResponse.__schema__)],
        "totalResults": len(resources),
        "startIndex": 1,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


# -- the admin API: which directory group gives which role ---------------------------------


class GroupRoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(min_length=1, max_length=36, pattern=NO_NUL, description="The role the group's members get.")
    priority: int = Field(
        default=0,
        ge=-1_000_000,
        le=1_000_000,
        description="Among a person's mapped groups whose roles have the same level rank, the smallest priority wins.",
    )


class GroupRoleOut(BaseModel):
    group: str
    role: str
    priority: int


class GroupRolesOut(BaseModel):
    items: list[GroupRoleOut]
    revision: int
