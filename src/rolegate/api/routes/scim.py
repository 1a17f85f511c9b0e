"""SCIM 2.0 provisioning (RFC 7643, 7644; issue 17) at `/scim/v2/workspaces/{id}/...`,
and the admin API's group -> role mapping at `/v1/workspaces/{id}/directory/group-roles`.

The SCIM endpoints are their own ASGI app mounted beside the API (`install`): every
answer there, errors included, is `application/scim+json` and every error a SCIM Error
(`status`, `scimType`, `detail`), not the API's problem+json; they stay out of the
API's OpenAPI document. The bearer token is an API key with the `scim` right; a key
that does not reach the workspace gets 404, as everywhere.

Refusals: a rule (seats N1/K2 ..., the last owner C4/T11, N9, ...) is a 400 with
`scimType: invalidValue` and a detail that starts with the rule (`[N1] No free CSM
seat ...`); a userName, email or group name already provisioned is a 409 `uniqueness`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from scim2_models import Context, Error, Group, SCIMException, User
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Scope

from rolegate.api.deps import AdminAccess, Auth, ScimAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.problems import ApiError
from rolegate.api.schemas.scim import (
    SCIM_MEDIA_TYPE,
    GroupRoleIn,
    GroupRoleOut,
    GroupRolesOut,
    dump,
    listed,
    parse_group,
    parse_patch,
    parse_search,
    parse_user,
    resource_types,
    response_parameters,
    schemas,
    service_provider_config,
)
from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import (
    InvalidInputError,
    NotFoundError,
    RolegateError,
    RuleViolationError,
    StoreUnavailableError,
    UnavailableError,
)
from rolegate.services import scim
from rolegate.services.availability import UNAVAILABLE_ERRORS
from rolegate.services.commands import NO_NUL

__all__ = ["create_scim_app", "install", "router", "unavailable_answer"]

log = logging.getLogger(__name__)

MOUNT = "/scim/v2"


class ScimResponse(JSONResponse):
    media_type = SCIM_MEDIA_TYPE


def _error(status: int, detail: str, scim_type: str | None = None, headers: dict[str, str] | None = None) -> ScimResponse:
    body = Error(status=status, scim_type=scim_type, detail=detail).model_dump()
    return ScimResponse(body, status_code=status, headers=headers)


def _base_url(request: Request, workspace_id: str) -> str:
    """The workspace's SCIM base URL as the client called it (meta.location, $ref)."""
    path = request.url.path
    anchor = f"/workspaces/{workspace_id}"
    end = path.index(anchor) + len(anchor)
    return str(request.url.replace(path=path[:end], query=None, fragment=None))


# -- errors: SCIM Error documents -----------------------------------------------------------


async def _on_scim(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SCIMException)
    error = exc.to_error()
    return ScimResponse(error.model_dump(), status_code=int(error.status or 400))


async def _on_validation(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    errors = Error.from_validation_errors(exc.errors())
    first = errors[0] if errors else Error(status=400, scim_type="invalidValue", detail=str(exc))
    return ScimResponse(first.model_dump(), status_code=int(first.status or 400))


async def _on_request_validation(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors())
    return _error(400, detail or "The request does not fit the SCIM endpoint.", "invalidValue")


async def _on_rolegate(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RolegateError)
    if isinstance(exc, scim.ScimConflictError):
        return _error(409, str(exc), exc.scim_type)
    if isinstance(exc, scim.ScimInvalidError):
        return _error(400, str(exc), exc.scim_type)
    if isinstance(exc, RuleViolationError):
        # The rule first, as the API's `rule` names it: "[N1] No free CSM seat ...".
        return _error(400, str(exc), "invalidValue")
    if isinstance(exc, NotFoundError):
        return _error(404, exc.message)
    if isinstance(exc, InvalidInputError):
        return _error(400, str(exc), "invalidValue")
    if isinstance(exc, StoreUnavailableError):
        return _error(503, "The database is unreachable; retry later.", headers={"Retry-After": "5"})
    return _as_error(exc)


def _as_error(exc: RolegateError) -> ScimResponse:
    """Any other Rolegate error: its status and detail, and when to retry if it says."""
    return _error(exc.status, str(exc), headers={"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None)


def unavailable_answer(scope: Scope, error: UnavailableError) -> ASGIApp | None:
    """A SCIM change the write process could not make (`rolegate serve --write-process`):
    a SCIM error, which a directory client reads and retries on."""
    if not scope["path"].startswith(MOUNT + "/"):
        return None
    return _as_error(error)


async def _on_unavailable(_request: Request, _exc: Exception) -> Response:
    return _error(503, "The database is unreachable; retry later.", headers={"Retry-After": "5"})


async def _on_api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _error(exc.status, exc.detail, headers=exc.headers)


async def _on_http(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return _error(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))


async def _on_unexpected(_request: Request, exc: Exception) -> Response:
    log.exception("SCIM request failed", exc_info=exc)
    return _error(500, "Rolegate could not answer this request; it was logged.")


def _install_errors(app: FastAPI) -> None:
    handlers: list[tuple[type[Exception], Callable[[Request, Exception], Awaitable[Response]]]] = [
        (SCIMException, _on_scim),
        (ValidationError, _on_validation),
        (RequestValidationError, _on_request_validation),
        (RolegateError, _on_rolegate),
        (ApiError, _on_api_error),
        (StarletteHTTPException, _on_http),
        (Exception, _on_unexpected),
    ]
    handlers += [(cls, _on_unavailable) for cls in UNAVAILABLE_ERRORS]
    for cls, handler in handlers:
        app.add_exception_handler(cls, handler)


# -- the SCIM endpoints ---------------------------------------------------------------------

scim_router = APIRouter(prefix="/workspaces/{workspace_id}")

ResourceId = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL)]
StartIndex = Annotated[int | None, Query(alias="startIndex")]
Count = Annotated[int | None, Query()]
FilterParam = Annotated[str | None, Query(max_length=2000)]
AttributesParam = Annotated[str | None, Query(max_length=2000)]
ExcludedParam = Annotated[str | None, Query(alias="excludedAttributes", max_length=2000)]


def _scim(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> ScimResponse:
    return ScimResponse(body, status_code=status, headers=headers)


def _created(resource: Any, location: str | None) -> ScimResponse:
    return _scim(dump(resource, Context.RESOURCE_CREATION_RESPONSE), 201, {"Location": location} if location else None)


@scim_router.get("/ServiceProviderConfig")
async def get_service_provider_config(request: Request, ctx: ScimAccess) -> Response:
    return _scim(service_provider_config(_base_url(request, ctx.workspace_id)))


@scim_router.get("/ResourceTypes")
async def get_resource_types(request: Request, ctx: ScimAccess) -> Response:
    return _scim(listed(resource_types(_base_url(request, ctx.workspace_id))))


@scim_router.get("/ResourceTypes/{name}")
async def get_resource_type(request: Request, ctx: ScimAccess, name: ResourceId) -> Response:
    found = [rt for rt in resource_types(_base_url(request, ctx.workspace_id)) if rt["id"] == name]
    return _scim(found[0]) if found else _error(404, f"no resource type {name!r}")


@scim_router.get("/Schemas")
async def get_schemas(request: Request, ctx: ScimAccess) -> Response:
    return _scim(listed(schemas(_base_url(request, ctx.workspace_id))))


@scim_router.get("/Schemas/{schema_id}")
async def get_schema(request: Request, ctx: ScimAccess, schema_id: Annotated[str, Path(max_length=200, pattern=NO_NUL)]) -> Response:
    found = [s for s in schemas(_base_url(request, ctx.workspace_id)) if s["id"] == schema_id]
    return _scim(found[0]) if found else _error(404, f"no schema {schema_id!r}")


def _location(resource: Any) -> str | None:
    meta = getattr(resource, "meta", None)
    return str(meta.location) if meta is not None and meta.location else None


@scim_router.post("/Users")
async def post_user(request: Request, ctx: ScimAccess) -> Response:
    user = parse_user(await request.body(), ctx=Context.RESOURCE_CREATION_REQUEST)
    base = _base_url(request, ctx.workspace_id)
    created = await run_in_threadpool(lambda: scim.create_user(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, user=user, base_url=base))
    return _created(created, _location(created))


@scim_router.get("/Users")
async def get_users(
    request: Request,
    ctx: ScimAccess,
    filter: FilterParam = None,
    start_index: StartIndex = None,
    count: Count = None,
    attributes: AttributesParam = None,
    excluded: ExcludedParam = None,
) -> Response:
    params = response_parameters(User, attributes, excluded)
    base = _base_url(request, ctx.workspace_id)
    found = await run_in_threadpool(
        lambda: scim.list_users(ctx.reader(), workspace_id=ctx.workspace_id, base_url=base, filter=filter, start_index=start_index, count=count)
    )
    return _scim(dump(found, Context.SEARCH_RESPONSE, params))


@scim_router.post("/Users/.search")
async def search_users(request: Request, ctx: ScimAccess) -> Response:
    search = parse_search(await request.body(), User)
    base = _base_url(request, ctx.workspace_id)
    expression = str(search.filter) if search.filter else None
    found = await run_in_threadpool(
        lambda: scim.list_users(
            ctx.reader(), workspace_id=ctx.workspace_id, base_url=base, filter=expression, start_index=search.start_index, count=search.count
        )
    )
    return _scim(dump(found, Context.SEARCH_RESPONSE, search))


@scim_router.post("/.search")
async def search_everything(request: Request, ctx: ScimAccess) -> Response:
    search = parse_search(await request.body(), User | Group)  # type: ignore[arg-type]
    base = _base_url(request, ctx.workspace_id)
    expression = str(search.filter) if search.filter else None
    found = await run_in_threadpool(
        lambda: scim.search_all(
            ctx.reader(), workspace_id=ctx.workspace_id, base_url=base, filter=expression, start_index=search.start_index, count=search.count
        )
    )
    return _scim(dump(found, Context.SEARCH_RESPONSE, search))


@scim_router.get("/Users/{member_id}")
async def get_user(request: Request, ctx: ScimAccess, member_id: ResourceId, attributes: AttributesParam = None, excluded: ExcludedParam = None) -> Response:
    params = response_parameters(User, attributes, excluded)
    base = _base_url(request, ctx.workspace_id)
    found = await run_in_threadpool(lambda: scim.get_user(ctx.reader(), workspace_id=ctx.workspace_id, member_id=member_id, base_url=base))
    return _scim(dump(found, Context.RESOURCE_QUERY_RESPONSE, params))


@scim_router.put("/Users/{member_id}")
async def put_user(request: Request, ctx: ScimAccess, member_id: ResourceId) -> Response:
    user = parse_user(await request.body(), ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    base = _base_url(request, ctx.workspace_id)
    done = await run_in_threadpool(
        lambda: scim.replace_user(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, member_id=member_id, user=user, base_url=base)
    )
    return _scim(dump(done, Context.RESOURCE_REPLACEMENT_RESPONSE))


@scim_router.patch("/Users/{member_id}")
async def patch_user(request: Request, ctx: ScimAccess, member_id: ResourceId) -> Response:
    patch = parse_patch(await request.body(), User)
    base = _base_url(request, ctx.workspace_id)
    done = await run_in_threadpool(
        lambda: scim.patch_user(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, member_id=member_id, patch=patch, base_url=base)
    )
    return _scim(dump(done, Context.RESOURCE_PATCH_RESPONSE))


@scim_router.delete("/Users/{member_id}")
async def delete_user(ctx: ScimAccess, member_id: ResourceId) -> Response:
    await run_in_threadpool(lambda: scim.delete_user(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, member_id=member_id))
    return Response(status_code=204)


@scim_router.post("/Groups")
async def post_group(request: Request, ctx: ScimAccess) -> Response:
    group = parse_group(await request.body(), ctx=Context.RESOURCE_CREATION_REQUEST)
    base = _base_url(request, ctx.workspace_id)
    created = await run_in_threadpool(lambda: scim.create_group(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, group=group, base_url=base))
    return _created(created, _location(created))


@scim_router.get("/Groups")
async def get_groups(
    request: Request,
    ctx: ScimAccess,
    filter: FilterParam = None,
    start_index: StartIndex = None,
    count: Count = None,
    attributes: AttributesParam = None,
    excluded: ExcludedParam = None,
) -> Response:
    params = response_parameters(Group, attributes, excluded)
    base = _base_url(request, ctx.workspace_id)
    found = await run_in_threadpool(
        lambda: scim.list_groups(ctx.reader(), workspace_id=ctx.workspace_id, base_url=base, filter=filter, start_index=start_index, count=count)
    )
    return _scim(dump(found, Context.SEARCH_RESPONSE, params))


@scim_router.post("/Groups/.search")
async def search_groups(request: Request, ctx: ScimAccess) -> Response:
    search = parse_search(await request.body(), Group)
    base = _base_url(request, ctx.workspace_id)
    expression = str(search.filter) if search.filter else None
    found = await run_in_threadpool(
        lambda: scim.list_groups(
            ctx.reader(), workspace_id=ctx.workspace_id, base_url=base, filter=expression, start_index=search.start_index, count=search.count
        )
    )
    return _scim(dump(found, Context.SEARCH_RESPONSE, search))


@scim_router.get("/Groups/{group_id}")
async def get_group(request: Request, ctx: ScimAccess, group_id: ResourceId, attributes: AttributesParam = None, excluded: ExcludedParam = None) -> Response:
    params = response_parameters(Group, attributes, excluded)
    base = _base_url(request, ctx.workspace_id)
    found = await run_in_threadpool(lambda: scim.get_group(ctx.reader(), workspace_id=ctx.workspace_id, group_id=group_id, base_url=base))
    return _scim(dump(found, Context.RESOURCE_QUERY_RESPONSE, params))


@scim_router.put("/Groups/{group_id}")
async def put_group(request: Request, ctx: ScimAccess, group_id: ResourceId) -> Response:
    group = parse_group(await request.body(), ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    base = _base_url(request, ctx.workspace_id)
    done = await run_in_threadpool(
        lambda: scim.replace_group(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, group_id=group_id, group=group, base_url=base)
    )
    return _scim(dump(done, Context.RESOURCE_REPLACEMENT_RESPONSE))


@scim_router.patch("/Groups/{group_id}")
async def patch_group(request: Request, ctx: ScimAccess, group_id: ResourceId) -> Response:
    patch = parse_patch(await request.body(), Group)
    base = _base_url(request, ctx.workspace_id)
    done = await run_in_threadpool(
        lambda: scim.patch_group(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, group_id=group_id, patch=patch, base_url=base)
    )
    return _scim(dump(done, Context.RESOURCE_PATCH_RESPONSE))


@scim_router.delete("/Groups/{group_id}")
async def delete_group(ctx: ScimAccess, group_id: ResourceId) -> Response:
    await run_in_threadpool(lambda: scim.delete_group(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, group_id=group_id))
    return Response(status_code=204)


def create_scim_app(rolegate: Rolegate, auth: Auth) -> FastAPI:
    """The SCIM endpoints as an app of their own (its errors are SCIM's), sharing the
    API's key cache."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.rolegate = rolegate
    app.state.auth = auth
    _install_errors(app)
    app.include_router(scim_router)
    return app


# -- the admin API: the workspace's group -> role mapping ------------------------------------

router = APIRouter(prefix="/v1/workspaces/{workspace_id}/directory", tags=["directory"], route_class=ApiRoute)

GroupName = Annotated[str, Path(min_length=1, max_length=200, pattern=NO_NUL, description="The group's displayName in the directory (case-insensitive).")]


def _mappings(found: scim.GroupRoleMapping) -> GroupRolesOut:
    return GroupRolesOut(items=[GroupRoleOut(group=m.group_name, role=m.role_id, priority=m.priority) for m in found.mappings], revision=found.revision)


@router.get("/group-roles", response_model=GroupRolesOut, summary="List which directory group gives which role")
def get_group_roles(ctx: AdminAccess) -> GroupRolesOut:
    """Needs the view-roles right (T10)."""
    return _mappings(scim.list_group_roles(ctx.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id))


@router.put("/group-roles/{group}", response_model=GroupRolesOut, summary="Map a directory group to a role")
def put_group_role(group: GroupName, body: GroupRoleIn, ctx: AdminAccess) -> GroupRolesOut:
    """Members of the group get the role; in several mapped groups, the role of the
    highest level rank, then the smallest priority. The group's members get their role
    again at once (seats and the last owner checked: all or nothing).
    Needs the assign-roles right and holding the role. Audited as `directory.group_role`."""
    done = scim.set_group_role(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, group_name=group, role_id=body.role, priority=body.priority)
    return _mappings(done)


@router.delete("/group-roles/{group}", response_model=GroupRolesOut, summary="Remove a directory group's mapping")
def delete_group_role(group: GroupName, ctx: AdminAccess) -> GroupRolesOut:
    """The group's members go back to the role their other groups give (or the default role)."""
    return _mappings(scim.remove_group_role(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, group_name=group))


def install(app: FastAPI) -> None:
    """The SCIM endpoints under `/scim/v2`, and the mapping routes in the API."""
    app.include_router(router)
    app.mount(MOUNT, create_scim_app(app.state.rolegate, app.state.auth))

