"""Every admin route refuses an acting member whose role has no admin right.

The table is the app itself: each operation under `/v1/workspaces/{workspace_id}`
(taken from `create_app(...)`, so a new route joins without editing this file) is
called with a valid organization-wide admin API key on behalf of a member whose role
holds no admin right (Natero's CSM), with a body that conforms to the operation's
OpenAPI schema (the first Hypothesis generates, derandomized: the same every run), so
request validation never answers first; where such a body would not reach the right
(records moved only when assigned, copy targets the key must reach), `BODIES` names one.
Each must answer 403 `permission_denied` and write nothing: the workspace revision,
the audit log and every table's rows stay as they were.

The routes that are not admin routes are named below with the reason; a listed route
the app no longer has fails the table, so the list cannot rot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, Phase, find, settings
from schemathesis import GenerationMode
from sqlalchemy import select

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization
from rolegate.store.tables import metadata
from tests.api.app_routes import api_document, api_operations
from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant

WORKSPACE = "/v1/workspaces/{workspace_id}"

NOT_ADMIN: dict[tuple[str, str], str] = {
    ("POST", WORKSPACE + "/check"): "a decision: asks whether a member may act, on the decide right of the key",
    ("POST", WORKSPACE + "/check/batch"): "a decision (many checks on one snapshot)",
    ("POST", WORKSPACE + "/lookup"): "a decision (which records a member may act on)",
    ("POST", WORKSPACE + "/fields/filter"): "a decision (removes the fields a member may not read)",
    ("POST", WORKSPACE + "/fields/check-write"): "a decision (may a member write these fields)",
    ("POST", WORKSPACE + "/fields/visible"): "a decision (the fields a member sees)",
    ("POST", WORKSPACE + "/records/visible"): "a decision (a page of the ids a member may act on)",
    ("POST", WORKSPACE + "/explain"): "a decision's reasons (the chain the engine gives), on the decide right",
    (
        "GET",
        WORKSPACE,
    ): "the workspace itself (name, preset, revision): what any key that reaches it may read, no member data",
    (
        "GET",
        WORKSPACE + "/schema",
    ): "the product's catalog (public preset data), read by integrations without an acting member",
    (
        "GET",
        WORKSPACE + "/records/{record_type}/{record_id}",
    ): "the host reads the record it wrote; an acting member only one they may view (else 404, tested in test_api_style)",
    (
        "PUT",
        WORKSPACE + "/settings",
    ): "billing (plan, seats): the platform's call with an organization-wide key, no acting member",
    ("GET", WORKSPACE + "/changes"): "the change feed: what an SDK holding a decide key follows, no acting member",
    ("GET", WORKSPACE + "/changes/stream"): "the change feed as Server-Sent Events (the SDK's stream)",
    ("GET", WORKSPACE + "/snapshot"): "the snapshot document an SDK compiles its decisions from, on any key reaching the workspace",
}
"""(method, path) -> why it needs no admin right of the acting member."""

REFUSED_BY_RULE: dict[tuple[str, str], tuple[int, str, str]] = {
    ("POST", WORKSPACE + "/ownership"): (409, "rule_violation", "N12"),
}
"""Routes no admin right opens: only an owner transfers ownership (N12)."""

BODIES: dict[tuple[str, str], Callable[[dict[str, str]], Any]] = {
    # Writing records needs no admin right; moving an assigned one does (N12): the body
    # unassigns / deletes the assigned record.
    ("POST", WORKSPACE + "/records/bulk"): lambda ids: {
        "records": [{"type": "account", "id": "rec-1", "assignee": None}]
    },
    ("POST", WORKSPACE + "/records/delete"): lambda ids: {"records": [{"type": "account", "id": "rec-1"}]},
    # The targets must be workspaces the key reaches (else 404 before any right is asked).
    ("POST", WORKSPACE + "/roles/{role_id}/copy"): lambda ids: {"targets": [ids["other_workspace_id"]]},
}
"""Bodies where the smallest schema-valid one would be refused before the right is
asked, or would not need it."""

PATH_VALUES = {
    "record_type": "account",
    "record_id": "rec-1",
    "object_key": "account",
    "name": "name",
    "group": "Engineering",
}
"""Path parameters with the same value everywhere; the others are ids made in `env`."""


@dataclass(frozen=True)
class Env:
    rolegate: Rolegate
    schema: Any
    """The app's OpenAPI document, loaded by schemathesis."""
    owner: Tenant
    csm: Api
    """Acting as the CSM member (no admin right) with the organization's admin key."""
    ids: dict[str, str]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp: Path = tmp_path_factory.mktemp("admin-rights")
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp / 'rolegate.db'}", listen=False))
    rg.create_tables()
    org = create_organization(rg.uow(), actor=Actor.system("test"), name="Acme")
    key = create_api_key(rg.uow(), organization_id=org, rights={"admin", "decide"}, name="admin")
    app = create_app(rg)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        try:
            t = make_tenant(Api(portal, client, key), "natero")
            csm = invite(t, "csm@acme.test", "csm")
            other = invite(t, "other@acme.test", "csm")
            r = t.api.post(
                t.url("/roles"), json={"name": "Custom", "grants": ["accounts.view_all"], "landing_page": "dashboard"}
            )
            assert r.status_code == 201, r.text
            role = r.json()["role"]["id"]
            r = t.api.put(t.url("/records/account/rec-1"), json={"assignee": other})
            assert r.status_code in (200, 201), r.text
            r = t.api.post(t.url("/invitations"), json={"email": "invited@acme.test", "role": "guest"})
            assert r.status_code == 201, r.text
            invitation = r.json()["invitation"]["id"]
            other_ws = make_tenant(t.api.without_actor(), "natero", owner_email="owner2@natero.test").id
            ids = {
                "other_workspace_id": other_ws,
                "workspace_id": t.id,
                "member_id": other,
                "role_id": role,
                "invitation_id": invitation,
                "organization_id": org,
            }
            schema = schemathesis.openapi.from_dict(api_document())
            yield Env(rg, schema, t, t.api.as_(actor=csm), ids)
        finally:
            portal.call(client.aclose)
            rg.close()


def database_state(rg: Rolegate) -> dict[str, str]:
    """A digest of every table's rows: any write shows."""
    out = {}
    with rg.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            out[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


def conforming_body(env: Env, method: str, path: str, path_parameters: dict[str, str]) -> Any:
    """A body that conforms to the operation's OpenAPI schema, the same every run."""
    operation = env.schema[path][method]
    if not operation.body:
        return None
    strategy = operation.as_strategy(
        generation_mode=GenerationMode.POSITIVE, path_parameters=path_parameters, headers={"Rolegate-Actor": "x"}
    )
    case = find(
        strategy,
        lambda _: True,
        settings=settings(
            database=None, derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
        ),
    )
    return case.body


OPERATIONS = [(m, p) for m, p in api_operations() if p == WORKSPACE or p.startswith(WORKSPACE + "/")]


def test_every_listed_route_is_a_route_of_the_app() -> None:
    listed = set(NOT_ADMIN) | set(REFUSED_BY_RULE) | set(BODIES)
    assert listed - {("POST", WORKSPACE + "/explain")} <= set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op not in NOT_ADMIN], ids=lambda v: str(v))
def test_an_admin_route_refuses_a_member_without_the_right(env: Env, method: str, path: str) -> None:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    values = {**PATH_VALUES, **env.ids}
    unknown = [n for n in names if n not in values]
    assert not unknown, f"teach this table a real value for the path parameter(s) {unknown} of {method} {path}"
    parameters = {n: values[n] for n in names}
    make_body = BODIES.get((method, path))
    body = make_body(env.ids) if make_body is not None else conforming_body(env, method, path, parameters)
    before = database_state(env.rolegate)
    r = env.csm.request(method, path.format(**parameters), json=body)
    if (method, path) in REFUSED_BY_RULE:
        status, code, rule = REFUSED_BY_RULE[method, path]
        assert_problem(r, status, code, rule=rule)
    else:
        assert_problem(r, 403, "permission_denied")
    assert database_state(env.rolegate) == before, f"{method} {path} refused but wrote"
