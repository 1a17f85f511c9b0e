"""The HTTP API: `create_app(rolegate)` -> a FastAPI app (OpenAPI at /docs).

`uvicorn --factory rolegate.api.app:create_app` serves it with settings from the
environment (`ROLEGATE_DATABASE_URL`, ...); `create_app_from_env` is the factory each
worker of `rolegate serve --workers N` calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema
from starlette.types import ASGIApp, Receive, Scope, Send

from rolegate.api.deps import Auth
from rolegate.api.docs import mount_docs
from rolegate.api.fast import FastDecisions
from rolegate.api.limits import BodyLimit
from rolegate.api.observe import Observe
from rolegate.api.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from rolegate.api.routes import (
    audit,
    authzen,
    changes,
    decisions,
    fields,
    identity,
    members,
    ops,
    portal,
    records,
    references,
    roles,
    schema_upgrades,
    scim,
    sites,
    snapshot,
    sso,
    team,
    webhooks,
    workspaces,
)
from rolegate.api.schemas.problems import Problem
from rolegate.api.write_process import WriteForwarder, forwards
from rolegate.bootstrap import Rolegate, bootstrap

__all__ = ["RolegateApp", "create_app"]

DESCRIPTION = """\
Roles, permissions, seats and teams for SaaS products.

**Authentication**: `Authorization: Bearer rg_<prefix>_<secret>`. A key reaches all the
workspaces of its organization or one workspace, with the `decide` right (check,
batch, fields, lookup) and/or the `admin` right (roles, members, records, audit).

**Admin calls** name the acting member in `Rolegate-Actor: <member id>` (or a site
administrator of the workspace's organization: `site-admin:<user id>`, E1); anyone else
(a member of another workspace, an unknown id, a disabled member) is refused before
anything runs (`actor_refused`). The workspace's product preset authorizes the member
(N12, C1, K13, T10, E7).

**Revisions**: every change returns the workspace's new `revision`; pass it as
`min_revision` to a decision to read your own write.

**Outages**: while the database is unreachable, decisions are answered from the
cached snapshot with `Rolegate-Stale: true`, `Rolegate-Revision` and
`Rolegate-Stale-Age-Ms`; changes answer 503 `store_unavailable` with `Retry-After`.

**Errors** are `application/problem+json` with a stable `type`/`code`, a `detail` that
says what to do, and `rule` (e.g. `N7`) when a seed rule refused the change.
"""

ERROR_STATUSES = {
    "400": "Bad request (`bad_request`).",
    "401": "No valid API key (`unauthenticated`).",
    "403": "The key lacks the right (`key_forbidden`), `Rolegate-Actor` names no one who may act in this workspace (`actor_refused`), or the acting member lacks the right (`permission_denied`).",
    "404": "No such workspace (or the key does not reach it), role, member or record (`not_found`).",
    "409": "Refused by a rule (`rule_violation`); `rule` names it.",
    "413": "The body is larger than the route takes (`body_too_large`): 1 MiB, 8 MiB for the bulk calls, 64 KiB for the calls without a key.",
    "410": "An invitation or password reset link that is unknown, used, revoked or expired (`token_invalid`).",
    "422": "The request does not fit the API or the product schema (`request_invalid`, `unknown_action`, `invalid_record`, `schema_invalid`).",
    "429": "Too many login or password reset attempts (`rate_limited`); `Retry-After` says when to retry.",
    "503": "The database is unreachable (`store_unavailable`): a change, or a decision without a cached snapshot; `Retry-After` says when to retry.",
}


def _problem_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with every error response as problem+json."""
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags)
    components = doc.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    _, top = models_json_schema([(Problem, "serialization")], ref_template="#/components/schemas/{model}")
    schemas.update(top.get("$defs", {}))
    components["securitySchemes"] = {
        "ApiKey": {"type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer rg_<prefix>_<secret>`."}
    }
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in doc.get("paths", {}).items():
        for operation in item.values():
            if path.startswith("/v1/"):
                # Routes for people without a key (password resets, email changes,
                # accepting an invitation) declare `security: []` (PUBLIC_OPERATION).
                operation.setdefault("security", [{"ApiKey": []}])
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for status, text in ERROR_STATUSES.items():
                responses[status] = {"description": text, "content": problem}
            operation["responses"] = dict(sorted(responses.items()))
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


class RolegateApp(FastAPI):
    """FastAPI with `Observe` (request id, latency) around everything, Starlette's
    error middleware included, so a 500 is timed and carries the request id too
    (`add_middleware` would put it inside the error middleware). Wrapped around the
    app's call rather than its middleware stack, which the OpenTelemetry
    instrumentation rebuilds and expects to start with the error middleware. Inside
    it, `FastDecisions` answers the hot decision routes without the framework when
    it can (`api.fast`), and hands everything else to the app. Outside them all, with
    `rolegate serve --write-process`, `write_forwarder` sends changes to the process that
    makes them (`api.write_process`), which observes them itself.
    """

    _observed: Observe | None = None
    _fast: FastDecisions | None = None
    write_forwarder: WriteForwarder | None = None
    _forward: ASGIApp | None = None

    @property
    def fast_decisions(self) -> FastDecisions:
        if self._fast is None:
            self._fast = FastDecisions(self, super().__call__)
        return self._fast

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._observed is None:
            self._observed = Observe(self.fast_decisions)
            # The body limits hold here too: the write process answers a body over its
            # limit and hangs up, which would cut the body's sending off mid-way.
            self._forward = BodyLimit(self.write_forwarder) if self.write_forwarder is not None else None
        if self._forward is not None and scope["type"] == "http" and forwards(scope["method"], scope["path"]):
            await self._forward(scope, receive, send)
        else:
            await self._observed(scope, receive, send)


def _operation_id(route: APIRoute) -> str:
    """`<tag>-<function>`, e.g. `roles-create`: stable names for generated clients."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(rolegate: Rolegate | None = None) -> FastAPI:
    """The API over `rolegate` (default: bootstrapped from the environment, and closed
    when the app shuts down)."""
    owned = rolegate is None
    rg = rolegate if rolegate is not None else bootstrap()

    forwarder = WriteForwarder(rg.settings.write_process_socket) if rg.settings.write_process_socket else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if forwarder is not None:
            await forwarder.aclose()
        if owned:
            rg.close()

    app = RolegateApp(
        title="Rolegate",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url=None,  # served from the package's own files: `api/docs.py`
        redoc_url=None,
    )
    app.write_forwarder = forwarder
    mount_docs(app)
    app.add_middleware(BodyLimit)  # every body of the API and the UI, before any route reads it
    app.state.rolegate = rg
    app.state.auth = Auth(rg)
    install_problem_handlers(app)
    for module in (decisions, authzen, workspaces, roles, members, records, audit, team, references):  # the hot paths are matched first
        app.include_router(module.router)
    for module in (fields, sites, identity, sso, schema_upgrades, portal):  # field-level security (K5-K12); sites, role copy, administrator records; a person's own login
        app.include_router(module.router)
    app.include_router(webhooks.router)  # an organization's webhook endpoints and their deliveries (issue 16)
    app.include_router(changes.router)  # the change feed (issue 16)
    app.include_router(snapshot.router)  # the snapshot download (issue 16)
    scim.install(app)  # SCIM 2.0 provisioning at /scim/v2 (its own errors), the group -> role mapping at /v1/.../directory
    if forwarder is not None:
        forwarder.doors.append(scim.unavailable_answer)  # a directory client reads SCIM errors
    app.include_router(ops.router)  # /metrics, /healthz, /readyz: after the API's routes, which are matched first

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _problem_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customize the document
    if rg.tracing is not None:
        rg.tracing.instrument_app(app)  # only when the OTEL_* variables turned tracing on
    return app
