"""The OpenID AuthZEN interop "Todo" decisions (tests/authzen, copied from
openid/authzen) against the Todo example schema: every expected decision must match,
through `/access/v1/evaluation` and `/access/v1/evaluations`, as the interop's runner
sends them (it compares `decision`, and for `evaluations` the whole array).

The files of drafts 01 and 02 (and 1.0) name subjects by the Dex PID of the interop's
IdP; Rolegate knows members by id or email, so the PEP here sends the email the
scenario's PIP table gives for that PID (tests/authzen/subjects.json). Draft 00 sends
the email itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from rolegate.asgi import create_app
from rolegate.bootstrap import bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization
from tests.api.conftest import Api
from tests.authzen.todo import HERE, TodoApp, build_todo, interop_subjects, todo_data

FILES = ("00", "01", "02")


def _decisions(version: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (HERE / f"decisions-authorization-api-1_0-{version}.json").read_text(encoding="utf-8")
    )
    return data


def _cases(endpoint: str) -> list[Any]:
    cases = []
    for version in FILES:
        for i, case in enumerate(_decisions(version).get(endpoint, [])):
            request = case["request"]
            label = f"{version}-{i}-{request['subject']['id'][:12]}-{request.get('action', {}).get('name', '')}"
            cases.append(pytest.param(request, case["expected"], id=label))
    return cases


@pytest.fixture(scope="module")
def todo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TodoApp]:
    path: Path = tmp_path_factory.mktemp("todo")
    rg = bootstrap(Settings(database_url=f"sqlite:///{path}/t.db", listen=False))
    rg.create_tables()
    org = create_organization(rg.uow(), actor=Actor.system("test"), name="Citadel")
    key = create_api_key(rg.uow(), organization_id=org, rights={"admin", "decide"}, name="admin")
    app = create_app(rg)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        try:
            yield build_todo(Api(portal, client, key), rg, org)
        finally:
            portal.call(client.aclose)
            rg.close()


def _as_pep(entity: dict[str, Any]) -> dict[str, Any]:
    """The subject as the Todo backend sends it to Rolegate: a PID becomes its email."""
    pid = entity["id"]
    return {**entity, "id": interop_subjects().get(pid, pid)}


def _request(request: dict[str, Any]) -> dict[str, Any]:
    out = dict(request)
    if "subject" in out:
        out["subject"] = _as_pep(out["subject"])
    if "evaluations" in out:
        out["evaluations"] = [
            ({**e, "subject": _as_pep(e["subject"])} if "subject" in e else e) for e in out["evaluations"]
        ]
    return out


@pytest.mark.parametrize(("request_body", "expected"), _cases("evaluation"))
def test_authzen_interop_evaluation(todo: TodoApp, request_body: dict[str, Any], expected: bool) -> None:
    r = todo.decide.post("/access/v1/evaluation", json=_request(request_body))
    assert r.status_code == 200, r.text
    assert r.json() == {"decision": expected}


@pytest.mark.parametrize(("request_body", "expected"), _cases("evaluation"))
def test_authzen_interop_evaluation_in_a_batch_of_one(
    todo: TodoApp, request_body: dict[str, Any], expected: bool
) -> None:
    body = _request(request_body)
    r = todo.decide.post("/access/v1/evaluations", json={"evaluations": [body]})
    assert r.status_code == 200, r.text
    assert r.json() == {"evaluations": [{"decision": expected}]}


@pytest.mark.parametrize(("request_body", "expected"), _cases("evaluations"))
def test_authzen_interop_evaluations(
    todo: TodoApp, request_body: dict[str, Any], expected: list[dict[str, bool]]
) -> None:
    r = todo.decide.post("/access/v1/evaluations", json=_request(request_body))
    assert r.status_code == 200, r.text
    assert r.json()["evaluations"] == expected


def test_authzen_interop_files_cover_every_user_and_action() -> None:
    """The copy is whole: 40 evaluations per file and the three batches of 1.0."""
    assert [len(_decisions(v)["evaluation"]) for v in FILES] == [40, 40, 40]
    assert len(_decisions("02")["evaluations"]) == 3
    actions = {c["request"]["action"]["name"] for v in FILES for c in _decisions(v)["evaluation"]}
    assert actions == {"can_read_user", "can_read_todos", "can_create_todo", "can_update_todo", "can_delete_todo"}


def test_authzen_interop_owner_ids_agree_with_the_record_index(todo: TodoApp) -> None:
    """The files' `ownerID` (the stateless PDPs' input) is the owner Rolegate stores."""
    owners = {t["id"]: t["owner"] for t in todo_data()["todos"]}
    for version in FILES:
        for case in _decisions(version)["evaluation"]:
            resource = case["request"]["resource"]
            owner = (resource.get("properties") or {}).get("ownerID") or resource.get("ownerID")
            if owner is not None:
                assert owners[resource["id"]] == owner
    record = todo.tenant.api.get(todo.tenant.url("/records/todo/7240d0db-8ff0-41ec-98b2-34a096273b91")).json()
    assert record["record"]["assignee"] == todo.members["morty@the-citadel.com"]
