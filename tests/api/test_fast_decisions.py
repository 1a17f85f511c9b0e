"""The decisions' fast path (`api.fast`): it answers the hot routes itself, and every
answer, refusals included, is the one the documented route gives: each request below
is sent with the fast path on and off, and the two answers must be equal (status,
headers, body)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from pydantic import StringConstraints, ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from rolegate.api import fast
from rolegate.api.app import RolegateApp
from rolegate.api.fast import PLAIN_BATCH_ON_LOOP_BYTES, parse_batch
from rolegate.api.limits import BATCH_MAX, OFF_LOOP_BYTES
from rolegate.api.routes import decisions
from rolegate.api.schemas.decisions import BatchCheckIn, BatchItemIn
from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.commands import ActionRef, MemberRef
from rolegate.services.workspaces import create_organization
from tests.api.conftest import Api, Tenant, make_tenant


@pytest.fixture
def rolegate(tmp_path: Path) -> Iterator[Rolegate]:
    """A staleness bound longer than any test: on a busy machine a revalidation would
    send a check to the route (right, but not what the counts here expect)."""
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False, max_staleness_ms=600_000))
    rg.create_tables()
    yield rg
    rg.close()


@pytest.fixture
def app(rolegate: Rolegate) -> RolegateApp:
    made = create_app(rolegate)
    assert isinstance(made, RolegateApp)
    return made


@pytest.fixture
def api(app: RolegateApp, admin_key: str) -> Iterator[Api]:
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        try:
            yield Api(portal, client, admin_key)
        finally:
            portal.call(client.aclose)


def _answer(r: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in r.headers.items() if k not in ("x-request-id", "date")}
    return r.status_code, headers, r.content


def both_ways(app: RolegateApp, api: Api, url: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
    """The answer with the fast path on, checked equal to the route's own; the second
    asserts the fast path answered or delegated as `fast` says."""
    fast = app.fast_decisions
    fast.enabled = False
    slow = _answer(api.post(url, **kw))
    fast.enabled = True
    quick = _answer(api.post(url, **kw))
    assert quick == slow, (url, kw)
    return quick


@pytest.fixture
def natero(api: Api) -> Tenant:
    return make_tenant(api, "natero")


def test_the_fast_path_answers_checks_and_batches_as_the_route_does(app: RolegateApp, natero: Tenant) -> None:
    api = natero.api.without_actor()
    api.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"})  # verifies and caches the key
    fast = app.fast_decisions
    before = fast.answered
    status, headers, body = both_ways(app, api, natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"})
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert b'"allowed":true' in body
    both_ways(app, api, natero.url("/check"), json={"member": natero.owner, "action": "accounts.view", "min_revision": natero.revision})
    both_ways(app, api, natero.url("/check"), json={"member": "nobody", "action": "accounts.view"})
    assert api.put(natero.url("/records/account/acme"), json={"assignee": natero.owner}, headers={"Rolegate-Actor": natero.owner}).status_code == 200
    both_ways(app, api, natero.url("/check"), json={"member": natero.owner, "action": "accounts.view", "record": {"type": "account", "id": "acme"}})
    checks = [{"member": natero.owner, "action": a} for a in ("accounts.view", "settings.create_workflows")] * 3
    status, _, body = both_ways(app, api, natero.url("/check/batch"), json={"checks": checks})
    assert status == 200
    assert body.count(b'"action"') == 6
    both_ways(app, api, natero.url("/check/batch"), json={"checks": [*checks, {"member": natero.owner, "action": "accounts.view", "record": {"type": "account", "id": "acme"}}]})
    big = [{"member": natero.owner, "action": "accounts.view"}] * (OFF_LOOP_BYTES // 40)
    assert len(str(big)) > OFF_LOOP_BYTES  # decoded off the loop
    status, _, body = both_ways(app, api, natero.url("/check/batch"), json={"checks": big})
    assert status == 200
    assert body.count(b'"action"') == len(big)
    bigger = big * 3  # past PLAIN_BATCH_ON_LOOP_BYTES: parsed in a worker thread
    assert len(str(bigger)) > PLAIN_BATCH_ON_LOOP_BYTES
    assert both_ways(app, api, natero.url("/check/batch"), json={"checks": bigger})[0] == 200
    with_record = [*big, {"member": natero.owner, "action": "accounts.view", "record": {"type": "account", "id": "acme"}}]
    assert both_ways(app, api, natero.url("/check/batch"), json={"checks": with_record})[0] == 200  # the model, off the loop
    assert fast.answered - before == 9  # each answer above once by the fast path (and once by the route)


BAD_BODIES: list[tuple[str, Any, int]] = [
    ("/check", {"member": "m", "action": "accounts.veiw"}, 422),  # unknown action: the engine refuses
    ("/check", {"member": "m", "action": "accounts.view", "extra": 1}, 422),
    ("/check", {"member": "m"}, 422),
    ("/check", {"member": 7, "action": "accounts.view"}, 422),
    ("/check", {"member": "m" * 400, "action": "accounts.view"}, 422),
    ("/check", {"member": "m", "action": "accounts.view", "min_revision": -1}, 422),
    ("/check", {"member": "m", "action": "accounts.view", "min_revision": 10**30}, 422),
    ("/check", {"member": "m", "action": "accounts.view", "min_revision": 10_000}, 409),  # not reached: the route says so
    ("/check", {"member": "m", "action": "accounts.view", "record": {"type": "task", "id": "x"}}, 422),  # a record the schema refuses
    ("/check", {"member": "m", "action": "accounts.view", "record": {"type": "account"}}, 422),
    ("/check", [1, 2], 422),
    ("/check/batch", {"checks": [{"member": "m", "action": "accounts.view"}, {"member": "m", "action": "nope.nope"}]}, 422),
    ("/check/batch", {"checks": [{"member": "m", "action": "accounts.view", "x": 1}]}, 422),
    ("/check/batch", {"checks": [{"member": "m", "action": "accounts.view"}] * 10_001}, 422),
    ("/check/batch", {"checks": "no"}, 422),
]


@pytest.mark.parametrize(("path", "body", "status"), BAD_BODIES, ids=[f"{p}-{i}" for i, (p, _, _) in enumerate(BAD_BODIES)])
def test_a_bad_body_gets_the_routes_own_problem(app: RolegateApp, natero: Tenant, path: str, body: Any, status: int) -> None:
    api = natero.api.without_actor()
    api.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"})
    got, headers, text = both_ways(app, api, natero.url(path), json=body)
    assert got == status, text
    assert headers["content-type"] == "application/problem+json"


RAW_BODIES: list[tuple[bytes, dict[str, str]]] = [
    (b'{"member": "m", "action": "accounts.view"', {}),  # cut short
    (b"", {}),
    (b'{"member": "m", "action": "accounts.view"}', {"Content-Type": "text/plain"}),
    (b'{"member": "m", "action": "accounts.view", "min_revision": NaN}', {}),
    (b'{"member": "\\ud800", "action": "accounts.view"}', {}),
    (b'{"member": "m\\u0000", "action": "accounts.view"}', {}),
    (b'{"member": "m", "member": "n", "action": "accounts.view"}', {}),
    (b"\xff\xfe", {}),
    (b'{"member": "m", "action": "accounts.view", "min_revision": 1.5}', {}),
    (b'{"member": "m", "action": "accounts.view", "min_revision": "1"}', {}),
]


@pytest.mark.parametrize(("raw", "headers"), RAW_BODIES)
def test_a_malformed_body_gets_the_same_answer_both_ways(app: RolegateApp, natero: Tenant, raw: bytes, headers: dict[str, str]) -> None:
    api = natero.api.without_actor()
    api.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"})
    both_ways(app, api, natero.url("/check"), content=raw, headers={"Content-Type": "application/json", **headers})


def test_keys_and_tenants_are_refused_as_the_route_refuses(app: RolegateApp, rolegate: Rolegate, natero: Tenant, api: Api) -> None:
    """401 (no key, a wrong key), 403 (an admin-only key), 404 (a workspace of another
    organization, or none): the fast path never answers for a key it has not seen
    reach the workspace, and the answers are the route's, both ways."""
    body = {"json": {"member": natero.owner, "action": "accounts.view"}}
    other_org = create_organization(rolegate.uow(), actor=Actor.system("test"), name="Globex")
    other_key = create_api_key(rolegate.uow(), organization_id=other_org, rights={"admin", "decide"}, name="globex")
    admin_only = create_api_key(rolegate.uow(), organization_id=_org_of(api, natero), rights={"admin"}, name="admin only")
    fast = app.fast_decisions
    before = fast.answered
    for _ in range(2):  # the second time, every key has been verified and cached
        assert both_ways(app, api.without_key(), natero.url("/check"), **body)[0] == 401
        assert both_ways(app, api.as_(key="rg_nope_nope"), natero.url("/check"), **body)[0] == 401
        assert both_ways(app, api.as_(key=admin_only), natero.url("/check"), **body)[0] == 403
        assert both_ways(app, api.as_(key=other_key), natero.url("/check"), **body)[0] == 404
        assert both_ways(app, api.as_(key=other_key), natero.url("/check/batch"), json={"checks": []})[0] == 404
        assert both_ways(app, api, "/v1/workspaces/no-such-workspace/check", **body)[0] == 404
        assert both_ways(app, api, natero.url("/check/"), **body)[0] in (307, 404)
    assert fast.answered == before


def _org_of(api: Api, t: Tenant) -> str:
    org: str = api.get(t.url()).json()["organization_id"]
    return org


_TIMED = re.compile(r'rolegate_http_request_duration_seconds_count\{method="POST",route="/v1/workspaces/\{workspace_id\}/check",status="200"\} (\S+)')
_ALLOWED = re.compile(r'rolegate_decisions_total\{result="allowed",route="check"\} (\S+)')


def _metric(api: Api, pattern: re.Pattern[str]) -> float:
    found = pattern.search(api.get("/metrics").text)
    return float(found.group(1)) if found else 0.0


def test_the_fast_path_counts_and_labels_like_the_route(app: RolegateApp, natero: Tenant) -> None:
    api = natero.api.without_actor()
    api.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"})
    timed, allowed, answered = _metric(api, _TIMED), _metric(api, _ALLOWED), app.fast_decisions.answered
    for _ in range(3):
        api.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"})
    assert app.fast_decisions.answered == answered + 3
    assert _metric(api, _TIMED) == timed + 3  # labelled with the route's template
    assert _metric(api, _ALLOWED) == allowed + 3


def test_an_app_with_middleware_it_does_not_know_is_not_bypassed(rolegate: Rolegate, natero: Tenant, admin_key: str) -> None:
    """Tracing (OpenTelemetry) adds middleware: then every request goes through it."""
    seen: list[str] = []

    class Watch:
        def __init__(self, inner: ASGIApp) -> None:
            self.inner = inner

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(scope.get("path", ""))
            await self.inner(scope, receive, send)

    watched = create_app(rolegate)
    assert isinstance(watched, RolegateApp)
    watched.add_middleware(Watch)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=watched), base_url="http://rolegate.test")
        api = Api(portal, client, admin_key)
        for _ in range(3):
            assert api.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"}).status_code == 200
        portal.call(client.aclose)
    assert watched.fast_decisions.answered == 0
    assert seen.count(natero.url("/check")) == 3


BATCHES: list[bytes] = [
    b'{"checks": [{"member": "m", "action": "a"}]}',
    b'{"checks": [], "min_revision": 3}',
    b'{"checks": [{"member": "m", "action": "a"}], "min_revision": null}',
    b'{"checks": [{"member": "m", "action": "a"}], "min_revision": "3"}',
    b'{"checks": [{"member": "m", "action": "a"}], "min_revision": 3.0}',
    b'{"checks": [{"member": "m", "action": "a"}], "min_revision": -1}',
    b'{"checks": [{"member": "m", "action": "a"}], "min_revision": true}',
    b'{"checks": [{"member": "m", "action": "a"}], "min_revision": 4611686018427387905}',
    b'{"checks": [{"member": "", "action": "a"}]}',
    b'{"checks": [{"member": "' + b"m" * 36 + b'", "action": "a"}]}',
    b'{"checks": [{"member": "' + b"m" * 37 + b'", "action": "a"}]}',
    b'{"checks": [{"member": "m", "action": "' + b"a" * 201 + b'"}]}',
    b'{"checks": [{"member": "\\u00e9\\u00e9", "action": "a\\u0000"}]}',
    b'{"checks": [{"member": 1, "action": "a"}]}',
    b'{"checks": [{"member": "m", "action": "a", "record": null}]}',
    b'{"checks": [{"member": "m", "action": "a", "record": {"type": "account", "id": "x"}}]}',
    b'{"checks": [{"member": "m", "action": "a", "other": 1}]}',
    b'{"checks": [{"member": "m", "member": "n", "action": "a"}]}',
    b'{"checks": [{"member": "m"}, {"member": "m", "action": "a"}]}',
    b'{"checks": [["m", "a"]]}',
    b'{"checks": {}}',
    b'{"checks": [], "extra": 1}',
    b'{"min_revision": 1}',
    b"[]",
    b"",
    b'{"checks": [{"member": "\\ud800", "action": "a"}]}',
]


@pytest.mark.parametrize("raw", BATCHES)
def test_parse_batch_accepts_what_the_model_accepts(raw: bytes) -> None:
    try:
        model: BatchCheckIn | None = BatchCheckIn.model_validate_json(raw)
    except ValidationError:
        model = None
    parsed = parse_batch(raw)
    if model is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert (parsed.checks, parsed.min_revision) == (model.checks, model.min_revision)


def test_parse_batch_checks_the_models_lengths() -> None:
    lengths = {name: next(m for m in get_args(ref)[1:] if isinstance(m, StringConstraints)) for name, ref in (("member", MemberRef), ("action", ActionRef))}
    assert (lengths["member"].min_length, lengths["member"].max_length) == (1, fast._MEMBER_MAX)
    assert (lengths["action"].min_length, lengths["action"].max_length) == (1, fast._ACTION_MAX)
    assert BatchCheckIn.model_fields["checks"].metadata[0].max_length == BATCH_MAX


def test_a_plain_batch_renders_as_the_general_one(rolegate: Rolegate, natero: Tenant) -> None:
    snap = rolegate.snapshots.get(natero.id)
    members = [natero.owner, "nobody"]
    checks = [BatchItemIn(member=m, action=a) for m in members for a in sorted(snap.schema.actions)] * 2
    body = BatchCheckIn.model_construct(checks=checks, min_revision=None)
    plain = decisions.decide_plain_batch(snap, body)
    assert isinstance(plain, bytes)
    assert plain == decisions.decide_batch(snap, body)
    unknown = BatchItemIn(member=natero.owner, action="nope.nope")
    bad = BatchCheckIn.model_construct(checks=[*checks[:3], unknown], min_revision=None)
    refused = decisions.decide_plain_batch(snap, bad)
    assert isinstance(refused, Response)
    assert refused.status_code == 422
    assert b"checks[3]" in refused.body


def test_the_fast_path_answers_authzen_evaluations_as_the_route_does(app: RolegateApp, natero: Tenant) -> None:
    """Issue 16: the AuthZEN evaluation decides as fast as `/check` (same fast path),
    with the route's answers: by member id, by an email the directory of this revision
    holds (read once by the route), a subject of another type, an unknown action, a
    malformed body, a header naming another workspace or too long."""
    api = natero.api.without_actor()
    url = "/access/v1/evaluation"
    named = {"Rolegate-Workspace": natero.id}

    def body(subject: str, action: str = "accounts.view", kind: str = "user") -> dict[str, Any]:
        return {"subject": {"type": kind, "id": subject}, "action": {"name": action}, "resource": {"type": "account", "id": "acme"}}

    api.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"})  # verifies and caches the key
    fast = app.fast_decisions
    before = fast.answered
    status, headers, answer = both_ways(app, api, url, json=body(natero.owner), headers=named)
    assert (status, answer) == (200, b'{"decision":true}')
    assert headers["content-type"] == "application/json"
    both_ways(app, api, url, json=body("owner@natero.test"), headers=named)  # the route reads the directory first
    assert both_ways(app, api, url, json=body("OWNER@natero.test"), headers=named)[2] == b'{"decision":true}'
    assert both_ways(app, api, url, json=body("nobody@natero.test"), headers=named)[2] == b'{"decision":false}'
    assert both_ways(app, api, url, json=body(natero.owner, kind="group"), headers=named)[2] == b'{"decision":false}'
    answered = fast.answered - before
    assert answered >= 4  # each of the above by the fast path, but the directory's first read
    assert both_ways(app, api, url, json=body(natero.owner, "accounts.veiw"), headers=named)[0] == 422
    assert both_ways(app, api, url, json={"subject": {"type": "user"}}, headers=named)[0] == 400
    assert both_ways(app, api, url, json=body(natero.owner), headers={"Rolegate-Workspace": "x" * 37})[0] == 400
    assert both_ways(app, api, url, json=body(natero.owner), headers={"Rolegate-Workspace": "not-a-workspace"})[0] == 404
    assert both_ways(app, api, url, json=body(natero.owner))[0] == 400  # an organization's key names no workspace
